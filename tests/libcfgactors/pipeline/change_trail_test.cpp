#define CAF_SUITE change_trail
// A replica builds each version in the tree of one it let go of: brought up
// to the current version along the paths changed since, it equals a copy.
#include "cfgactors_test.hpp"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cfgactors/diff.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/snapshot.hpp"
#include "pipeline/change_trail.hpp"

namespace change_trail_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

/// Version `version` of `tree`, changed from `from` at the paths where the
/// two trees differ (as the replica records a patch's paths).
snapshot at_version(uint64_t version, json tree, const snapshot* from) {
  snapshot result;
  result.version = version;
  if (from != nullptr) {
    result.changes = std::make_shared<const std::vector<std::string>>(
      changed_paths(from->effective, tree));
    result.changes_from = from->version;
  }
  result.effective = std::move(tree);
  return result;
}

} // namespace

CAF_TEST(an older tree is brought up along the paths changed since) {
  detail::change_trail trail;
  auto v1 = at_version(1, j(R"({"a":{"b":1,"c":[1]},"d":2})"), nullptr);
  auto v2 = at_version(2, j(R"({"a":{"b":5,"c":[1]},"d":2})"), &v1);
  auto v3 = at_version(3, j(R"({"a":{"c":[2]},"e":{"f":1},"d":2})"), &v2);
  trail.push(v1);
  trail.push(v2);
  trail.push(v3);
  auto tree = v1.effective;
  CAF_CHECK(trail.bring_up(tree, 1, v3));
  CAF_CHECK_EQUAL(tree, v3.effective);
  tree = v2.effective;
  CAF_CHECK(trail.bring_up(tree, 2, v3));
  CAF_CHECK_EQUAL(tree, v3.effective);
}

CAF_TEST(a broken trail copies the whole tree) {
  detail::change_trail trail;
  auto v1 = at_version(1, j(R"({"a":1})"), nullptr);
  auto v2 = at_version(2, j(R"({"a":2})"), &v1);
  auto v5 = at_version(5, j(R"({"a":5,"b":1})"), nullptr); // installed whole
  trail.push(v1);
  trail.push(v2);
  trail.push(v5);
  auto tree = v1.effective;
  CAF_CHECK(!trail.bring_up(tree, 1, v5));
  CAF_CHECK_EQUAL(tree, v5.effective);
  // A version the trail never saw, and a current version it did not record.
  auto v6 = at_version(6, j(R"({"a":6})"), &v5);
  tree = v1.effective;
  CAF_CHECK(!trail.bring_up(tree, 4, v5));
  CAF_CHECK_EQUAL(tree, v5.effective);
  tree = v1.effective;
  CAF_CHECK(!trail.bring_up(tree, 5, v6));
  CAF_CHECK_EQUAL(tree, v6.effective);
}

CAF_TEST(random versions brought up from older trees equal a copy) {
  std::mt19937 rng{61206};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const char* keys[] = {"a", "b", "c"};
  detail::change_trail trail;
  std::vector<snapshot> versions;
  versions.push_back(at_version(1, json::object(), nullptr));
  trail.push(versions.back());
  size_t mismatches = 0;
  size_t along_paths = 0;
  for (uint64_t v = 2; v < 1500; ++v) {
    auto tree = versions.back().effective;
    json* node = &tree;
    for (int depth = 1 + pick(3); depth > 1; --depth) {
      auto& next = (*node)[keys[pick(3)]];
      if (!next.is_object())
        next = json::object();
      node = &next;
    }
    switch (pick(4)) {
      case 0:
        node->erase(keys[pick(3)]);
        break;
      case 1:
        (*node)[keys[pick(3)]] = json::array({pick(3)});
        break;
      default:
        (*node)[keys[pick(3)]] = pick(4);
    }
    // Now and then a version installed whole (a full snapshot).
    auto whole = pick(50) == 0;
    versions.push_back(
      at_version(v, std::move(tree), whole ? nullptr : &versions.back()));
    trail.push(versions.back());
    auto back = std::min<size_t>(versions.size() - 1, 1 + pick(4));
    auto& old = versions[versions.size() - 1 - back];
    auto built = old.effective;
    if (trail.bring_up(built, old.version, versions.back()))
      ++along_paths;
    if (built != versions.back().effective)
      ++mismatches;
  }
  CAF_CHECK_EQUAL(mismatches, 0u);
  CAF_CHECK_GREATER(along_paths, 1000u);
}

CAF_TEST(a trail reaches back as many versions as its capacity) {
  // A replica's pool gets back trees of the versions its history let go
  // of, `history_size` versions old: its trail must reach that far, or
  // every version copies the whole tree.
  constexpr uint64_t history = 100;
  detail::change_trail trail{history + 10};
  detail::change_trail short_trail{history / 2};
  std::vector<snapshot> versions;
  versions.push_back(at_version(1, j(R"({"n":1,"rest":{"x":1}})"), nullptr));
  trail.push(versions.back());
  short_trail.push(versions.back());
  for (uint64_t v = 2; v <= 2 * history; ++v) {
    auto tree = versions.back().effective;
    tree["n"] = v;
    versions.push_back(at_version(v, std::move(tree), &versions.back()));
    trail.push(versions.back());
    short_trail.push(versions.back());
  }
  auto& current = versions.back();
  auto& evicted = versions[versions.size() - 1 - history];
  auto built = evicted.effective;
  CAF_CHECK(trail.bring_up(built, evicted.version, current));
  CAF_CHECK_EQUAL(built, current.effective);
  // Past its capacity a trail copies the whole tree (still equal).
  built = evicted.effective;
  CAF_CHECK(!short_trail.bring_up(built, evicted.version, current));
  CAF_CHECK_EQUAL(built, current.effective);
  auto& too_old = versions[versions.size() - 1 - (history + 11)];
  built = too_old.effective;
  CAF_CHECK(!trail.bring_up(built, too_old.version, current));
  CAF_CHECK_EQUAL(built, current.effective);
}

CAF_TEST(a trail of versions that changed much copies the whole tree) {
  // Bringing a tree up along more paths than max_paths costs more than a
  // copy: the trail copies (the result is the same).
  detail::change_trail trail{16};
  std::vector<snapshot> versions;
  json tree = json::object();
  versions.push_back(at_version(1, tree, nullptr));
  trail.push(versions.back());
  auto per_version = detail::change_trail::max_paths / 4 + 1;
  for (uint64_t v = 2; v <= 6; ++v) {
    for (size_t i = 0; i < per_version; ++i)
      tree["k" + std::to_string(i)] = v;
    versions.push_back(at_version(v, tree, &versions.back()));
    trail.push(versions.back());
  }
  auto& current = versions.back();
  // Three versions back: 3 x (max_paths / 4 + 1) paths, within the limit.
  auto built = versions[versions.size() - 4].effective;
  CAF_CHECK(trail.bring_up(built, versions[versions.size() - 4].version,
                           current));
  CAF_CHECK_EQUAL(built, current.effective);
  // Four back: past it.
  built = versions[versions.size() - 5].effective;
  CAF_CHECK(!trail.bring_up(built, versions[versions.size() - 5].version,
                            current));
  CAF_CHECK_EQUAL(built, current.effective);
}

} // namespace change_trail_suite

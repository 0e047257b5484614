#define CAF_SUITE version_history
// The read side's ring: versions share what their writes left alone, older
// ones let go of the JSON readers made of them, and every version reads
// back as it was made (tree and hash), whatever its write changed.
#include "cfgactors_test.hpp"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "model/config_tree.hpp"
#include "model/make_snapshot.hpp"
#include "model/tree_diff.hpp"
#include "tree_parts.hpp"
#include "pipeline/version_history.hpp"

namespace version_history_suite {

using namespace cfgactors;

namespace {

constexpr auto whole = detail::version_history::whole_trees;

/// A random value for a member: scalars of every kind (numbers that only
/// differ in kind or sign among them), small objects and arrays.
json random_value(std::mt19937& rng, int depth) {
  switch (rng() % (depth > 2 ? 7 : 10)) {
    case 0: return static_cast<int64_t>(rng() % 5);
    case 1: return static_cast<double>(rng() % 3); // 1.0 next to 1
    case 2: return rng() % 2 == 0 ? 0.0 : -0.0;
    case 3: return "s" + std::to_string(rng() % 4);
    case 4: return rng() % 2 == 0;
    case 5: return nullptr;
    case 6: return json::array({static_cast<int64_t>(rng() % 3), "x"});
    case 7: return json::object();
    default: {
      auto obj = json::object();
      auto n = rng() % 4;
      for (unsigned i = 0; i < n; ++i)
        obj["k" + std::to_string(rng() % 6)] = random_value(rng, depth + 1);
      return obj;
    }
  }
}

/// One write's worth of change to `tree`, as a write edits a persistent
/// tree: set, replace (also an object by a scalar and back) or remove one
/// to three members anywhere in it.
void mutate(std::mt19937& rng, detail::config_tree& tree) {
  auto n = 1 + rng() % 3;
  for (unsigned i = 0; i < n; ++i) {
    config_path at;
    for (auto depth = 1 + rng() % 3; depth > 0; --depth)
      at.segments.emplace_back("k" + std::to_string(rng() % 6));
    if (rng() % 4 == 0)
      tree.erase(at);
    else
      tree.assign(at, random_value(rng, 1)); // refused across a scalar
  }
}

/// Versions 1..n of random writes, as the store makes them: each snapshot
/// a tree built on the one before, with the paths its write changed.
std::vector<snapshot_ptr> random_versions(std::mt19937& rng, int n) {
  std::vector<snapshot_ptr> result;
  snapshot_ptr prev = snapshot::empty();
  detail::config_tree tree{prev->effective.tree()};
  for (int v = 1; v <= n; ++v) {
    mutate(rng, tree);
    auto changes = std::make_shared<const std::vector<std::string>>(
      detail::changed_paths(*prev->effective.tree(), tree.root()));
    auto snap = detail::make_snapshot(static_cast<uint64_t>(v), "test", {},
                                      layer_data{tree.root_ptr()}, v, nullptr,
                                      {}, {}, {}, prev.get(), changes);
    result.push_back(snap);
    prev = std::move(snap);
  }
  return result;
}

/// A ring of capacity 100 that was pushed `made`, in order.
detail::version_history history_of(const std::vector<snapshot_ptr>& made) {
  detail::version_history history{100, {}};
  for (auto& snap : made)
    history.push(snap);
  return history;
}

} // namespace

CAF_TEST(every version reads back with its tree and hash) {
  for (unsigned seed = 1; seed <= 40; ++seed) {
    std::mt19937 rng{seed};
    auto made = random_versions(rng, 30);
    auto history = history_of(made);
    CAF_REQUIRE_EQUAL(history.size(), 31u); // and version 0
    for (auto& snap : made) {
      auto got = history.lookup(snap->version);
      CAF_REQUIRE(got);
      CAF_CHECK_EQUAL((*got)->version, snap->version);
      CAF_CHECK_EQUAL((*got)->hash, snap->hash);
      CAF_CHECK_EQUAL(canonical_hash(*(*got)->effective), snap->hash);
      if (*(*got)->effective != *snap->effective)
        CAF_FAIL("seed " << seed << " version " << snap->version << ": "
                         << (*got)->effective->dump() << " != "
                         << snap->effective->dump());
    }
    auto zero = history.lookup(0);
    CAF_REQUIRE(zero);
    CAF_CHECK_EQUAL(*(*zero)->effective, json::object());
  }
}

CAF_TEST(an older version lets go of the JSON readers made of it) {
  std::mt19937 rng{5};
  auto made = random_versions(rng, 3);
  detail::version_history history{100, {}};
  for (auto& snap : made)
    history.push(snap);
  // A reader made version 1's JSON while it was new.
  auto json_of_1 = *history.find(1)->effective;
  CAF_CHECK(history.find(1)->effective.has_json());
  auto more = random_versions(rng, static_cast<int>(whole) + 3);
  for (std::size_t i = 3; i < more.size(); ++i) {
    // Numbered on from version 3 (random_versions starts at 1 again).
    auto& s = *more[i];
    history.push(detail::make_snapshot(i + 1, "test", {}, s.effective, 0,
                                       nullptr, {}, {}, {}, nullptr, nullptr));
  }
  auto old = history.find(1);
  CAF_REQUIRE(old != nullptr);
  CAF_CHECK(!old->effective.has_json());
  CAF_CHECK(old->effective.has_tree());
  CAF_CHECK_EQUAL(old->hash, made[0]->hash);
  CAF_CHECK_EQUAL(*old->effective, json_of_1);
  CAF_CHECK(!old->effective.has_json() || old != made[0]);
  // A version held as JSON only (restored, installed whole) keeps it: the
  // very snapshot.
  auto restored = snapshot::make(100, "test", {}, json{{"a", 1}}, 0);
  history.push(restored);
  for (uint64_t v = 101; v <= 101 + whole; ++v)
    history.push(snapshot::make(v, "test", {}, json{{"a", v}}, 0));
  CAF_CHECK(history.find(100) == restored);
}

CAF_TEST(the versions of a large config share all but what each changed) {
  // 10,000 values and 100 versions, each changing one: the ring's trees
  // together are barely more than one.
  auto cfg = json::object();
  for (int i = 0; i < 10000; ++i)
    cfg["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  auto first = detail::make_snapshot(1, "test", {},
                                     layer_data{detail::node_of(cfg)}, 0,
                                     nullptr, {}, {}, {}, nullptr, nullptr);
  detail::version_history history{100, {first}};
  detail::config_tree tree{first->effective.tree()};
  auto prev = first;
  for (uint64_t v = 2; v <= 100; ++v) {
    auto path = "s" + std::to_string(v % 100) + ".k" + std::to_string(v);
    tree.assign(*config_path::parse(path), json(-1));
    auto changes = std::make_shared<const std::vector<std::string>>(
      std::vector<std::string>{path});
    auto snap = detail::make_snapshot(v, "test", {},
                                      layer_data{tree.root_ptr()}, 0, nullptr,
                                      {}, {}, {}, prev.get(), changes);
    CAF_CHECK_EQUAL(snap->hash, canonical_hash(detail::to_json(tree.root())));
    history.push(snap);
    prev = snap;
  }
  std::unordered_set<const void*> one;
  test::collect_parts(*first->effective.tree(), one);
  std::unordered_set<const void*> all;
  for (uint64_t v = 1; v <= 100; ++v)
    test::collect_parts(*history.find(v)->effective.tree(), all);
  CAF_MESSAGE("parts of one tree: " << one.size() << ", of 100 versions: "
                                    << all.size());
  CAF_CHECK_LESS(all.size(), one.size() + 100 * 12);
}

CAF_TEST(diffs between older versions are those of their trees) {
  std::mt19937 rng{7};
  auto made = random_versions(rng, 20);
  auto history = history_of(made);
  for (auto [from, to] : {std::pair{2, 9}, std::pair{9, 2}, std::pair{5, 20},
                          std::pair{1, 16}}) {
    auto d = history.diff(from, to);
    CAF_REQUIRE(d);
    auto& x = *made[static_cast<size_t>(from - 1)]->effective;
    auto& y = *made[static_cast<size_t>(to - 1)]->effective;
    CAF_CHECK_EQUAL(d->patch, json_patch(x, y));
    CAF_CHECK_EQUAL(d->view, diff_view(x, y));
  }
}

CAF_TEST(a version that goes back starts the ring over) {
  std::mt19937 rng{11};
  auto made = random_versions(rng, 12);
  auto history = history_of(made);
  history.push(made[4]); // version 5 again: a replica's full snapshot
  CAF_CHECK_EQUAL(history.size(), 1u);
  CAF_CHECK_EQUAL(history.current()->version, 5u);
  CAF_CHECK(history.find(4) == nullptr);
}

} // namespace version_history_suite

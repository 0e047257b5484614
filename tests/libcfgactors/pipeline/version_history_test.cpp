#define CAF_SUITE version_history
// The read side's ring: the newest versions keep their trees, older ones the
// patch back from the next version, and every version reads back as it was
// made (tree and hash), whatever its write changed.
#include "cfgactors_test.hpp"

#include <memory>
#include <random>
#include <string>
#include <vector>

#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "pipeline/tree_pool.hpp"
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

/// One write's worth of change to `tree`: set, replace (also an object by a
/// scalar and back) or remove one to three members anywhere in it.
void mutate(std::mt19937& rng, json& tree) {
  auto n = 1 + rng() % 3;
  for (unsigned i = 0; i < n; ++i) {
    json* at = &tree;
    while (at->is_object() && !at->empty() && rng() % 3 != 0) {
      auto it = at->begin();
      std::advance(it, static_cast<long>(rng() % at->size()));
      if (!it->is_object())
        break;
      at = &*it;
    }
    if (!at->is_object())
      continue;
    auto key = "k" + std::to_string(rng() % 6);
    if (rng() % 4 == 0)
      at->erase(key);
    else
      (*at)[key] = random_value(rng, 1);
  }
}

/// Versions 1..n of random writes, as the store makes them: each snapshot
/// built on the one before, with the paths its write changed.
std::vector<snapshot_ptr> random_versions(std::mt19937& rng, int n,
                                          const std::shared_ptr<detail::tree_pool>& pool
                                          = nullptr) {
  std::vector<snapshot_ptr> result;
  snapshot_ptr prev = snapshot::empty();
  json tree = json::object();
  for (int v = 1; v <= n; ++v) {
    mutate(rng, tree);
    auto changes = std::make_shared<const std::vector<std::string>>(
      changed_paths(prev->effective, tree));
    auto pool_or_new = pool ? pool : std::make_shared<detail::tree_pool>();
    auto snap = detail::make_recycled(pool_or_new, static_cast<uint64_t>(v),
                                      "test", {}, tree, v, nullptr, {}, {},
                                      {}, prev.get(), changes);
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
      CAF_CHECK_EQUAL(canonical_hash((*got)->effective), snap->hash);
      if ((*got)->effective != snap->effective)
        CAF_FAIL("seed " << seed << " version " << snap->version << ": "
                         << (*got)->effective.dump() << " != "
                         << snap->effective.dump());
    }
    auto zero = history.lookup(0);
    CAF_REQUIRE(zero);
    CAF_CHECK_EQUAL((*zero)->effective, json::object());
  }
}

CAF_TEST(a version whose successor came whole keeps its tree) {
  // snapshot::make records no changed paths (a version restored from disk
  // or a replica's full snapshot): the version before it keeps its tree,
  // rather than diff two whole trees on the way of the new one, and the
  // versions around it still read back.
  std::mt19937 rng{5};
  auto made = random_versions(rng, 12);
  auto whole_one = snapshot::make(13, "test", {}, json{{"a", 13}}, 13);
  std::mt19937 rng2{6};
  auto history = history_of(made);
  history.push(whole_one);
  // And writes on top of it again, with their change lists.
  auto prev = whole_one;
  json tree = whole_one->effective;
  std::vector<snapshot_ptr> after;
  for (uint64_t v = 14; v <= 14 + whole + 2; ++v) {
    mutate(rng2, tree);
    auto changes = std::make_shared<const std::vector<std::string>>(
      changed_paths(prev->effective, tree));
    auto snap = detail::make_recycled(std::make_shared<detail::tree_pool>(),
                                      v, "test", {}, tree, 0, nullptr, {}, {},
                                      {}, prev.get(), changes);
    after.push_back(snap);
    history.push(snap);
    prev = snap;
  }
  made.push_back(whole_one);
  made.insert(made.end(), after.begin(), after.end());
  for (auto& snap : made) {
    auto got = history.find(snap->version);
    CAF_REQUIRE(got != nullptr);
    CAF_CHECK_EQUAL(got->effective, snap->effective);
    CAF_CHECK_EQUAL(canonical_hash(got->effective), snap->hash);
  }
  // Version 12 kept its tree: the very snapshot, not a rebuilt one.
  CAF_CHECK(history.find(12) == made[11]);
  CAF_CHECK(history.find(11) != made[10]);
}

CAF_TEST(diffs between older versions are those of their trees) {
  std::mt19937 rng{7};
  auto made = random_versions(rng, 20);
  auto history = history_of(made);
  for (auto [from, to] : {std::pair{2, 9}, std::pair{9, 2}, std::pair{5, 20},
                          std::pair{1, 16}}) {
    auto d = history.diff(from, to);
    CAF_REQUIRE(d);
    auto& x = made[static_cast<size_t>(from - 1)]->effective;
    auto& y = made[static_cast<size_t>(to - 1)]->effective;
    CAF_CHECK_EQUAL(d->patch, json_patch(x, y));
    CAF_CHECK_EQUAL(d->view, diff_view(x, y));
  }
}

CAF_TEST(the trees of versions past the whole ones go back to the pool) {
  auto pool = std::make_shared<detail::tree_pool>();
  std::mt19937 rng{3};
  auto made = random_versions(rng, static_cast<int>(whole) + 3, pool);
  auto history = history_of(made);
  made.clear(); // the ring holds the only references now
  CAF_CHECK(pool->fed());
  auto back = pool->take();
  CAF_REQUIRE(back.has_value());
  // The versions the ring keeps whole are not in the pool.
  CAF_CHECK_LESS_OR_EQUAL(back->version, 3u);
  CAF_CHECK_EQUAL(history.size(), whole + 4); // and version 0
}

CAF_TEST(a tree that does not rebuild to its hash is an error not an answer) {
  // Version 2 claims its write changed "a" only, but it changed "b" too: the
  // patch back to version 1 misses "b", and the rebuilt tree has the wrong
  // hash.
  auto pool = std::make_shared<detail::tree_pool>();
  auto v1 = detail::make_recycled(pool, 1, "test", {}, json{{"a", 1}, {"b", 1}},
                                  1);
  auto lie = std::make_shared<const std::vector<std::string>>(
    std::vector<std::string>{"a"});
  auto v2 = detail::make_recycled(pool, 2, "test", {}, json{{"a", 2}, {"b", 2}},
                                  2, nullptr, {}, {}, {}, v1.get(), lie);
  detail::version_history history{100, {}};
  history.push(v1);
  history.push(v2);
  for (uint64_t v = 3; v <= whole + 2; ++v)
    history.push(snapshot::make(v, "test", {}, json{{"a", 2}, {"b", 2}}, 3));
  auto got = history.lookup(1);
  CAF_REQUIRE(!got);
  CAF_CHECK_EQUAL(got.error().code(), static_cast<uint8_t>(errc::store_failed));
  CAF_CHECK(history.find(1) == nullptr);
  auto fine = history.lookup(2);
  CAF_REQUIRE(fine);
  CAF_CHECK_EQUAL((*fine)->effective, (json{{"a", 2}, {"b", 2}}));
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

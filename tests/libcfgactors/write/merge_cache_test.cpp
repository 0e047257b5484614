#define CAF_SUITE merge_cache
// The validator's effective trees: built from a tree of an older version,
// brought up to date where the layers changed, they equal a full merge.
#include "cfgactors_test.hpp"

#include "model/config_tree.hpp"

#include <deque>
#include <functional>
#include <random>
#include <string>
#include <utility>

#include "cfgactors/layer.hpp"
#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"
#include "write/merge_cache.hpp"
#include "write/merged_at.hpp"

namespace merge_cache_suite {

using namespace cfgactors;

namespace {

constexpr const char* file_layer = "file:a.yaml";

json j(const char* text) {
  return json::parse(text);
}

/// `tree` (the merge of `base` and `old_overlay`) patched at `at` for
/// `overlay`, next to the full merge of `base` and `overlay`.
std::pair<json, json> patched(const char* tree, const char* at,
                              const char* base, const char* overlay) {
  auto result = j(tree);
  auto path = config_path::parse(at);
  auto over = j(overlay);
  auto overlay_tree = detail::node_of(over);
  if (!detail::patch_merged(result, *path, j(base), overlay_tree.get()))
    return {json("refused"), merged(j(base), over)};
  return {result, merged(j(base), over)};
}

/// A full merge, as a cache that has never seen a spare builds it.
json fresh(const layer_stack& layers) {
  detail::base_merge_cache cache;
  return cache.effective(layers);
}

} // namespace

CAF_TEST(a path is merged in place as merge_into merges it) {
  // A value set deep in the runtime layer.
  auto [a, a_full] = patched(R"({"x":{"y":1,"z":2}})", "x.y",
                             R"({"x":{"y":1,"z":2}})", R"({"x":{"y":5}})");
  CAF_CHECK_EQUAL(a, a_full);
  // A tombstone deletes the base's value.
  auto [b, b_full] = patched(R"({"x":{"y":1,"z":2}})", "x.y",
                             R"({"x":{"y":1,"z":2}})", R"({"x":{"y":null}})");
  CAF_CHECK_EQUAL(b, b_full);
  CAF_CHECK_EQUAL(b, j(R"({"x":{"z":2}})"));
  // The runtime layer lets go of a key: the base's value is back.
  auto [c, c_full] = patched(R"({"x":{"y":5,"z":2}})", "x.y",
                             R"({"x":{"y":1,"z":2}})", R"({"x":{}})");
  CAF_CHECK_EQUAL(c, c_full);
  CAF_CHECK_EQUAL(c, j(R"({"x":{"y":1,"z":2}})"));
  // An object over a scalar of the base: the base says nothing below it.
  auto [d, d_full] = patched(R"({"x":3})", "x", R"({"x":3})",
                             R"({"x":{"y":{"q":null,"r":1}}})");
  CAF_CHECK_EQUAL(d, d_full);
  // A key below objects the tree does not have yet.
  auto [e, e_full] = patched(R"({})", "p.q.r", R"({})",
                             R"({"p":{"q":{"r":[1,2]}}})");
  CAF_CHECK_EQUAL(e, e_full);
  // A key that is nowhere any more.
  auto [f, f_full] = patched(R"({"x":{"y":5}})", "x.y", R"({})",
                             R"({"x":{}})");
  CAF_CHECK_EQUAL(f, f_full);
  CAF_CHECK_EQUAL(f, j(R"({"x":{}})"));
  // An array is replaced whole, below an object the base holds.
  auto [g, g_full] = patched(R"({"x":{"l":[1],"m":1}})", "x.l",
                             R"({"x":{"l":[1],"m":1}})",
                             R"({"x":{"l":[2,3]}})");
  CAF_CHECK_EQUAL(g, g_full);
}

CAF_TEST(the root and array indexes are left to a full merge) {
  auto tree = j(R"({"a":[1,2]})");
  auto over = detail::node_of(j(R"({"a":[3]})"));
  CAF_CHECK(!detail::patch_merged(tree, *config_path::parse(""), json::object(),
                                  over.get()));
  CAF_CHECK(!detail::patch_merged(tree, *config_path::parse("a[0]"),
                                  json::object(), over.get()));
  auto scalar = detail::node_of(json(7));
  CAF_CHECK(!detail::patch_merged(tree, *config_path::parse("a"),
                                  json::object(), scalar.get()));
  CAF_CHECK_EQUAL(tree, j(R"({"a":[1,2]})"));
}

CAF_TEST(a spare that merges known layers is brought up to date) {
  layer_stack old_layers;
  old_layers.put(file_layer, j(R"({"a":1,"b":{"c":2,"d":3},"e":[1]})"));
  old_layers.put(std::string{runtime_layer}, j(R"({"b":{"c":9}})"));
  auto old_tree = fresh(old_layers);
  auto layers = old_layers;
  layers.put(std::string{runtime_layer}, j(R"({"b":{"d":null},"f":{"g":1}})"));
  detail::base_merge_cache cache;
  CAF_CHECK_EQUAL(cache.effective(old_layers), old_tree);
  cache.prepare(old_tree, old_layers);
  CAF_CHECK_EQUAL(cache.effective(layers), fresh(layers));
  CAF_CHECK_EQUAL(cache.effective(layers),
                  j(R"({"a":1,"b":{"c":2},"e":[1],"f":{"g":1}})"));
}

CAF_TEST(random writes on trees of older versions merge as a full merge) {
  std::mt19937 rng{20261206};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const char* keys[] = {"a", "b", "c", "d"};
  // A random value; `tombstones`: nulls may appear (overlays only).
  std::function<json(int, bool)> value = [&](int depth, bool tombstones) {
    switch (pick(depth > 0 ? 6 : 4)) {
      case 0:
        return json(pick(5));
      case 1:
        return json(std::string(1, 'x' + pick(3)));
      case 2:
        return json::array({pick(3), pick(3)});
      case 3:
        return tombstones ? json(nullptr) : json(true);
      default: {
        auto x = json::object();
        for (int i = pick(4); i > 0; --i)
          x[keys[pick(4)]] = value(depth - 1, tombstones);
        return x;
      }
    }
  };
  // Sets a random path of `layer` (objects made on the way) or erases it.
  auto mutate = [&](json& layer, bool tombstones) {
    json* node = &layer;
    for (int depth = 1 + pick(3); depth > 1; --depth) {
      auto& next = (*node)[keys[pick(4)]];
      if (!next.is_object())
        next = json::object();
      node = &next;
    }
    auto key = keys[pick(4)];
    if (pick(5) == 0)
      node->erase(key);
    else
      (*node)[key] = value(2, tombstones);
  };
  layer_stack layers;
  auto first = value(3, false);
  layers.put(file_layer, first.is_object() ? first : json::object());
  layers.put("env:APP_", json{{"a", {{"b", 1}}}});
  layers.put(std::string{runtime_layer}, json::object());
  detail::base_merge_cache cache;
  // Committed trees with their layers, oldest first: the store's history.
  std::deque<detail::base_merge_cache::spare_tree> history;
  history.push_back({cache.effective(layers), layers});
  size_t mismatches = 0;
  size_t patched_steps = 0;
  for (int step = 0; step < 3000; ++step) {
    auto candidate = layers;
    auto lower = pick(12) == 0;
    auto data = *candidate.get(lower ? file_layer : runtime_layer);
    mutate(data, !lower);
    candidate.put(lower ? file_layer : std::string{runtime_layer}, data);
    // The spare, as the validator may have it at this point.
    switch (pick(6)) {
      case 0:
        cache.prepare(); // a copy of the base
        break;
      case 1: // a tree that says not what it merges: storage only
        cache.prepare(json{history.front().tree});
        break;
      case 5:
        break; // no spare left: a fresh copy of the base
      default: // the oldest tree of the history, with its layers
        if (history.size() > 1) {
          cache.prepare(std::move(history.front().tree),
                        std::move(history.front().layers));
          history.pop_front();
          ++patched_steps;
        }
    }
    auto tree = cache.effective(candidate);
    auto expected = fresh(candidate);
    if (tree != expected) {
      ++mismatches;
      CAF_MESSAGE("step " << step << ": " << tree.dump() << " != "
                          << expected.dump());
    }
    if (pick(8) == 0) {
      // Refused: the tree goes back, the layers stay.
      cache.give_back(std::move(tree), std::move(candidate));
      continue;
    }
    layers = std::move(candidate);
    history.push_back({std::move(tree), layers});
    if (history.size() > 3)
      history.pop_front();
  }
  CAF_CHECK_EQUAL(mismatches, 0u);
  CAF_CHECK_GREATER(patched_steps, 1000u);
}

} // namespace merge_cache_suite

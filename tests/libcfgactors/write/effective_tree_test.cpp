#define CAF_SUITE effective_tree
// The validator's merged trees: each built from the one before along the
// paths its layers changed equals the whole merge, and shares everything
// else with the tree before.
#include "cfgactors_test.hpp"

#include "write/effective_tree.hpp"

#include <functional>
#include <random>
#include <string>

#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"
#include "tree_parts.hpp"
#include "write/apply.hpp"

namespace effective_tree_suite {

using namespace cfgactors;

namespace {

constexpr const char* file_layer = "file:a.yaml";

/// `sections` × 100 integers, as bench/pipeline's config.
json config_of(int keys) {
  auto cfg = json::object();
  for (int i = 0; i < keys; ++i)
    cfg["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  return cfg;
}

/// `layers` with `value` set at `path` of the runtime layer, edited as a
/// write edits it: as a persistent tree.
layer_stack set_runtime(const layer_stack& layers, const char* path,
                        json value) {
  auto result = layers;
  auto data = result.data(runtime_layer);
  detail::config_tree tree{data ? data->tree()
                                : detail::node_of(json::object())};
  CAF_REQUIRE(tree.assign(*config_path::parse(path), value));
  result.put(std::string{runtime_layer}, layer_data{tree.root_ptr()});
  return result;
}

} // namespace

CAF_TEST(a one-key write makes the path to it and shares the rest) {
  layer_stack layers;
  layers.put(file_layer, config_of(10000));
  layers.put(std::string{runtime_layer}, json::object());
  detail::effective_tree builder;
  builder.build(layers);
  // The runtime layer's first value in s7 brings s7 whole (a key a layer
  // gains is one changed path); from then on a key is a path of its own.
  layers = set_runtime(layers, "s7.k1", 41);
  auto first = builder.build(layers);
  CAF_CHECK_EQUAL(builder.whole_builds, 1u);
  CAF_CHECK_EQUAL(detail::to_json(*first), layers.effective());
  auto next_layers = set_runtime(layers, "s7.k3", 42);
  auto next = builder.build(next_layers);
  CAF_CHECK_EQUAL(builder.whole_builds, 1u);
  CAF_CHECK_EQUAL(detail::to_json(*next), next_layers.effective());
  // The root, its block path to s7, s7, its block path to k3 and the value:
  // a few parts, not the 10,101 values of the config.
  auto made = test::parts_made(*first, *next);
  CAF_CHECK_LESS_OR_EQUAL(made, 12u);
  CAF_CHECK_GREATER(made, 2u);
  CAF_CHECK_EQUAL(first->member("s8"), next->member("s8"));
  CAF_CHECK_NOT_EQUAL(first->member("s7"), next->member("s7"));
  CAF_CHECK_EQUAL(first->member("s7")->member("k4"),
                  next->member("s7")->member("k4"));
  // The version before is left as it was.
  CAF_CHECK_EQUAL(first->member("s7")->member("k3")->scalar(), json(703));
}

CAF_TEST(a tombstone takes the value away and the next write puts it back) {
  layer_stack layers;
  layers.put(file_layer, json::parse(R"({"a":{"b":1,"c":2},"d":3})"));
  layers.put(std::string{runtime_layer}, json::object());
  detail::effective_tree builder;
  builder.build(layers);
  auto gone = set_runtime(layers, "a.b", nullptr);
  CAF_CHECK_EQUAL(detail::to_json(*builder.build(gone)),
                  json::parse(R"({"a":{"c":2},"d":3})"));
  auto back = set_runtime(gone, "a.b", 5);
  CAF_CHECK_EQUAL(detail::to_json(*builder.build(back)),
                  json::parse(R"({"a":{"b":5,"c":2},"d":3})"));
  // A scalar above an object: the object is merged again whole there.
  auto scalar = set_runtime(back, "a", 7);
  CAF_CHECK_EQUAL(detail::to_json(*builder.build(scalar)),
                  json::parse(R"({"a":7,"d":3})"));
  auto object = set_runtime(scalar, "a", json::parse(R"({"x":1})"));
  CAF_CHECK_EQUAL(detail::to_json(*builder.build(object)),
                  json::parse(R"({"a":{"b":1,"c":2,"x":1},"d":3})"));
  CAF_CHECK_EQUAL(builder.whole_builds, 1u);
}

CAF_TEST(random writes to every layer build the whole merge) {
  std::mt19937 rng{20261207};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const char* keys[] = {"a", "b", "c", "d"};
  std::function<json(int, bool)> value = [&](int depth, bool tombstones) {
    switch (pick(depth > 0 ? 6 : 4)) {
      case 0:
        return json(pick(5));
      case 1:
        return json(std::string(1, static_cast<char>('x' + pick(3))));
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
  // A random dotted path of one to three keys.
  auto path = [&] {
    std::string result = keys[pick(4)];
    for (int depth = pick(3); depth > 0; --depth)
      result += std::string{"."} + keys[pick(4)];
    return result;
  };
  const std::string layer_names[] = {"defaults", file_layer, "env:APP_",
                                     std::string{runtime_layer}};
  layer_stack layers;
  for (auto& name : layer_names) {
    auto first = value(3, name == runtime_layer);
    layers.put(name, first.is_object() ? first : json::object());
  }
  detail::effective_tree builder;
  builder.build(layers);
  std::size_t mismatches = 0;
  std::size_t refused = 0;
  for (int step = 0; step < 4000; ++step) {
    auto candidate = layers;
    auto& name = layer_names[pick(10) < 7 ? 3 : pick(3)];
    auto runtime = name == runtime_layer;
    auto data = candidate.data(name);
    detail::config_tree tree{data->tree()};
    auto at = *config_path::parse(path());
    if (pick(5) == 0) {
      tree.erase(at);
    } else if (!tree.assign(at, value(2, runtime))) {
      continue; // crosses a scalar: a write would be refused
    }
    if (pick(3) == 0) // a source's layer comes as JSON
      candidate.put(name, detail::to_json(tree.root()));
    else
      candidate.put(name, layer_data{tree.root_ptr()});
    if (pick(30) == 0) // a layer leaves, or comes back
      candidate.remove(layer_names[pick(3)]);
    auto built = detail::to_json(*builder.build(candidate));
    auto expected = candidate.effective();
    if (built != expected) {
      ++mismatches;
      CAF_MESSAGE("step " << step << ": " << built.dump()
                          << " != " << expected.dump());
    }
    // Refused: the next candidate is built on the committed layers again.
    if (pick(8) == 0) {
      ++refused;
      continue;
    }
    layers = std::move(candidate);
    for (auto& name : layer_names)
      if (!layers.data(name))
        layers.put(name, json::object());
  }
  CAF_CHECK_EQUAL(mismatches, 0u);
  CAF_CHECK_GREATER(refused, 100u);
  // Only the first tree is merged whole; a root that is every key of the
  // layer (a layer that leaves) may be too.
  CAF_MESSAGE("whole builds: " << builder.whole_builds);
  CAF_CHECK_LESS(builder.whole_builds, 400u);
}

} // namespace effective_tree_suite

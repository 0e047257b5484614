#define CAF_SUITE merged_value
// The merged value at a path, read from the layers along it, equals what
// the merge of every layer holds there: on hand-picked stacks and on random
// ones with tombstones, arrays and values that replace objects.
#include "cfgactors_test.hpp"

#include <random>
#include <string>

#include "model/config_tree.hpp"
#include "write/merged_value.hpp"

namespace merged_value_suite {

using namespace cfgactors;
using detail::merged_value;

namespace {

config_path p(const char* text) {
  auto result = config_path::parse(text);
  CAF_REQUIRE(result.has_value());
  return *result;
}

// What the whole merge holds at `path` (the reference).
std::optional<json> slow(const layer_stack& layers, const config_path& path,
                         std::string_view without = {}) {
  layer_stack kept;
  for (auto& l : layers)
    if (l.name != without)
      kept.put(l.name, *l.data);
  auto whole = kept.effective();
  auto found = find(whole, path);
  return found ? std::optional<json>{*found} : std::nullopt;
}

json random_layer_value(std::mt19937& rng, int depth) {
  switch (rng() % (depth < 3 ? 7 : 4)) {
    case 0:
      return nullptr; // a tombstone in an object, data in an array
    case 1:
      return static_cast<int>(rng() % 5);
    case 2:
      return "t" + std::to_string(rng() % 3);
    case 3:
      return rng() % 2 == 0;
    case 4: {
      json arr = json::array();
      for (auto n = rng() % 3; n > 0; --n)
        arr.push_back(random_layer_value(rng, depth + 1));
      return arr;
    }
    default: {
      json obj = json::object();
      for (auto n = rng() % 4; n > 0; --n)
        obj[std::string(1, static_cast<char>('a' + rng() % 3))] =
          random_layer_value(rng, depth + 1);
      return obj;
    }
  }
}

json random_layer(std::mt19937& rng) {
  json obj = json::object();
  for (auto n = rng() % 4; n > 0; --n)
    obj[std::string(1, static_cast<char>('a' + rng() % 3))] =
      random_layer_value(rng, 1);
  return obj;
}

config_path random_path(std::mt19937& rng) {
  config_path path;
  for (auto n = rng() % 5; n > 0; --n) {
    if (rng() % 4 == 0)
      path.segments.emplace_back(std::size_t{rng() % 2});
    else
      path.segments.emplace_back(std::string(1, static_cast<char>(
                                                  'a' + rng() % 3)));
  }
  return path;
}

} // namespace

CAF_TEST(the merged value follows objects tombstones and replacements) {
  layer_stack layers;
  layers.put("defaults", json::parse(
    R"({"db": {"host": "h", "port": 1, "opts": {"x": 1}},
        "list": [{"a": 1}, 2], "s": {"t": 1}})"));
  layers.put("file:a", json::parse(
    R"({"db": {"port": 2, "opts": null}, "s": 5,
        "list": [{"b": null}]})"));
  layers.put("runtime", json::parse(R"({"s": {"u": 2}, "db": {"opts": {"y": 1}}})"));
  for (auto text : {"", "db", "db.port", "db.opts", "db.opts.x", "s", "s.t",
                    "s.u", "list", "list[0]", "list[0].b", "list[1]",
                    "missing", "db.host.deeper"}) {
    auto path = p(text);
    CAF_CHECK_EQUAL(merged_value(layers, path), slow(layers, path));
    CAF_CHECK_EQUAL(merged_value(layers, path, "runtime"),
                    slow(layers, path, "runtime"));
  }
  CAF_CHECK_EQUAL(merged_value(layers, p("db.opts")), json::parse(R"({"y": 1})"));
  // An object over a value starts from nothing: s.t is gone.
  CAF_CHECK_EQUAL(merged_value(layers, p("s")), json::parse(R"({"u": 2})"));
  // Arrays replace whole, and their items keep their nulls.
  CAF_CHECK_EQUAL(merged_value(layers, p("list[0]")),
                  json::parse(R"({"b": null})"));
}

CAF_TEST(random stacks agree with the whole merge at every path) {
  std::mt19937 rng{42};
  const char* names[] = {"defaults", "file:a", "env", "runtime"};
  std::size_t found = 0;
  std::size_t checked = 0;
  for (int stack = 0; stack < 400; ++stack) {
    layer_stack layers;
    for (auto name : names)
      if (rng() % 4 != 0)
        layers.put(name, rng() % 10 == 0 ? json{} : random_layer(rng));
    layer_stack trees;
    for (auto& l : layers)
      trees.put(l.name, layer_data{detail::node_of(*l.data)});
    for (int i = 0; i < 40; ++i) {
      auto path = random_path(rng);
      auto want = slow(layers, path);
      auto got = merged_value(layers, path);
      if (got != want)
        CAF_MESSAGE("stack " << layers.to_json().dump() << " at "
                             << path.str());
      CAF_CHECK_EQUAL(got, want);
      CAF_CHECK_EQUAL(merged_value(layers, path, "runtime"),
                      slow(layers, path, "runtime"));
      // The same stack with every layer a tree (a write's form).
      CAF_CHECK_EQUAL(merged_value(trees, path), want);
      found += want ? 1 : 0;
      ++checked;
    }
  }
  CAF_MESSAGE(found << " of " << checked << " paths held a value");
  CAF_CHECK_GREATER(found, checked / 5);
}

} // namespace merged_value_suite

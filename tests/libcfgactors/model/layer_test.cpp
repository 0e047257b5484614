// Tests for layer kinds, the layer stack's order and the effective merge.
#define CAF_SUITE layer
#include "cfgactors_test.hpp"

#include "model/config_tree.hpp"
#include "cfgactors/path.hpp"

#include "cfgactors/layer.hpp"

#include <string>
#include <vector>

namespace layer_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

std::vector<std::string> names(const layer_stack& stack) {
  std::vector<std::string> result;
  for (auto& x : stack)
    result.push_back(x.name);
  return result;
}

using strings = std::vector<std::string>;

} // namespace

CAF_TEST(layer names map to kinds) {
  CAF_CHECK(kind_of("defaults") == layer_kind::defaults);
  CAF_CHECK(kind_of("file:/etc/app.yaml") == layer_kind::file);
  CAF_CHECK(kind_of("env") == layer_kind::env);
  CAF_CHECK(kind_of("env:APP_") == layer_kind::env);
  CAF_CHECK(kind_of("runtime") == layer_kind::runtime);
  CAF_CHECK(kind_of("http:http://cfg/config") == layer_kind::remote);
  CAF_CHECK(kind_of("ws:ws://cfg/ws") == layer_kind::remote);
  CAF_CHECK(kind_of("etcd:/app") == layer_kind::remote);
  CAF_CHECK(kind_of("remote:x") == layer_kind::remote);
  CAF_CHECK(kind_of("something") == layer_kind::remote);
  CAF_CHECK(kind_of("") == layer_kind::remote);
  // Near misses are not the reserved names.
  CAF_CHECK(kind_of("environment") == layer_kind::remote);
  CAF_CHECK(kind_of("runtime2") == layer_kind::remote);
  CAF_CHECK(kind_of("file") == layer_kind::remote);
}

CAF_TEST(layers sort by kind and keep insertion order within a kind) {
  layer_stack stack;
  stack.put("runtime", j("{}"));
  stack.put("http:a", j("{}"));
  stack.put("file:b.yaml", j("{}"));
  stack.put("env", j("{}"));
  stack.put("file:a.yaml", j("{}"));
  stack.put("defaults", j("{}"));
  stack.put("ws:b", j("{}"));
  CAF_CHECK_EQUAL(names(stack),
                  (strings{"defaults", "file:b.yaml", "file:a.yaml", "env",
                           "http:a", "ws:b", "runtime"}));
}

CAF_TEST(putting an existing layer replaces its data in place) {
  layer_stack stack;
  stack.put("file:a", j(R"({"x": 1})"));
  stack.put("file:b", j(R"({"x": 2})"));
  stack.put("file:a", j(R"({"x": 3})"));
  CAF_CHECK_EQUAL(names(stack), (strings{"file:a", "file:b"}));
  CAF_REQUIRE(stack.get("file:a") != nullptr);
  CAF_CHECK_EQUAL(stack.get("file:a")->dump(), R"({"x":3})");
  CAF_CHECK_EQUAL(stack.effective().dump(), R"({"x":2})");
}

CAF_TEST(precedence runs from defaults via files env and remote to runtime) {
  layer_stack stack;
  stack.put("runtime", j(R"({"v": "runtime"})"));
  stack.put("http:srv", j(R"({"v": "remote", "r": 1})"));
  stack.put("env", j(R"({"v": "env", "e": 1})"));
  stack.put("file:second.yaml", j(R"({"v": "file2", "f2": 1})"));
  stack.put("file:first.yaml", j(R"({"v": "file1", "f1": 1, "f2": 0})"));
  stack.put("defaults", j(R"({"v": "defaults", "d": 1})"));
  CAF_CHECK_EQUAL(stack.effective().dump(),
                  R"({"d":1,"e":1,"f1":1,"f2":0,"r":1,"v":"runtime"})");
  CAF_CHECK(stack.remove("runtime"));
  CAF_CHECK_EQUAL(stack.effective()["v"].get<std::string>(), "remote");
  CAF_CHECK(stack.remove("http:srv"));
  CAF_CHECK_EQUAL(stack.effective()["v"].get<std::string>(), "env");
  CAF_CHECK(stack.remove("env"));
  CAF_CHECK_EQUAL(stack.effective()["v"].get<std::string>(), "file1");
  CAF_CHECK(stack.remove("file:first.yaml"));
  CAF_CHECK_EQUAL(stack.effective()["v"].get<std::string>(), "file2");
  CAF_CHECK(stack.remove("file:second.yaml"));
  CAF_CHECK_EQUAL(stack.effective()["v"].get<std::string>(), "defaults");
}

CAF_TEST(a null in a higher layer deletes the key) {
  layer_stack stack;
  stack.put("defaults",
            j(R"({"log": {"level": "INFO", "file": "a"}, "x": 1})"));
  stack.put("runtime", j(R"({"log": {"file": null}, "x": null})"));
  CAF_CHECK_EQUAL(stack.effective().dump(), R"({"log":{"level":"INFO"}})");
  // The tombstones stay in the layer itself.
  CAF_CHECK_EQUAL(stack.get("runtime")->dump(),
                  R"({"log":{"file":null},"x":null})");
}

CAF_TEST(the effective tree has no nulls even from the lowest layer) {
  layer_stack stack;
  stack.put("defaults", j(R"({"a": null, "b": {"c": null, "d": 1}})"));
  CAF_CHECK_EQUAL(stack.effective().dump(), R"({"b":{"d":1}})");
}

CAF_TEST(an empty stack and a null layer give an empty object) {
  layer_stack stack;
  CAF_CHECK_EQUAL(stack.effective().dump(), "{}");
  CAF_CHECK(stack.empty());
  stack.put("defaults", j(R"({"a": 1})"));
  stack.put("runtime", json{});
  CAF_CHECK_EQUAL(stack.effective().dump(), R"({"a":1})");
}

CAF_TEST(get and remove find layers by name) {
  layer_stack stack;
  stack.put("env", j(R"({"a": 1})"));
  CAF_CHECK(stack.get("file:x") == nullptr);
  auto data = stack.get("env");
  CAF_REQUIRE(data != nullptr);
  CAF_CHECK_EQUAL(data->dump(), R"({"a":1})");
  CAF_REQUIRE(stack.data("env") != nullptr);
  CAF_CHECK(stack.data("file:x") == nullptr);
  CAF_CHECK(!stack.remove("file:x"));
  CAF_CHECK(stack.remove("env"));
  CAF_CHECK(!stack.remove("env"));
  CAF_CHECK_EQUAL(stack.size(), 0u);
}

CAF_TEST(a layer edited as a tree reads as json and older stacks keep theirs) {
  layer_stack before;
  before.put("runtime", j(R"({"a": {"b": 1}, "c": [1, 2]})"));
  auto after = before;
  detail::config_tree tree{after.data("runtime")->tree()};
  CAF_REQUIRE(tree.assign(*config_path::parse("a.b"), json(2)));
  after.put("runtime", layer_data{tree.root_ptr()});
  CAF_CHECK(after.data("runtime")->has_tree());
  CAF_CHECK_EQUAL(after.get("runtime")->dump(), R"({"a":{"b":2},"c":[1,2]})");
  CAF_CHECK_EQUAL(before.get("runtime")->dump(), R"({"a":{"b":1},"c":[1,2]})");
  CAF_CHECK(!(after == before));
  // Equal content in other data: equal layers, by the tree or by the json.
  layer_stack again;
  again.put("runtime", j(R"({"c": [1, 2], "a": {"b": 2}})"));
  CAF_CHECK(again == after);
  CAF_CHECK(after == again);
  CAF_CHECK(*again.data("runtime") != *after.data("runtime"));
  CAF_CHECK(again.data("runtime")->equals(*after.data("runtime")));
}

CAF_TEST(to_json lists layers in order and from_json restores them) {
  layer_stack stack;
  stack.put("runtime", j(R"({"x": null})"));
  stack.put("file:b", j(R"({"x": 1})"));
  stack.put("file:a", j(R"({"y": 2})"));
  auto stored = stack.to_json();
  CAF_CHECK_EQUAL(stored.dump(),
                  R"([{"data":{"x":1},"name":"file:b"},)"
                  R"({"data":{"y":2},"name":"file:a"},)"
                  R"({"data":{"x":null},"name":"runtime"}])");
  auto restored = layer_stack::from_json(stored);
  CAF_CHECK(restored == stack);
  CAF_CHECK(!(restored != stack));
  CAF_CHECK_EQUAL(layer_stack::from_json(json::array()).size(), 0u);
}

CAF_TEST(from_json keeps the readable entries of malformed input) {
  CAF_CHECK(layer_stack::from_json(j(R"({"name": "env"})")).empty());
  CAF_CHECK(layer_stack::from_json(json{}).empty());
  CAF_CHECK(layer_stack::from_json(j("42")).empty());
  auto stack = layer_stack::from_json(j(R"([
    {"name": "defaults", "data": {"a": 1}},
    17,
    {"name": 5, "data": {}},
    {"data": {"b": 2}},
    {"name": "env"},
    null,
    {"name": "runtime", "data": {"c": 3}, "extra": true}
  ])"));
  CAF_CHECK_EQUAL(names(stack), (strings{"defaults", "runtime"}));
  CAF_CHECK_EQUAL(stack.effective().dump(), R"({"a":1,"c":3})");
}

CAF_TEST(from_json sorts misordered input and keeps the last duplicate) {
  auto stack = layer_stack::from_json(j(R"([
    {"name": "runtime", "data": {"v": 3}},
    {"name": "defaults", "data": {"v": 1}},
    {"name": "defaults", "data": {"v": 2}}
  ])"));
  CAF_CHECK_EQUAL(names(stack), (strings{"defaults", "runtime"}));
  CAF_CHECK_EQUAL(stack.get("defaults")->dump(), R"({"v":2})");
}

CAF_TEST(the tree of a version answers one value without making its json) {
  auto value = json::parse(R"({"a":{"b":[1,2],"c":{"d":"x"}},"e":3})");
  layer_data data{detail::node_of(value)};
  auto before = detail::whole_jsons_made();
  auto c = data.find(std::string_view{"a.c"});
  auto e = data.find(std::string_view{"e"});
  auto b = data.find(*config_path::parse("a.b"));
  CAF_REQUIRE(c != nullptr && e != nullptr && b != nullptr);
  CAF_CHECK_EQUAL(*c, value["a"]["c"]);
  CAF_CHECK_EQUAL(*e, 3);
  CAF_CHECK_EQUAL(*b, json::array({1, 2}));
  CAF_CHECK(data.find(std::string_view{"a.x"}) == nullptr);
  CAF_CHECK(data.find(std::string_view{"e.f"}) == nullptr);
  CAF_CHECK(!data.has_json());
  CAF_CHECK_EQUAL(detail::whole_jsons_made(), before);
  // The same container twice: the same JSON, made once.
  CAF_CHECK(data.find(std::string_view{"a.c"}) == c);
  // A copy of the whole leaves nothing behind; the whole made stays, and
  // what find() gave before stays valid (readers on other threads may
  // hold it).
  CAF_CHECK_EQUAL(data.to_json(), value);
  CAF_CHECK(!data.has_json());
  CAF_CHECK_EQUAL(*data, value);
  CAF_CHECK(data.has_json());
  CAF_CHECK_EQUAL(detail::whole_jsons_made(), before + 1);
  CAF_CHECK_EQUAL(*c, value["a"]["c"]);
  CAF_CHECK_EQUAL(*b, json::array({1, 2}));
}

} // namespace layer_suite

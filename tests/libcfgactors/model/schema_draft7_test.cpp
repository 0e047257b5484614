// Tests for the draft 7 keywords the JSON Schema Test Suite found wrong
// (boolean schemas, propertyNames, $ref to the meta-schema, $id-based and
// remote references) and for the bounds that keep hostile candidates and
// careless schemas from hanging or crashing validation.
#define CAF_SUITE schema_draft7
#include "cfgactors_test.hpp"
#include "temp_dir.hpp"

#include <filesystem>
#include <fstream>
#include <string>
#include <vector>

#include "cfgactors/schema.hpp"

namespace schema_draft7_suite {

using namespace cfgactors;

namespace {

json_schema_ptr compile(const std::string& text,
                        const schema_options& options = {}) {
  std::string error;
  auto result = json_schema::compile(json::parse(text), &error, options);
  if (!result)
    CAF_FAIL("schema does not compile: " << error);
  return result;
}

std::string compile_error(const std::string& text,
                          const schema_options& options = {}) {
  std::string error;
  auto result = json_schema::compile(json::parse(text), &error, options);
  CAF_CHECK(result == nullptr);
  return error;
}

// `path|rule` per error, "" when valid.
std::string verdict(const json_schema& schema, const std::string& value) {
  validation_errors errors;
  schema.validate(json::parse(value), errors);
  std::string result;
  for (auto& e : errors)
    result += (result.empty() ? "" : ";") + e.path + "|" + e.rule;
  return result;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A directory of schema files served as http://localhost:1234/.
struct remote_dir {
  test::temp_dir dir{"schema"};

  remote_dir() {
    std::filesystem::create_directories(dir.path / "folder");
  }

  void write(const std::string& name, const std::string& text) {
    std::ofstream{dir.path / name} << text;
  }

  schema_options options() const {
    return schema_options{{{"http://localhost:1234/", dir.str()}}};
  }
};

} // namespace

CAF_TEST(a false schema refuses every value and true accepts every value) {
  auto no = compile("false");
  for (auto value : {"1", "\"a\"", "null", "{}", "[]", "true"})
    CAF_CHECK_EQUAL(verdict(*no, value), "|schema.false");
  auto yes = compile("true");
  for (auto value : {"1", "\"a\"", "null", "{}", "[]", "false"})
    CAF_CHECK_EQUAL(verdict(*yes, value), "");
  auto nested = compile(R"({"properties": {"a": false, "b": true}})");
  CAF_CHECK_EQUAL(verdict(*nested, R"({"b": 1})"), "");
  CAF_CHECK_EQUAL(verdict(*nested, R"({"a": 1})"), "a|schema.properties");
  auto via_ref = compile(R"({"$ref": "#/definitions/no",
                             "definitions": {"no": false}})");
  CAF_CHECK_EQUAL(verdict(*via_ref, "1"), "|schema.false");
}

CAF_TEST(propertyNames judges every key) {
  auto schema = compile(R"({"propertyNames": {"pattern": "^[a-z]+$"}})");
  CAF_CHECK_EQUAL(verdict(*schema, R"({"abc": 1, "xyz": 2})"), "");
  CAF_CHECK_EQUAL(verdict(*schema, R"({"abc": 1, "xY2": 2})"), "|schema");
  CAF_CHECK_EQUAL(verdict(*schema, R"("not an object")"), "");
  auto nested = compile(
    R"({"properties": {"m": {"propertyNames": {"maxLength": 3}}}})");
  CAF_CHECK_EQUAL(verdict(*nested, R"({"m": {"abc": 1}})"), "");
  CAF_CHECK_EQUAL(verdict(*nested, R"({"m": {"abcd": 1}})"),
                  "m|schema.properties");
  auto none = compile(R"({"propertyNames": false})");
  CAF_CHECK_EQUAL(verdict(*none, "{}"), "");
  CAF_CHECK_EQUAL(verdict(*none, R"({"a": 1})"), "|schema");
}

CAF_TEST(a ref to the draft 7 meta-schema uses the embedded copy) {
  auto schema = compile(
    R"({"$ref": "http://json-schema.org/draft-07/schema#"})");
  CAF_CHECK_EQUAL(verdict(*schema, R"({"minLength": 1})"), "");
  CAF_CHECK_EQUAL(verdict(*schema, R"({"minLength": -1})"),
                  "minLength|schema.minimum");
  CAF_CHECK_EQUAL(verdict(*schema, R"({"type": "integer"})"), "");
  CAF_CHECK(verdict(*schema, R"({"type": "integr"})") != "");
}

CAF_TEST(ids name subschemas and set the base of relative refs) {
  // A location-independent identifier.
  auto anchor = compile(R"({"allOf": [{"$ref": "#foo"}],
    "definitions": {"A": {"$id": "#foo", "type": "integer"}}})");
  CAF_CHECK_EQUAL(verdict(*anchor, "1"), "");
  CAF_CHECK_EQUAL(verdict(*anchor, "\"a\""), "|schema.type");
  // Relative $ids resolve against the enclosing one.
  auto relative = compile(R"({
    "$id": "http://example.com/root.json",
    "properties": {"list": {"$ref": "folder/item.json"}},
    "definitions": {
      "folder": {"$id": "folder/", "definitions": {
        "item": {"$id": "item.json", "type": "array",
                 "items": {"$ref": "#/definitions/n"},
                 "definitions": {"n": {"type": "integer"}}}}}}})");
  CAF_CHECK_EQUAL(verdict(*relative, R"({"list": [1, 2]})"), "");
  CAF_CHECK_EQUAL(verdict(*relative, R"({"list": [1, "2"]})"),
                  "list[1]|schema.type");
  // An $id names a schema: a ref to it is not fetched.
  auto tree = compile(R"({"$id": "http://example.com/tree",
    "properties": {"nodes": {"items": {"$ref": "node"}}},
    "definitions": {"node": {"$id": "http://example.com/node",
      "properties": {"value": {"type": "number"},
                     "subtree": {"$ref": "tree"}}}}})");
  CAF_CHECK_EQUAL(verdict(*tree, R"({"nodes": [{"value": 1, "subtree":
    {"nodes": [{"value": 2}]}}]})"), "");
  CAF_CHECK(verdict(*tree, R"({"nodes": [{"value": 1, "subtree":
    {"nodes": [{"value": "2"}]}}]})") != "");
  // A property named $id or $ref is a name, not a keyword.
  auto names = compile(R"({"properties": {"$ref": {"type": "string"},
                                          "$id": {"type": "string"}}})");
  CAF_CHECK_EQUAL(verdict(*names, R"({"$ref": "a", "$id": "b"})"), "");
  CAF_CHECK_EQUAL(verdict(*names, R"({"$ref": 1})"), "$ref|schema.type");
}

CAF_TEST(remote refs come from the configured directories or not at all) {
  remote_dir dir;
  dir.write("integer.json", R"({"type": "integer"})");
  dir.write("folder/sub.json",
            R"({"definitions": {"int": {"$ref": "../integer.json"}}})");
  auto remote = compile(R"({"$ref": "http://localhost:1234/integer.json"})",
                        dir.options());
  CAF_CHECK_EQUAL(verdict(*remote, "1"), "");
  CAF_CHECK_EQUAL(verdict(*remote, "\"1\""), "|schema.type");
  auto nested = compile(R"({"items": {"$ref":
    "http://localhost:1234/folder/sub.json#/definitions/int"}})",
                        dir.options());
  CAF_CHECK_EQUAL(verdict(*nested, "[1, 2]"), "");
  CAF_CHECK_EQUAL(verdict(*nested, "[1, \"2\"]"), "[1]|schema.type");
  // Without the directory, or outside it, nothing is read.
  auto error = compile_error(
    R"({"$ref": "http://localhost:1234/integer.json"})");
  CAF_CHECK(contains(error, "remote references are not fetched"));
  CAF_CHECK(contains(error, "http://localhost:1234/integer.json"));
  error = compile_error(R"({"$ref": "http://localhost:4321/integer.json"})",
                        dir.options());
  CAF_CHECK(contains(error, "remote references are not fetched"));
  error = compile_error(
    R"({"$ref": "http://localhost:1234/%2e%2e/integer.json"})",
    dir.options());
  CAF_CHECK(contains(error, "not a plain file path"));
  error = compile_error(R"({"$ref": "http://localhost:1234/missing.json"})",
                        dir.options());
  CAF_CHECK(contains(error, "missing.json"));
}

CAF_TEST(ref cycles that never descend are refused when compiling) {
  auto error = compile_error(R"({"$ref": "#"})");
  CAF_CHECK(contains(error, "validation would never end"));
  error = compile_error(R"({"$ref": "#/definitions/a", "definitions": {
    "a": {"$ref": "#/definitions/b"}, "b": {"$ref": "#/definitions/a"}}})");
  CAF_CHECK(contains(error, "validation would never end"));
  error = compile_error(R"({"anyOf": [{"type": "null"}, {"$ref": "#"}]})");
  CAF_CHECK(contains(error, "validation would never end"));
  // A cycle through a property descends into the value: fine.
  auto tree = compile(R"({"properties": {"a": {"$ref": "#"}},
                          "additionalProperties": false})");
  json deep = {{"b", 1}};
  for (int i = 0; i < 120; ++i)
    deep = json{{"a", deep}};
  validation_errors errors;
  tree->validate(deep, errors);
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK_EQUAL(errors[0].rule, "schema.additionalProperties");
  CAF_CHECK_EQUAL(errors[0].path.size(), 120 * 2 + 1u); // a.a. ... .b
  // A long chain of same-value references is refused too.
  json chain = {{"definitions", json::object()}};
  for (int i = 0; i < 100; ++i)
    chain["definitions"]["d" + std::to_string(i)] = {
      {"$ref", "#/definitions/d" + std::to_string(i + 1)}};
  chain["definitions"]["d100"] = json::object();
  chain["$ref"] = "#/definitions/d0";
  std::string why;
  CAF_CHECK(json_schema::compile(chain, &why) == nullptr);
  CAF_CHECK(contains(why, "levels deep"));
}

CAF_TEST(strings too long for the regex engine are refused where matched) {
  auto schema = compile(R"({"properties": {
    "name": {"type": "string", "pattern": "^[a-z]+$"},
    "blob": {"type": "string"},
    "when": {"type": "string", "format": "date-time"},
    "map": {"patternProperties": {"^x": {}}}}})");
  std::string long_text(200000, 'a');
  // Long, but no regex meets it: accepted.
  CAF_CHECK_EQUAL(verdict(*schema, json{{"blob", long_text}}.dump()), "");
  // The same string where a pattern would run: refused, not a crash.
  CAF_CHECK_EQUAL(verdict(*schema, json{{"name", long_text}}.dump()),
                  "name|schema.pattern");
  CAF_CHECK_EQUAL(verdict(*schema, json{{"when", long_text}}.dump()),
                  "when|schema.pattern");
  CAF_CHECK_EQUAL(verdict(*schema, json{{"map", {{long_text, 1}}}}.dump()),
                  "map|schema.pattern");
  // Just below the limit it is judged as usual.
  std::string fits(4096, 'a');
  CAF_CHECK_EQUAL(verdict(*schema, json{{"name", fits}}.dump()), "");
  fits.back() = 'A';
  CAF_CHECK_EQUAL(verdict(*schema, json{{"name", fits}}.dump()),
                  "name|schema.pattern");
}

CAF_TEST(arrays too long for uniqueItems are refused where it applies) {
  auto schema = compile(R"({"properties": {
    "hosts": {"type": "array", "uniqueItems": true},
    "list": {"type": "array"}}})");
  json many = json::array();
  for (int i = 0; i < 5000; ++i)
    many.push_back(i);
  CAF_CHECK_EQUAL(verdict(*schema, json{{"list", many}}.dump()), "");
  CAF_CHECK_EQUAL(verdict(*schema, json{{"hosts", many}}.dump()),
                  "hosts|schema.uniqueItems");
  many.erase(many.begin() + 4096, many.end());
  CAF_CHECK_EQUAL(verdict(*schema, json{{"hosts", many}}.dump()), "");
  many.back() = 0;
  CAF_CHECK_EQUAL(verdict(*schema, json{{"hosts", many}}.dump()),
                  "hosts|schema.uniqueItems");
}

} // namespace schema_draft7_suite

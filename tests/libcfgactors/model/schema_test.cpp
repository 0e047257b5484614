// Tests for json_schema: compiling (and refusing) schemas, translating
// valijson's results into dotted paths, and the example schema itself.
#define CAF_SUITE schema
#include "cfgactors_test.hpp"

#include <cstdio>
#include <fstream>
#include <string>
#include <thread>
#include <vector>

#include "cfgactors/parse.hpp"
#include "cfgactors/schema.hpp"

namespace schema_suite {

using namespace cfgactors;

namespace {

using lines = std::vector<std::string>;

// `path|rule` per error: what a caller acts on, without pinning valijson's
// wording.
lines where(const validation_errors& errors) {
  lines result;
  for (auto& e : errors)
    result.push_back(e.path + "|" + e.rule);
  return result;
}

json_schema_ptr example_schema() {
  std::string error;
  auto result = json_schema::from_file(
    test::source_path("examples/schema.json"), &error);
  if (!result)
    CAF_FAIL("examples/schema.json does not compile: " << error);
  return result;
}

json example_config() {
  auto parsed = parse_file(test::source_path("examples/config.yaml"));
  if (!parsed)
    CAF_FAIL("examples/config.yaml does not parse: " << parsed.error->str());
  return parsed.value;
}

lines validate(const json_schema& schema, const json& candidate) {
  validation_errors errors;
  schema.validate(candidate, errors);
  return where(errors);
}

// Compiles `text`, expecting failure; returns the error text.
std::string compile_error(const std::string& text) {
  std::string error;
  auto result = json_schema::compile(json::parse(text), &error);
  CAF_CHECK(result == nullptr);
  return error;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

// A file in the temp directory, removed again when the test ends.
struct temp_file {
  std::string path;
  temp_file(const std::string& name, const std::string& content)
    : path(std::string{P_tmpdir} + "/cfgactors-schema-test-" + name) {
    std::ofstream{path} << content;
  }
  ~temp_file() {
    std::remove(path.c_str());
  }
};

} // namespace

CAF_TEST(the example config validates clean against the example schema) {
  auto schema = example_schema();
  auto config = example_config();
  CAF_CHECK_EQUAL(config["logging"]["level"].get<std::string>(), "INFO");
  CAF_CHECK_EQUAL(validate(*schema, config), lines{});
}

CAF_TEST(two bad values give exactly two errors at their own paths) {
  auto schema = example_schema();
  auto config = example_config();
  config["logging"]["level"] = "LOUD";
  config["buffer_size"] = 5;
  validation_errors errors;
  schema->validate(config, errors);
  CAF_CHECK_EQUAL(where(errors),
                  (lines{"buffer_size|schema.minimum",
                         "logging.level|schema.enum"}));
  CAF_REQUIRE_EQUAL(errors.size(), 2u);
  CAF_CHECK_EQUAL(errors[1].message,
                  "Failed to match against any enum values, got \"LOUD\" "
                  "(allowed: \"TRACE\", \"DEBUG\", \"INFO\", "
                  "\"WARNING\", \"ERROR\")");
  CAF_CHECK_EQUAL(errors[0].message,
                  "Expected number greater than or equal to 100, got 5");
}

CAF_TEST(bounds print as the schema writes them and enums list values) {
  std::string error;
  auto schema = json_schema::compile(json::parse(R"({"properties": {
    "port": {"type": "integer", "minimum": 1, "maximum": 65535},
    "small": {"exclusiveMaximum": 10},
    "ratio": {"minimum": 0.5, "multipleOf": 0.25},
    "tiny": {"exclusiveMinimum": 1e-7},
    "name": {"maxLength": 3},
    "mode": {"enum": ["a", 1, null, true]},
    "many": {"enum": [0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15,
                      16, 17, 18, 19, 20, 21]},
    "either": {"anyOf": [{"enum": ["x"]}, {"enum": ["y"]}]}}})"), &error);
  CAF_REQUIRE(schema != nullptr);
  auto message = [&](const char* text) {
    validation_errors errors;
    schema->validate(json::parse(text), errors);
    CAF_REQUIRE(!errors.empty());
    return errors.front().message;
  };
  CAF_CHECK_EQUAL(message(R"({"port": 70000})"),
                  "Expected number less than or equal to 65535, got 70000");
  CAF_CHECK_EQUAL(message(R"({"port": 0})"),
                  "Expected number greater than or equal to 1, got 0");
  CAF_CHECK_EQUAL(message(R"({"small": 10})"),
                  "Expected number less than 10, got 10");
  CAF_CHECK_EQUAL(message(R"({"ratio": 0.25})"),
                  "Expected number greater than or equal to 0.5, got 0.25");
  CAF_CHECK_EQUAL(message(R"({"ratio": 0.6})"),
                  "Value should be a multiple of 0.25, got 0.6");
  CAF_CHECK_EQUAL(message(R"({"tiny": 0})"),
                  "Expected number greater than 1e-07, got 0");
  CAF_CHECK_EQUAL(message(R"({"name": "abcd"})"),
                  "String should be no more than 3 characters in length, got "
                  "\"abcd\"");
  CAF_CHECK_EQUAL(message(R"({"mode": "b"})"),
                  "Failed to match against any enum values, got \"b\" "
                  "(allowed: \"a\", 1, null, true)");
  CAF_CHECK_EQUAL(message(R"({"many": 99})"),
                  "Failed to match against any enum values, got 99 "
                  "(allowed: 0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, "
                  "14, 15, 16, 17, 18, 19, and 2 more)");
  // Two enums could apply: no single list to offer.
  CAF_CHECK_EQUAL(message(R"({"either": "z"})"),
                  "Failed to match against any enum values, got \"z\"");
}

CAF_TEST(two bad fields of one object are two errors) {
  auto schema = example_schema();
  auto config = example_config();
  config["logging"] = json{{"level", "LOUD"}, {"format", "xml"}};
  CAF_CHECK_EQUAL(validate(*schema, config),
                  (lines{"logging.format|schema.enum",
                         "logging.level|schema.enum"}));
}

CAF_TEST(a value of the wrong type is reported as a type error) {
  auto schema = example_schema();
  auto config = example_config();
  config["buffer_size"] = "big";
  config["sample_rate"] = 1; // an integer is a number
  config["timeouts"]["read_ms"] = 2.5;
  CAF_CHECK_EQUAL(validate(*schema, config),
                  (lines{"buffer_size|schema.type",
                         "timeouts.read_ms|schema.type"}));
}

CAF_TEST(a missing required key is reported at its own path) {
  auto schema = example_schema();
  auto config = example_config();
  config.erase("buffer_size");
  validation_errors errors;
  schema->validate(config, errors);
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK_EQUAL(errors[0].path, "buffer_size");
  CAF_CHECK_EQUAL(errors[0].rule, "schema.required");
  CAF_CHECK(contains(errors[0].message, "'buffer_size'"));
}

CAF_TEST(keys the schema does not know are allowed at the top level) {
  auto schema = example_schema();
  auto config = example_config();
  config["my_service"] = json{{"anything", true}};
  CAF_CHECK_EQUAL(validate(*schema, config), lines{});
}

CAF_TEST(a feature may be a boolean or a rollout object) {
  auto schema = example_schema();
  auto config = example_config();
  config["features"]["new_algorithm"] = json::parse(
    R"({"enabled": true, "rollout": 25, "rules": [], "variants": {}})");
  CAF_CHECK_EQUAL(validate(*schema, config), lines{});
}

CAF_TEST(a feature with rollout 150 is reported at the rollout) {
  auto schema = example_schema();
  auto config = example_config();
  config["features"]["new_algorithm"] = json{{"enabled", true},
                                             {"rollout", 150}};
  validation_errors errors;
  schema->validate(config, errors);
  CAF_CHECK_EQUAL(where(errors),
                  lines{"features.new_algorithm.rollout|schema.maximum"});
}

CAF_TEST(a feature object rejects unknown keys and other types) {
  auto schema = example_schema();
  auto config = example_config();
  config["features"]["beta_ui"] = json{{"enabled", true}, {"owner", "me"}};
  config["features"]["new_algorithm"] = "on";
  CAF_CHECK_EQUAL(validate(*schema, config),
                  (lines{"features.beta_ui.owner|schema.additionalProperties",
                         "features.new_algorithm|schema.type"}));
}

CAF_TEST(the example schema checks ports pools and the version pattern) {
  auto schema = example_schema();
  auto config = example_config();
  config["database"]["port"] = 70000;
  config["database"]["pool_size"] = 0;
  config["schema_version"] = "1.0";
  config["timeouts"]["connect_ms"] = 0;
  config["sample_rate"] = 1.5;
  CAF_CHECK_EQUAL(validate(*schema, config),
                  (lines{"database.pool_size|schema.minimum",
                         "database.port|schema.maximum",
                         "sample_rate|schema.maximum",
                         "schema_version|schema.pattern",
                         "timeouts.connect_ms|schema.minimum"}));
}

CAF_TEST(array items are reported with their index) {
  std::string error;
  auto schema = json_schema::compile(json::parse(R"({
    "properties": {"servers": {"type": "array", "items": {
      "required": ["host"],
      "properties": {"port": {"type": "integer", "maximum": 65535}}}}}
  })"),
                                     &error);
  CAF_REQUIRE(schema != nullptr);
  auto config = json::parse(R"({"servers": [
    {"host": "a", "port": 1}, {"host": "b", "port": 70000}, {"port": 2}]})");
  CAF_CHECK_EQUAL(validate(*schema, config),
                  (lines{"servers[1].port|schema.maximum",
                         "servers[2].host|schema.required"}));
}

CAF_TEST(a failed anyOf reports the branch that matched the type) {
  std::string error;
  auto schema = json_schema::compile(json::parse(R"({
    "additionalProperties": {"anyOf": [
      {"type": "boolean"},
      {"type": "object", "properties": {"rollout": {"maximum": 100}}}]}})"),
                                     &error);
  CAF_REQUIRE(schema != nullptr);
  auto config = json::parse(R"({"f": {"rollout": 150}, "g": "on"})");
  CAF_CHECK_EQUAL(validate(*schema, config),
                  (lines{"f.rollout|schema.maximum", "g|schema.type"}));
}

CAF_TEST(a schema valijson rejects compiles to null with a clear error) {
  auto error = compile_error(R"({"type": 12})");
  CAF_CHECK(contains(error, "invalid JSON Schema"));
  CAF_CHECK(contains(error, "\"type\""));
  error = compile_error(R"({"properties": 5})");
  CAF_CHECK(contains(error, "\"properties\""));
  error = compile_error(R"({"properties": {"a": {"minimum": "x"}}})");
  CAF_CHECK(contains(error, "\"properties.a.minimum\""));
  CAF_CHECK(contains(error, "minimum"));
  error = compile_error(R"({"properties": {"a": {"type": "strng"}}})");
  CAF_CHECK(contains(error, "'strng'"));
  error = compile_error("5");
  CAF_CHECK(contains(error, "invalid JSON Schema"));
}

CAF_TEST(an invalid regex in a schema is a compile error) {
  auto error = compile_error(R"({"properties": {"v": {"pattern": "(["}}})");
  CAF_CHECK(contains(error, "\"properties.v.pattern\""));
  CAF_CHECK(contains(error, "invalid regex"));
  error = compile_error(R"({"patternProperties": {"x(": {}}})");
  CAF_CHECK(contains(error, "invalid regex \"x(\""));
}

CAF_TEST(an unresolvable or remote ref is a compile error) {
  auto error = compile_error(
    R"({"properties": {"a": {"$ref": "#/definitions/nope"}}})");
  CAF_CHECK(contains(error, "\"properties.a\""));
  CAF_CHECK(contains(error, "#/definitions/nope"));
  error = compile_error(R"({"$ref": "https://example.com/schema.json"})");
  CAF_CHECK(contains(error, "remote references are not fetched"));
}

CAF_TEST(local refs and boolean schemas compile) {
  std::string error;
  auto schema = json_schema::compile(json::parse(R"({
    "definitions": {"port": {"type": "integer", "maximum": 65535}},
    "properties": {"p": {"$ref": "#/definitions/port"}, "never": false}})"),
                                     &error);
  CAF_REQUIRE(schema != nullptr);
  CAF_CHECK_EQUAL(error, "");
  CAF_CHECK_EQUAL(validate(*schema, json{{"p", 70000}}),
                  lines{"p|schema.maximum"});
  CAF_CHECK_EQUAL(validate(*schema, json{{"never", 1}}).size(), 1u);
  CAF_CHECK_EQUAL(
    schema->document()["definitions"]["port"]["maximum"].get<int>(), 65535);
}

CAF_TEST(from_file reports a syntax error with file line and column) {
  temp_file bad{"bad.json", "{\n  \"type\": \"object\",\n  oops\n}\n"};
  std::string error;
  CAF_CHECK(json_schema::from_file(bad.path, &error) == nullptr);
  CAF_CHECK(contains(error, bad.path + ":3:"));
}

CAF_TEST(from_file reads YAML and names the file in compile errors) {
  temp_file good{"good.yaml", "type: object\nrequired: [a]\n"};
  std::string error;
  auto schema = json_schema::from_file(good.path, &error);
  CAF_REQUIRE(schema != nullptr);
  CAF_CHECK_EQUAL(validate(*schema, json::object()),
                  lines{"a|schema.required"});
  temp_file wrong{"wrong.yaml", "type: 12\n"};
  CAF_CHECK(json_schema::from_file(wrong.path, &error) == nullptr);
  CAF_CHECK(contains(error, wrong.path + ": invalid JSON Schema"));
  CAF_CHECK(json_schema::from_file(test::source_path("no/such.json"), &error)
            == nullptr);
  CAF_CHECK(contains(error, "no/such.json"));
}

CAF_TEST(one schema validates from many threads at once) {
  auto schema = example_schema();
  auto config = example_config();
  config["logging"]["level"] = "LOUD";
  config["schema_version"] = "x";
  std::vector<lines> results(4);
  std::vector<std::thread> threads;
  for (auto& result : results)
    threads.emplace_back([&] {
      for (int i = 0; i < 50; ++i)
        result = validate(*schema, config);
    });
  for (auto& t : threads)
    t.join();
  for (auto& result : results)
    CAF_CHECK_EQUAL(result, (lines{"logging.level|schema.enum",
                                   "schema_version|schema.pattern"}));
}

// Valid documents take a fast path that skips valijson's error bookkeeping
// (and in debug builds is checked against the full pass); these cases sit on
// the edges of each keyword it checks itself, so a wrong "valid" would lose
// an error below.
CAF_TEST(every keyword keeps its errors on the edges of validity) {
  std::string error;
  auto schema = json_schema::compile(json::parse(R"({
    "definitions": {
      "node": {"type": "object", "additionalProperties": false,
               "properties": {"id": {"type": "integer"},
                              "kids": {"type": "array",
                                       "items": {"$ref": "#/definitions/node"}}}}
    },
    "type": "object",
    "required": ["int"],
    "properties": {
      "int": {"type": "integer", "minimum": 0, "exclusiveMaximum": 10},
      "num": {"type": "number", "exclusiveMinimum": 0, "maximum": 1},
      "word": {"type": "string", "minLength": 2, "maxLength": 3,
               "pattern": "^[a-z\u00e9]+$"},
      "level": {"enum": ["INFO", "DEBUG", null]},
      "fixed": {"const": {"a": [1, 2]}},
      "list": {"type": "array", "minItems": 1, "maxItems": 2,
               "items": {"type": "string"}},
      "bag": {"type": "object", "minProperties": 1, "maxProperties": 2},
      "tree": {"$ref": "#/definitions/node"},
      "both": {"allOf": [{"type": "integer"}, {"minimum": 5}]},
      "either": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
      "one": {"oneOf": [{"type": "integer"}, {"minimum": 5}]},
      "never": {"not": {"type": "string"}},
      "even": {"multipleOf": 2},
      "cond": {"if": {"type": "integer"}, "then": {"minimum": 1}}
    },
    "additionalProperties": {"type": "object",
                             "properties": {"on": {"type": "boolean"}},
                             "additionalProperties": {"type": "integer"}}
  })"),
                                     &error);
  CAF_REQUIRE(schema != nullptr);
  auto check = [&](const char* doc, lines expected) {
    auto config = json::parse(doc);
    CAF_CHECK_EQUAL(validate(*schema, config), expected);
  };
  check(R"({"int": 0})", {});
  check(R"({"int": 9, "num": 1, "word": "\u00e9t\u00e9", "level": null,
            "fixed": {"a": [1, 2]}, "list": ["a", "b"], "bag": {"x": 1},
            "tree": {"id": 1, "kids": [{"id": 2, "kids": []}, {"id": 3}]},
            "both": 5, "either": "x", "one": 3, "never": 1, "even": 4,
            "cond": 1, "extra": {"on": true, "n": 1}})",
        {});
  check(R"({})", {"int|schema.required"});
  check(R"({"int": 1.0})", {"int|schema.type"});
  check(R"({"int": -1})", {"int|schema.minimum"});
  check(R"({"int": 10})", {"int|schema.exclusiveMaximum"});
  check(R"({"int": 1, "num": 0})", {"num|schema.exclusiveMinimum"});
  check(R"({"int": 1, "num": 1.5})", {"num|schema.maximum"});
  check(R"({"int": 1, "num": "1"})", {"num|schema.type"});
  check(R"({"int": 1, "word": "a"})", {"word|schema.minLength"});
  check(R"({"int": 1, "word": "abcd"})", {"word|schema.maxLength"});
  check(R"({"int": 1, "word": "aB"})", {"word|schema.pattern"});
  check(R"({"int": 1, "level": "info"})", {"level|schema.enum"});
  check(R"({"int": 1, "fixed": {"a": [2, 1]}})", {"fixed|schema.const"});
  check(R"({"int": 1, "list": []})", {"list|schema.minItems"});
  check(R"({"int": 1, "list": ["a", "b", "c"]})", {"list|schema.maxItems"});
  check(R"({"int": 1, "list": ["a", 2]})", {"list[1]|schema.type"});
  check(R"({"int": 1, "bag": {}})", {"bag|schema.minProperties"});
  check(R"({"int": 1, "bag": {"a": 1, "b": 2, "c": 3}})",
        {"bag|schema.maxProperties"});
  check(R"({"int": 1, "tree": {"id": 1, "kids": [{"id": "2"}]}})",
        {"tree.kids[0].id|schema.type"});
  check(R"({"int": 1, "tree": {"kids": [{"id": 2, "name": "x"}]}})",
        {"tree.kids[0].name|schema.additionalProperties"});
  check(R"({"int": 1, "both": 4})", {"both|schema.minimum"});
  check(R"({"int": 1, "either": 1})", {"either|schema.type"});
  check(R"({"int": 1, "one": 7})", {"one|schema.oneOf"});
  check(R"({"int": 1, "never": "s"})", {"never|schema.not"});
  check(R"({"int": 1, "even": 3})", {"even|schema.multipleOf"});
  check(R"({"int": 1, "cond": 0})", {"cond|schema.minimum"});
  check(R"({"int": 1, "extra": {"on": 1}})", {"extra.on|schema.type"});
  check(R"({"int": 1, "extra": {"on": true, "n": "1"}})",
        {"extra.n|schema.type"});
  check(R"({"int": 1, "extra": 5})", {"extra|schema.type"});
}

CAF_TEST(a schema of false admits nothing and one of true everything) {
  std::string error;
  auto yes = json_schema::compile(json::parse(R"({"properties": {"a": true}})"),
                                  &error);
  auto no = json_schema::compile(json::parse(R"({"properties": {"a": false}})"),
                                 &error);
  CAF_REQUIRE(yes != nullptr);
  CAF_REQUIRE(no != nullptr);
  CAF_CHECK_EQUAL(validate(*yes, json{{"a", 1}}), lines{});
  CAF_CHECK_EQUAL(validate(*no, json{{"a", 1}}), lines{"a|schema.properties"});
  CAF_CHECK_EQUAL(validate(*no, json{{"b", 1}}), lines{});
}

} // namespace schema_suite

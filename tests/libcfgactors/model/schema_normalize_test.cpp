// Tests for the schema's `x-normalize` rules: strings rewritten before they
// are judged, and stored rewritten by a node's writes.
#define CAF_SUITE schema_normalize
#include "cfgactors_test.hpp"

#include <string>

#include <caf/all.hpp>

#include "cfgactors/node.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"

namespace schema_normalize_suite {

using namespace cfgactors;

namespace {

json_schema_ptr compile(const std::string& text) {
  std::string error;
  auto result = json_schema::compile(json::parse(text), &error);
  if (!result)
    CAF_FAIL("schema does not compile: " << error);
  return result;
}

// The normalized value, or the value itself when nothing changes.
json normalized(const json_schema& schema, const std::string& text) {
  auto value = json::parse(text);
  auto result = schema.normalized(value);
  return result ? *result : value;
}

constexpr const char* levels_schema = R"({
  "properties": {
    "logging": {"properties": {"level": {"$ref": "#/definitions/level"}}},
    "services": {"additionalProperties": {
      "properties": {"level": {"$ref": "#/definitions/level"}}}},
    "tags": {"items": {"x-normalize": ["trim", "lower"]}},
    "names": {"patternProperties": {"^n_": {"x-normalize": "trim"}}}
  },
  "definitions": {"level": {"x-normalize": "upper",
                            "enum": ["DEBUG", "INFO", "WARNING"]}}})";

struct config : system_config {
  config() {
    set("scheduler.policy", caf::atom("sharing"));
    set("scheduler.max-threads", 2);
  }
};

} // namespace

CAF_TEST(x-normalize rewrites strings where the schema places it) {
  auto schema = compile(levels_schema);
  CAF_CHECK_EQUAL(normalized(*schema, R"({"logging": {"level": "debug"}})"),
                  json::parse(R"({"logging": {"level": "DEBUG"}})"));
  // Under a wildcard (additionalProperties), every entry.
  CAF_CHECK_EQUAL(
    normalized(*schema, R"({"services": {"a": {"level": "info"},
                                         "b": {"level": "Warning"}}})"),
    json::parse(R"({"services": {"a": {"level": "INFO"},
                                 "b": {"level": "WARNING"}}})"));
  // A list applies in order; items and patternProperties reach it too.
  CAF_CHECK_EQUAL(normalized(*schema, R"({"tags": [" A ", "b"]})"),
                  json::parse(R"({"tags": ["a", "b"]})"));
  CAF_CHECK_EQUAL(normalized(*schema, R"({"names": {"n_1": " x ",
                                                    "m_1": " x "}})"),
                  json::parse(R"({"names": {"n_1": "x", "m_1": " x "}})"));
  // Nothing to change: no copy.
  CAF_CHECK(!schema->normalized(
    json::parse(R"({"logging": {"level": "DEBUG"}})")));
  // Only ASCII letters change case.
  CAF_CHECK_EQUAL(normalized(*schema, R"({"logging": {"level": "dé"}})"),
                  json::parse(R"({"logging": {"level": "Dé"}})"));
}

CAF_TEST(a non-string is left alone and then refused by validation) {
  auto schema = compile(levels_schema);
  auto value = json::parse(R"({"logging": {"level": 5}})");
  CAF_CHECK(!schema->normalized(value));
  validation_errors errors;
  schema->validate(value, errors);
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK_EQUAL(errors[0].path, "logging.level");
  CAF_CHECK_EQUAL(errors[0].rule, "schema.enum");
  // A normalized value passes the enum the raw one fails.
  errors.clear();
  auto raw = json::parse(R"({"logging": {"level": "debug"}})");
  schema->validate(raw, errors);
  CAF_CHECK_EQUAL(errors.size(), 1u);
  errors.clear();
  schema->validate(*schema->normalized(raw), errors);
  CAF_CHECK(errors.empty());
}

CAF_TEST(an unknown x-normalize rule is a compile error) {
  for (auto bad : {R"({"properties": {"a": {"x-normalize": "upcase"}}})",
                   R"({"properties": {"a": {"x-normalize": ["upper", 1]}}})",
                   R"({"properties": {"a": {"x-normalize": []}}})"}) {
    std::string error;
    CAF_CHECK(json_schema::compile(json::parse(bad), &error) == nullptr);
    CAF_CHECK_EQUAL(error, "invalid JSON Schema at \"properties.a."
                           "x-normalize\": x-normalize must be \"upper\", "
                           "\"lower\", \"trim\" or a list of them");
  }
}

CAF_TEST(a node stores and serves the normalized value) {
  config cfg;
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}.schema(compile(levels_schema)));
  CAF_REQUIRE(n);
  auto r = n->set("logging.level", "debug");
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(n->get("logging.level", "?"), "DEBUG");
  r = n->set("services", json::parse(R"({"api": {"level": "info"}})"));
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(n->get("services.api.level", "?"), "INFO");
  // A refused value leaves the stored one.
  r = n->set("logging.level", "loud");
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_CHECK_EQUAL(n->get("logging.level", "?"), "DEBUG");
  n->stop();
}

} // namespace schema_normalize_suite

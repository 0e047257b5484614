#define CAF_SUITE ofrep
// Tests for the OFREP mapping over feature_flags: every reason, every error
// code, the value of boolean, string and object flags, the context mapping
// (targetingKey standing in for the key attribute), and the flag validator
// on `values`. Cases differ from their neighbours only in what they test.
#include "cfgactors_test.hpp"

#include <string>
#include <vector>

#include "cfgactors/flags.hpp"
#include "cfgactors/ofrep.hpp"

#include "flags/twin_flags.hpp"

namespace ofrep_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

const json config = json::parse(R"({"features": {
  "static_on": true,
  "static_off": false,
  "killed": {"enabled": false, "variants": {"a": 1, "b": 1},
             "default_variant": "a"},
  "beta": {"rules": [{"attribute": "tenant", "op": "eq",
                      "values": ["acme"]}], "rollout": 0},
  "half": {"rollout": 50},
  "none": {"rollout": 0},
  "full": {"description": "everyone"},
  "colour": {"variants": {"blue": 1, "green": 1}},
  "one_colour": {"variants": {"blue": 1}},
  "banner": {"variants": {"small": 1, "large": 1},
             "values": {"small": {"height": 10}, "large": {"height": 90}}},
  "partial": {"variants": {"x": 1, "y": 0}, "values": {"y": 3}},
  "by_account": {"rollout": 50, "key": "account"}
}})");

ofrep_answer eval(const char* flag, const json& context) {
  test::twin_flags flags{config};
  return ofrep_evaluate(flags, flag, context);
}

std::string reason(const char* flag, const json& context) {
  return eval(flag, context).body.value("reason", "");
}

// A field of the answer, copied out of the temporary answer.
json field_of(const ofrep_answer& answer, const char* name) {
  return answer.body.value(name, json{});
}

std::string error(const char* flag, const json& context) {
  return eval(flag, context).body.value("errorCode", "");
}

// The first user of `flag` whose answer has `field` equal to `value`.
json find_key(const char* flag, const char* field, const json& value) {
  for (int i = 0; i < 1000; ++i) {
    json ctx{{"targetingKey", "user-" + std::to_string(i)}};
    auto answer = eval(flag, ctx);
    if (answer.body.value(field, json{}) == value)
      return ctx;
  }
  return nullptr;
}

} // namespace

CAF_TEST(plain booleans are STATIC with their value) {
  auto on = eval("static_on", json::object());
  CAF_CHECK_EQUAL(on.status, 200);
  CAF_CHECK_EQUAL(on.body["reason"], "STATIC");
  CAF_CHECK_EQUAL(on.body["value"], true);
  CAF_CHECK_EQUAL(on.body["key"], "static_on");
  CAF_CHECK(!on.body.contains("variant"));
  CAF_CHECK_EQUAL(on.body["metadata"]["cfgactors_reason"], "on");
  CAF_CHECK_EQUAL(field_of(eval("static_off", json::object()), "value"), false);
  CAF_CHECK_EQUAL(reason("static_off", json::object()), "STATIC");
}

CAF_TEST(a disabled flag is DISABLED with its default variant) {
  auto answer = eval("killed", j(R"({"targetingKey": "u1"})"));
  CAF_CHECK_EQUAL(answer.status, 200);
  CAF_CHECK_EQUAL(answer.body["reason"], "DISABLED");
  CAF_CHECK_EQUAL(answer.body["variant"], "a");
  CAF_CHECK_EQUAL(answer.body["value"], "a");
}

CAF_TEST(a rule that decides is TARGETING_MATCH) {
  auto answer = eval("beta", j(R"({"targetingKey": "u1", "tenant": "acme"})"));
  CAF_CHECK_EQUAL(answer.body["reason"], "TARGETING_MATCH");
  CAF_CHECK_EQUAL(answer.body["value"], true);
  CAF_CHECK_EQUAL(answer.body["metadata"]["rule"], 0);
  auto other = eval("beta", j(R"({"targetingKey": "u1", "tenant": "zeta"})"));
  CAF_CHECK_EQUAL(other.body["reason"], "DEFAULT");
  CAF_CHECK_EQUAL(other.body["value"], false);
}

CAF_TEST(rollouts and weighted variants are SPLIT) {
  auto in = find_key("half", "value", true);
  auto out = find_key("half", "value", false);
  CAF_REQUIRE(!in.is_null() && !out.is_null());
  CAF_CHECK_EQUAL(reason("half", in), "SPLIT");
  CAF_CHECK_EQUAL(reason("half", out), "SPLIT");
  auto green = find_key("colour", "value", "green");
  CAF_REQUIRE(!green.is_null());
  CAF_CHECK_EQUAL(reason("colour", green), "SPLIT");
  CAF_CHECK_EQUAL(field_of(eval("colour", green), "variant"), "green");
}

CAF_TEST(what no rule rollout or split decided is DEFAULT) {
  CAF_CHECK_EQUAL(reason("full", json::object()), "DEFAULT");
  auto full = eval("full", json::object());
  CAF_CHECK_EQUAL(full.body["metadata"]["description"], "everyone");
  CAF_CHECK_EQUAL(reason("none", j(R"({"targetingKey": "u1"})")), "DEFAULT");
  // One variant with weight: nothing was split.
  auto only = eval("one_colour", j(R"({"targetingKey": "u1"})"));
  CAF_CHECK_EQUAL(only.body["reason"], "DEFAULT");
  CAF_CHECK_EQUAL(only.body["value"], "blue");
}

CAF_TEST(values give object flags and a missing value is the code default) {
  auto large = find_key("banner", "variant", "large");
  CAF_REQUIRE(!large.is_null());
  CAF_CHECK_EQUAL(field_of(eval("banner", large), "value"),
                  j(R"({"height": 90})"));
  // partial: x has all the weight but no value.
  auto answer = eval("partial", j(R"({"targetingKey": "u1"})"));
  CAF_CHECK_EQUAL(answer.status, 200);
  CAF_CHECK_EQUAL(answer.body["variant"], "x");
  CAF_CHECK(!answer.body.contains("value"));
}

CAF_TEST(an absent flag is FLAG_NOT_FOUND with 404) {
  auto answer = eval("nope", json::object());
  CAF_CHECK_EQUAL(answer.status, 404);
  CAF_CHECK_EQUAL(answer.body["errorCode"], "FLAG_NOT_FOUND");
  CAF_CHECK_EQUAL(answer.body["key"], "nope");
  CAF_CHECK(!answer.result);
}

CAF_TEST(a malformed flag is PARSE_ERROR naming the path) {
  auto bad = j(R"({"features": {"x": {"rollout": 150}}})");
  test::twin_flags flags{bad};
  auto answer = ofrep_evaluate(flags, "x", json::object());
  CAF_CHECK_EQUAL(answer.status, 400);
  CAF_CHECK_EQUAL(answer.body["errorCode"], "PARSE_ERROR");
  auto details = answer.body["errorDetails"].get<std::string>();
  CAF_CHECK_NOT_EQUAL(details.find("features.x.rollout"), std::string::npos);
}

CAF_TEST(a context attribute that is not a scalar is INVALID_CONTEXT) {
  auto answer = eval("static_on", j(R"({"targetingKey": "u", "tags": [1]})"));
  CAF_CHECK_EQUAL(answer.status, 400);
  CAF_CHECK_EQUAL(answer.body["errorCode"], "INVALID_CONTEXT");
  auto details = answer.body["errorDetails"].get<std::string>();
  CAF_CHECK_NOT_EQUAL(details.find("'tags'"), std::string::npos);
  CAF_CHECK_EQUAL(error("static_on", j(R"({"targetingKey": 7})")),
                  "INVALID_CONTEXT");
  CAF_CHECK_EQUAL(error("static_on", j(R"({"n": null})")), "INVALID_CONTEXT");
  CAF_CHECK_EQUAL(error("static_on", j(R"([1])")), "INVALID_CONTEXT");
}

CAF_TEST(a rollout or split without a key is TARGETING_KEY_MISSING) {
  CAF_CHECK_EQUAL(error("half", json::object()), "TARGETING_KEY_MISSING");
  CAF_CHECK_EQUAL(eval("half", json::object()).status, 400);
  CAF_CHECK_EQUAL(error("colour", json::object()), "TARGETING_KEY_MISSING");
  CAF_CHECK_EQUAL(error("half", j(R"({"targetingKey": ""})")),
                  "TARGETING_KEY_MISSING");
  // The key attribute itself stands in for targetingKey.
  CAF_CHECK_EQUAL(eval("half", j(R"({"user": "u1"})")).status, 200);
  // A flag that needs no key needs none.
  CAF_CHECK_EQUAL(eval("full", json::object()).status, 200);
  auto details = eval("by_account", json::object())
                   .body["errorDetails"]
                   .get<std::string>();
  CAF_CHECK_NOT_EQUAL(details.find("'account'"), std::string::npos);
}

CAF_TEST(targetingKey is the key attribute unless the context sets it) {
  test::twin_flags flags{config};
  for (int i = 0; i < 200; ++i) {
    auto id = "user-" + std::to_string(i);
    auto via_tk = ofrep_evaluate(flags, "by_account",
                                 json{{"targetingKey", id}});
    auto direct = flags.evaluate("by_account", {{"account", id}});
    CAF_CHECK_EQUAL(via_tk.body["value"], direct.enabled);
    // An explicit attribute wins over targetingKey.
    auto both = ofrep_evaluate(flags, "by_account",
                               json{{"targetingKey", "other"},
                                    {"account", id}});
    CAF_CHECK_EQUAL(both.body["value"], direct.enabled);
  }
}

CAF_TEST(numbers and booleans reach rules as their JSON text) {
  auto rules = j(R"({"features": {
    "n": {"rules": [{"attribute": "age", "op": "gte", "values": [18]}],
          "rollout": 0},
    "b": {"rules": [{"attribute": "pro", "op": "eq", "values": ["true"]}],
          "rollout": 0}}})");
  test::twin_flags flags{rules};
  auto value = [&](const char* flag, const char* context) {
    return field_of(ofrep_evaluate(flags, flag, j(context)), "value");
  };
  CAF_CHECK_EQUAL(value("n", R"({"age": 21})"), true);
  CAF_CHECK_EQUAL(value("n", R"({"age": 17})"), false);
  CAF_CHECK_EQUAL(value("b", R"({"pro": true})"), true);
  CAF_CHECK_EQUAL(value("b", R"({"pro": false})"), false);
}

CAF_TEST(bulk evaluation lists every flag and keeps failures in the list) {
  test::twin_flags flags{config};
  auto all = ofrep_evaluate_all(flags, json::object());
  CAF_CHECK_EQUAL(all.status, 200);
  auto& list = all.body["flags"];
  CAF_CHECK_EQUAL(list.size(), config["features"].size());
  std::size_t failures = 0;
  for (auto& item : list)
    if (item.contains("errorCode")) {
      ++failures;
      CAF_CHECK_EQUAL(item["errorCode"], "TARGETING_KEY_MISSING");
    }
  CAF_CHECK_GREATER(failures, 0u);
  auto bad = ofrep_evaluate_all(flags, j(R"({"a": {}})"));
  CAF_CHECK_EQUAL(bad.status, 400);
  CAF_CHECK_EQUAL(bad.body["errorCode"], "INVALID_CONTEXT");
  CAF_CHECK(!bad.body.contains("key"));
}

CAF_TEST(request bodies that are not JSON are PARSE_ERROR with a position) {
  ofrep_answer err;
  CAF_CHECK(!ofrep_request_context("{\"context\": ", "f", err));
  CAF_CHECK_EQUAL(err.status, 400);
  CAF_CHECK_EQUAL(err.body["errorCode"], "PARSE_ERROR");
  CAF_CHECK_EQUAL(err.body["key"], "f");
  auto details = err.body["errorDetails"].get<std::string>();
  CAF_CHECK_NOT_EQUAL(details.find("request body:1:"), std::string::npos);
  CAF_CHECK(!ofrep_request_context(R"({"context": [1]})", "f", err));
  CAF_CHECK_EQUAL(err.body["errorCode"], "INVALID_CONTEXT");
  CAF_CHECK(!ofrep_request_context(R"("x")", "", err));
  CAF_CHECK_EQUAL(err.body["errorCode"], "INVALID_CONTEXT");
  CAF_CHECK(!err.body.contains("key"));
  auto ctx = ofrep_request_context(R"({"context": {"targetingKey": "u"}})",
                                   "f", err);
  CAF_REQUIRE(ctx);
  CAF_CHECK_EQUAL((*ctx)["targetingKey"], "u");
  // Named: the macro keeps a reference, and `*` of a temporary optional
  // would dangle.
  auto empty = ofrep_request_context("{}", "f", err);
  CAF_REQUIRE(empty);
  CAF_CHECK_EQUAL(*empty, json::object());
  // Deep nesting is refused, not recursed into.
  std::string deep(5000, '[');
  CAF_CHECK(!ofrep_request_context(deep, "f", err));
  CAF_CHECK_EQUAL(err.body["errorCode"], "PARSE_ERROR");
}

CAF_TEST(values must name declared variants) {
  auto problems = [](const char* text) {
    std::vector<std::string> out;
    for (auto& e : validate_features(json::parse(text)))
      out.push_back(e.path + ": " + e.message);
    return out;
  };
  CAF_CHECK(problems(R"({"features": {"f": {"variants": {"a": 1},
                                             "values": {"a": {"x": 1}}}}})")
              .empty());
  auto typo = problems(R"({"features": {"f": {"variants": {"a": 1},
                                               "values": {"b": 2}}}})");
  CAF_REQUIRE_EQUAL(typo.size(), 1u);
  CAF_CHECK_EQUAL(typo[0], "features.f.values.b: not a variant of this flag; "
                           "the variants are a");
  auto no_variants = problems(R"({"features": {"f": {"values": {"a": 1}}}})");
  CAF_REQUIRE_EQUAL(no_variants.size(), 1u);
  CAF_CHECK_EQUAL(no_variants[0], "features.f.values: a flag with values "
                                  "needs variants to pick them");
  auto not_object = problems(R"({"features": {"f": {"variants": {"a": 1},
                                                     "values": [1]}}})");
  CAF_REQUIRE_EQUAL(not_object.size(), 1u);
  CAF_CHECK_EQUAL(not_object[0], "features.f.values: expected an object "
                                 "{variant: value}, got [1]");
}

} // namespace ofrep_suite

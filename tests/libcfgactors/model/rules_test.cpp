// Tests for rule_set: every built-in rule, wildcards, predicates that throw
// and rules that are refused at registration.
#define CAF_SUITE rules
#include "cfgactors_test.hpp"

#include <stdexcept>
#include <string>

#include "cfgactors/diff.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/rules.hpp"
#include "model/config_tree.hpp"

#include <functional>
#include <random>

namespace rules_suite {

using namespace cfgactors;

namespace {

// Runs `rules` over `candidate` and renders each error as
// `path|rule|message`, which keeps expectations readable on one line.
std::vector<std::string> check(const rule_set& rules, const json& candidate) {
  validation_errors errors;
  rules.check(candidate, errors);
  std::vector<std::string> result;
  for (auto& e : errors)
    result.push_back(e.path + "|" + e.rule + "|" + e.message);
  return result;
}

using lines = std::vector<std::string>;

json service() {
  return json::parse(R"({
    "logging": {"level": "INFO", "format": "text"},
    "buffer_size": 1024,
    "sample_rate": 0.1,
    "features": {
      "a": {"enabled": true, "rollout": 10},
      "b": {"enabled": false, "rollout": 150},
      "c": {"rollout": -1}
    },
    "servers": [{"port": 80}, {"port": 0}, {"host": "x"}],
    "schema_version": "1.2.3"
  })");
}

const std::vector<json> levels{"TRACE", "DEBUG", "INFO", "WARNING", "ERROR"};

} // namespace

CAF_TEST(one_of accepts an allowed value) {
  rule_set rules;
  rules.one_of("logging.level", levels);
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
}

CAF_TEST(one_of names the allowed values and the offending one) {
  rule_set rules;
  rules.one_of("logging.level", levels);
  auto config = service();
  config["logging"]["level"] = "LOUD";
  CAF_CHECK_EQUAL(check(rules, config),
                  lines{"logging.level|one_of|must be one of "
                        R"(["TRACE","DEBUG","INFO","WARNING","ERROR"], )"
                        R"(got "LOUD")"});
}

CAF_TEST(one_of compares numbers by value) {
  rule_set rules;
  rules.one_of("buffer_size", {512, 1024.0});
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
  rules.one_of("sample_rate", {0.5, "0.1"});
  CAF_CHECK_EQUAL(check(rules, service()),
                  lines{R"(sample_rate|one_of|must be one of [0.5,"0.1"], )"
                        "got 0.1"});
}

CAF_TEST(range accepts values inside and on its bounds) {
  rule_set rules;
  rules.range("buffer_size", 100, 100000).range("sample_rate", 0.1, 1);
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
  CAF_CHECK_EQUAL(rules.size(), 2u);
}

CAF_TEST(range reports values outside its bounds) {
  rule_set rules;
  rules.range("buffer_size", 100, 100000).range("sample_rate", 0, 0.05);
  auto config = service();
  config["buffer_size"] = 5;
  CAF_CHECK_EQUAL(check(rules, config),
                  (lines{"buffer_size|range|must be between 100 and 100000, "
                         "got 5",
                         "sample_rate|range|must be between 0 and 0.05, "
                         "got 0.1"}));
}

CAF_TEST(range rejects a value that is not a number) {
  rule_set rules;
  rules.range("buffer_size", 100, 100000);
  auto config = service();
  config["buffer_size"] = "big";
  CAF_CHECK_EQUAL(check(rules, config),
                  lines{"buffer_size|range|must be a number between 100 and "
                        R"(100000, got "big")"});
  config["buffer_size"] = true;
  CAF_CHECK_EQUAL(check(rules, config).size(), 1u);
}

CAF_TEST(pattern requires the whole string to match) {
  rule_set rules;
  rules.pattern("schema_version", R"(\d+\.\d+\.\d+)");
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
  auto config = service();
  config["schema_version"] = "v1.2.3-beta";
  CAF_CHECK_EQUAL(check(rules, config),
                  lines{R"(schema_version|pattern|must match /\d+\.\d+\.\d+/, )"
                        R"(got "v1.2.3-beta")"});
}

CAF_TEST(pattern rejects a value that is not a string) {
  rule_set rules;
  rules.pattern("buffer_size", "[0-9]+");
  CAF_CHECK_EQUAL(check(rules, service()),
                  lines{"buffer_size|pattern|must be a string matching "
                        "/[0-9]+/, got 1024"});
}

CAF_TEST(an invalid regex is refused at registration) {
  rule_set rules;
  std::string what;
  try {
    rules.pattern("schema_version", "([a-z");
  } catch (const std::invalid_argument& e) {
    what = e.what();
  }
  CAF_CHECK_NOT_EQUAL(what.find("invalid regex /([a-z/"), std::string::npos);
  CAF_CHECK_NOT_EQUAL(what.find("schema_version"), std::string::npos);
  CAF_CHECK_EQUAL(rules.size(), 0u);
}

CAF_TEST(type accepts each JSON type) {
  rule_set rules;
  rules.type("logging", "object")
    .type("servers", "array")
    .type("logging.level", "string")
    .type("sample_rate", "number")
    .type("buffer_size", "number")
    .type("buffer_size", "integer")
    .type("features.a.enabled", "boolean");
  auto config = service();
  config["nothing"] = nullptr;
  config["whole"] = 3.0; // draft 7 counts 3.0 as an integer
  rules.type("nothing", "null").type("whole", "integer");
  CAF_CHECK_EQUAL(check(rules, config), lines{});
}

CAF_TEST(type names the expected and the actual type) {
  rule_set rules;
  rules.type("sample_rate", "integer")
    .type("logging", "string")
    .type("buffer_size", "boolean")
    .type("servers", "object");
  CAF_CHECK_EQUAL(check(rules, service()),
                  (lines{"sample_rate|type|must be of type integer, got "
                         "number 0.1",
                         "logging|type|must be of type string, got object",
                         "buffer_size|type|must be of type boolean, got "
                         "integer 1024",
                         "servers|type|must be of type object, got array"}));
}

CAF_TEST(an unknown type name is refused at registration) {
  rule_set rules;
  CAF_CHECK_EQUAL(rules.size(), 0u);
  bool thrown = false;
  try {
    rules.type("buffer_size", "int");
  } catch (const std::invalid_argument&) {
    thrown = true;
  }
  CAF_CHECK(thrown);
}

CAF_TEST(a malformed rule path is refused at registration) {
  rule_set rules;
  bool thrown = false;
  try {
    rules.required("logging..level");
  } catch (const std::invalid_argument&) {
    thrown = true;
  }
  CAF_CHECK(thrown);
}

CAF_TEST(required passes when the path exists) {
  rule_set rules;
  rules.required("logging.level").required("servers[2].host");
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
}

CAF_TEST(required reports the full missing path) {
  rule_set rules;
  rules.required("database.host").required("logging.sink");
  CAF_CHECK_EQUAL(check(rules, service()),
                  (lines{"database.host|required|is required but missing",
                         "logging.sink|required|is required but missing"}));
}

CAF_TEST(rules other than required pass on an absent path) {
  rule_set rules;
  rules.one_of("database.driver", {"pg"})
    .range("database.port", 1, 65535)
    .pattern("database.host", "[a-z]+")
    .type("database", "object")
    .predicate("database", "never", [](const json&) {
      return std::optional<std::string>{"always fails"};
    });
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
}

CAF_TEST(a wildcard checks every key and reports concrete paths) {
  rule_set rules;
  rules.range("features.*.rollout", 0, 100);
  CAF_CHECK_EQUAL(check(rules, service()),
                  (lines{"features.b.rollout|range|must be between 0 and 100, "
                         "got 150",
                         "features.c.rollout|range|must be between 0 and 100, "
                         "got -1"}));
}

CAF_TEST(a wildcard over an array reports indexes) {
  rule_set rules;
  rules.range("servers.*.port", 1, 65535);
  CAF_CHECK_EQUAL(check(rules, service()),
                  lines{"servers[1].port|range|must be between 1 and 65535, "
                        "got 0"});
}

CAF_TEST(required under a wildcard applies to each match) {
  rule_set rules;
  rules.required("features.*.enabled").required("servers.*.port");
  CAF_CHECK_EQUAL(check(rules, service()),
                  (lines{"features.c.enabled|required|is required but "
                         "missing",
                         "servers[2].port|required|is required but missing"}));
}

CAF_TEST(a wildcard over an absent or scalar node matches nothing) {
  rule_set rules;
  rules.required("plugins.*.name").required("buffer_size.*");
  rules.range("plugins.*", 0, 1);
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
}

CAF_TEST(consecutive wildcards expand every level) {
  rule_set rules;
  rules.type("features.*.*", "boolean");
  auto errors = check(rules, service());
  CAF_CHECK_EQUAL(errors.size(), 3u); // the three rollout numbers
  CAF_CHECK_EQUAL(errors.front(), "features.a.rollout|type|must be of type "
                                  "boolean, got integer 10");
}

CAF_TEST(a predicate reports under its own name) {
  rule_set rules;
  rules.predicate("buffer_size", "power_of_two",
                  [](const json& v) -> std::optional<std::string> {
                    auto n = v.get<long long>();
                    if (n > 0 && (n & (n - 1)) == 0)
                      return std::nullopt;
                    return "must be a power of two";
                  });
  CAF_CHECK_EQUAL(check(rules, service()), lines{});
  auto config = service();
  config["buffer_size"] = 1000;
  CAF_CHECK_EQUAL(check(rules, config),
                  lines{"buffer_size|power_of_two|must be a power of two"});
}

CAF_TEST(a throwing predicate becomes an error for that path) {
  rule_set rules;
  // get<int>() on a string throws nlohmann::json::type_error.
  rules.predicate("logging.level", "numeric_level",
                  [](const json& v) -> std::optional<std::string> {
                    return v.get<int>() > 3 ? std::optional<std::string>{"x"}
                                            : std::nullopt;
                  });
  rules.predicate("logging.format", "opaque",
                  [](const json&) -> std::optional<std::string> { throw 42; });
  rules.range("buffer_size", 0, 10);
  validation_errors errors;
  rules.check(service(), errors);
  CAF_REQUIRE_EQUAL(errors.size(), 3u);
  CAF_CHECK_EQUAL(errors[0].path, "logging.level");
  CAF_CHECK_EQUAL(errors[0].rule, "numeric_level");
  CAF_CHECK_NOT_EQUAL(errors[0].message.find("check failed with an "
                                             "exception: "),
                      std::string::npos);
  CAF_CHECK_EQUAL(errors[1].path, "logging.format");
  CAF_CHECK_EQUAL(errors[1].message,
                  "check failed with an unknown exception");
  // The rules after the throwing ones still ran.
  CAF_CHECK_EQUAL(errors[2].rule, "range");
}

CAF_TEST(check appends to existing errors in registration order) {
  rule_set rules;
  rules.required("zzz").one_of("logging.format", {"json"});
  validation_errors errors{{"earlier", "parse", "kept"}};
  rules.check(service(), errors);
  CAF_REQUIRE_EQUAL(errors.size(), 3u);
  CAF_CHECK_EQUAL(errors[0].path, "earlier");
  CAF_CHECK_EQUAL(errors[1].path, "zzz");
  CAF_CHECK_EQUAL(errors[2].path, "logging.format");
}

CAF_TEST(a rule on the root path sees the whole tree) {
  rule_set rules;
  rules.type("", "object").predicate("", "small", [](const json& v) {
    return v.size() < 3 ? std::nullopt
                        : std::optional<std::string>{"too many keys"};
  });
  CAF_CHECK_EQUAL(check(rules, service()), lines{"|small|too many keys"});
}

CAF_TEST(a tree check reports its own paths and survives throwing) {
  rule_set rules;
  rules.range("buffer_size", 0, 10)
    .tree_check("servers",
                [](const json& candidate, validation_errors& out) {
                  auto& servers = candidate["servers"];
                  for (std::size_t i = 0; i < servers.size(); ++i)
                    if (!servers[i].contains("host"))
                      out.push_back({"servers[" + std::to_string(i) + "].host",
                                     "servers", "missing"});
                })
    .tree_check("thrower", [](const json&, validation_errors& out) {
      out.push_back({"a", "thrower", "found before throwing"});
      throw std::runtime_error("boom");
    });
  CAF_CHECK_EQUAL(rules.size(), 3u);
  CAF_CHECK_EQUAL(check(rules, service()),
                  (lines{"buffer_size|range|must be between 0 and 10, got 1024",
                         "servers[0].host|servers|missing",
                         "servers[1].host|servers|missing",
                         "a|thrower|found before throwing",
                         "|thrower|check failed with an exception: boom"}));
  bool refused = false;
  try {
    rules.tree_check("empty", nullptr);
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CAF_CHECK(refused);
  CAF_CHECK_EQUAL(rules.size(), 3u);
}

namespace {

/// check over a version's tree given the paths it changed, rendered as
/// check renders.
std::vector<std::string> check_changed(const rule_set& rules,
                                       const json& candidate,
                                       const std::vector<std::string>& changed) {
  validation_errors errors;
  rules.check(layer_data{detail::node_of(candidate)}, &changed, errors);
  std::vector<std::string> result;
  for (auto& e : errors)
    result.push_back(e.path + "|" + e.rule + "|" + e.message);
  return result;
}

} // namespace

CAF_TEST(a rule runs only where a write changed something) {
  int calls = 0;
  rule_set rules;
  rules.predicate("s.*.x", "counted", [&](const json&) {
    ++calls;
    return std::optional<std::string>{};
  });
  int subtree_calls = 0;
  rules.subtree_check("f", "f", [&](const json*, validation_errors&) {
    ++subtree_calls;
  });
  auto tree = json::parse(R"({"s":{"a":{"x":1},"b":{"x":2}},"f":{},"t":1})");
  CAF_CHECK(check_changed(rules, tree, {"t"}).empty());
  CAF_CHECK_EQUAL(calls, 0);
  CAF_CHECK_EQUAL(subtree_calls, 0);
  CAF_CHECK(check_changed(rules, tree, {"s.a.x"}).empty());
  CAF_CHECK_EQUAL(calls, 1); // the one match the change touches
  CAF_CHECK(check_changed(rules, tree, {"f.g"}).empty());
  CAF_CHECK_EQUAL(subtree_calls, 1);
  // A change above the pattern's path touches every match below it.
  CAF_CHECK(check_changed(rules, tree, {"s"}).empty());
  CAF_CHECK_EQUAL(calls, 3);
  // Without changed paths, everything runs.
  validation_errors errors;
  rules.check(layer_data{detail::node_of(tree)}, nullptr, errors);
  CAF_CHECK_EQUAL(calls, 5);
  CAF_CHECK_EQUAL(subtree_calls, 2);
}

CAF_TEST(rules along a change find what the whole check finds) {
  // Random edits to trees these rules accept: the errors of the rules the
  // change touches are the whole check's errors.
  rule_set rules;
  rules.range("a.*.n", 0, 5)
    .required("b.c")
    .one_of("d", {json(1), json(2), json(3)})
    .type("e.*", "integer")
    .type("*.x", "string")
    .subtree_check("f", "f", [](const json* f, validation_errors& out) {
      if (f != nullptr && f->is_object() && f->size() > 2)
        out.push_back({"f", "f", "more than two"});
    });
  std::mt19937 rng{20261207};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const char* keys[] = {"a", "b", "c", "d", "e", "f", "n", "x"};
  std::function<json(int)> value = [&](int depth) -> json {
    switch (pick(depth > 0 ? 5 : 3)) {
      case 0: return pick(8);
      case 1: return "s";
      case 2: return json::array({pick(3)});
      default: {
        auto x = json::object();
        for (int i = pick(4); i > 0; --i)
          x[keys[pick(8)]] = value(depth - 1);
        return x;
      }
    }
  };
  auto valid = json::parse(R"({"a":{"p":{"n":1}},"b":{"c":0},"d":2,
                               "e":{"i":1},"f":{"g":1}})");
  CAF_REQUIRE(check(rules, valid).empty());
  std::size_t compared = 0;
  std::size_t refused = 0;
  for (int round = 0; round < 3000; ++round) {
    auto candidate = valid;
    for (int edits = 1 + pick(3); edits > 0; --edits) {
      json* at = &candidate;
      for (int depth = pick(3); depth > 0 && at->is_object() && !at->empty();
           --depth) {
        auto it = at->begin();
        std::advance(it, pick(static_cast<int>(at->size())));
        if (!it->is_object())
          break;
        at = &*it;
      }
      if (!at->is_object())
        continue;
      if (pick(4) == 0)
        at->erase(keys[pick(8)]);
      else
        (*at)[keys[pick(8)]] = value(2);
    }
    auto whole = check(rules, candidate);
    CAF_CHECK_EQUAL(check_changed(rules, candidate,
                                  changed_paths(valid, candidate)),
                    whole);
    ++compared;
    refused += whole.empty() ? 0 : 1;
  }
  CAF_CHECK_EQUAL(compared, 3000u);
  CAF_CHECK_GREATER(refused, 500u);
}

} // namespace rules_suite

#define CAF_SUITE flags
// Tests for feature flag evaluation: plain and object flags, sticky rollouts
// and their distribution, every rule op, variants, malformed flags (also
// fuzzed), validate_features and the validator refusing malformed flags.
#include "cfgactors_test.hpp"

#include <cstddef>
#include <iterator>
#include <map>
#include <random>
#include <string>
#include <vector>

#include "cfgactors/flags.hpp"

#include "flags/twin_flags.hpp"
#include "cfgactors/rules.hpp"
#include "cfgactors/snapshot.hpp"

#include "pipeline_fixture.hpp"

namespace flags_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

json with_flag(const char* name, json flag) {
  json config = json::object();
  config["features"][name] = std::move(flag);
  return config;
}

std::string key(std::size_t i) {
  return "user-" + std::to_string(i);
}

flag_context user(std::size_t i) {
  return flag_context{{"user", key(i)}};
}

constexpr std::size_t many = 100000;

// Whether `flag` in `config` is enabled for each of the first `n` users.
std::vector<bool> enabled_keys(const json& config, const char* flag,
                               std::size_t n) {
  test::twin_flags flags{config};
  std::vector<bool> result(n);
  for (std::size_t i = 0; i < n; ++i)
    result[i] = flags.enabled(flag, user(i));
  return result;
}

std::size_t count(const std::vector<bool>& xs) {
  std::size_t n = 0;
  for (bool x : xs)
    n += x ? 1 : 0;
  return n;
}

// The first problem validate_features reports, rendered as a reason.
std::string first_problem(const json& config) {
  auto errors = validate_features(config);
  if (errors.empty())
    return "";
  return "malformed:" + errors.front().path + ": " + errors.front().message;
}

std::vector<std::string> paths(const validation_errors& errors) {
  std::vector<std::string> result;
  for (auto& e : errors)
    result.push_back(e.path);
  return result;
}

} // namespace

CAF_TEST(plain booleans are on or off for everyone) {
  auto config = j(R"({"features": {"dark_mode": true, "beta": false}})");
  test::twin_flags flags{config};
  auto on = flags.evaluate("dark_mode", {{"user", "1"}});
  CAF_CHECK(on.enabled);
  CAF_CHECK_EQUAL(on.reason, "on");
  CAF_CHECK_EQUAL(on.variant, "");
  CAF_CHECK(!on.rule);
  CAF_CHECK(flags.enabled("dark_mode", {}, false));
  auto off = flags.evaluate("beta");
  CAF_CHECK(!off.enabled);
  CAF_CHECK_EQUAL(off.reason, "off");
  CAF_CHECK(!flags.enabled("beta", {}, true));
  CAF_CHECK_EQUAL(flags.variant("dark_mode", {}, "none"), "none");
}

CAF_TEST(a missing flag yields the fallback and says so) {
  auto config = j(R"({"features": {"other": true}, "logging": {}})");
  test::twin_flags flags{config};
  auto result = flags.evaluate("new_checkout", {}, true, "control");
  CAF_CHECK(result.enabled);
  CAF_CHECK_EQUAL(result.variant, "control");
  CAF_CHECK_EQUAL(result.reason, "missing");
  CAF_CHECK(result.defaulted());
  CAF_CHECK(!flags.enabled("new_checkout"));
  CAF_CHECK(flags.enabled("new_checkout", {}, true));
  CAF_CHECK_EQUAL(flags.variant("new_checkout", {}, "x"), "x");
  CAF_CHECK_EQUAL(flags.evaluate("").reason, "missing");
  // A member "" of `features` is no flag: the empty name stays missing, by
  // name and through a key.
  auto empty_named_config = j(R"({"features": {"": true}})");
  test::twin_flags empty_named{empty_named_config};
  CAF_CHECK_EQUAL(empty_named.evaluate("", {}, false).reason, "missing");
  CAF_CHECK(!empty_named.enabled(""));
  CAF_CHECK(empty_named.enabled("", {}, true));
  // No features at all, and a null flag (unset), are missing too.
  auto bare_config = j(R"({"logging": {}})");
  test::twin_flags bare{bare_config};
  CAF_CHECK_EQUAL(bare.evaluate("a").reason, "missing");
  auto nulled_config = j(R"({"features": {"a": null}})");
  test::twin_flags nulled{nulled_config};
  CAF_CHECK_EQUAL(nulled.evaluate("a", {}, true).reason, "missing");
  CAF_CHECK(nulled.enabled("a", {}, true));
}

CAF_TEST(an object flag is on unless disabled and disabled beats rules) {
  auto config = j(R"({"features": {
    "plain": {},
    "off": {"enabled": false, "default_variant": "control",
            "rules": [{"attribute": "tenant", "op": "eq", "values": ["acme"]}]},
    "on": {"enabled": true, "description": "fully on"}
  }})");
  test::twin_flags flags{config};
  CAF_CHECK_EQUAL(flags.evaluate("plain").reason, "on");
  CAF_CHECK(flags.enabled("plain"));
  CAF_CHECK(flags.enabled("on"));
  auto off = flags.evaluate("off", {{"tenant", "acme"}}, true);
  CAF_CHECK(!off.enabled);
  CAF_CHECK_EQUAL(off.reason, "disabled");
  CAF_CHECK_EQUAL(off.variant, "control");
  CAF_CHECK(!flags.enabled("off", {{"tenant", "acme"}}, true));
}

CAF_TEST(a 25 percent rollout lands within one percent and 50 keeps them) {
  auto at25 = enabled_keys(with_flag("checkout", j(R"({"rollout": 25})")),
                           "checkout", many);
  auto n = count(at25);
  CAF_MESSAGE(n << " of " << many << " keys in a 25% rollout");
  CAF_CHECK_GREATER_OR_EQUAL(n, 24000u);
  CAF_CHECK_LESS_OR_EQUAL(n, 26000u);
  // Raising the rollout keeps every key that was in.
  auto at50 = enabled_keys(with_flag("checkout", j(R"({"rollout": 50})")),
                           "checkout", many);
  std::size_t lost = 0;
  for (std::size_t i = 0; i < many; ++i)
    if (at25[i] && !at50[i])
      ++lost;
  CAF_CHECK_EQUAL(lost, 0u);
  auto m = count(at50);
  CAF_MESSAGE(m << " of " << many << " keys in a 50% rollout");
  CAF_CHECK_GREATER_OR_EQUAL(m, 49000u);
  CAF_CHECK_LESS_OR_EQUAL(m, 51000u);
}

CAF_TEST(rollouts are sticky across evaluators snapshots and other attributes) {
  auto flag = j(R"({"rollout": 30})");
  auto first = snapshot::make(1, "test", {}, with_flag("f", flag), now_ms());
  auto other_tree = with_flag("f", flag);
  other_tree["features"]["unrelated"] = j(R"({"rollout": 70})");
  other_tree["logging"] = j(R"({"level": "DEBUG"})");
  auto second = snapshot::make(7, "other", {}, other_tree, now_ms());
  test::twin_flags a{first};
  test::twin_flags b{second};
  std::size_t in = 0;
  for (std::size_t i = 0; i < 2000; ++i) {
    auto x = a.evaluate("f", user(i));
    auto y = b.evaluate("f", {{"tenant", "acme"}, {"user", key(i)}});
    CAF_CHECK_EQUAL(x, y);
    CAF_CHECK_EQUAL(x, a.evaluate("f", user(i)));
    CAF_CHECK_EQUAL(x.reason, x.enabled ? "rollout:in" : "rollout:out");
    in += x.enabled ? 1 : 0;
  }
  // Not all in or all out: the keys really are bucketed.
  CAF_CHECK_GREATER(in, 400u);
  CAF_CHECK_LESS(in, 800u);
}

CAF_TEST(two flags at 50 percent bucket keys independently) {
  auto config = j(R"({"features": {"a": {"rollout": 50}, "b": {"rollout": 50}}})");
  constexpr std::size_t keys = 20000;
  auto a = enabled_keys(config, "a", keys);
  auto b = enabled_keys(config, "b", keys);
  std::size_t both = 0;
  for (std::size_t i = 0; i < keys; ++i)
    if (a[i] && b[i])
      ++both;
  // A quarter of the keys, within one percent of them; one hash for both
  // flags would give a half.
  CAF_MESSAGE(both << " of " << keys << " keys in both");
  CAF_CHECK_GREATER_OR_EQUAL(both, 4800u);
  CAF_CHECK_LESS_OR_EQUAL(both, 5200u);
}

CAF_TEST(fractional rollouts count in hundredths of a percent) {
  auto config = with_flag("f", j(R"({"rollout": 0.5})"));
  test::twin_flags flags{config};
  std::size_t in = 0;
  for (std::size_t i = 0; i < 20000; ++i)
    in += flags.enabled("f", user(i)) ? 1 : 0;
  // 0.5% of 20000 = 100; truncating the fraction would give 0.
  CAF_MESSAGE(in << " of 20000 keys in a 0.5% rollout");
  CAF_CHECK_GREATER_OR_EQUAL(in, 60u);
  CAF_CHECK_LESS_OR_EQUAL(in, 140u);
}

CAF_TEST(the rollout key defaults to user and may name another attribute) {
  auto config = j(R"({"features": {
    "by_user": {"rollout": 50},
    "by_tenant": {"rollout": 50, "key": "tenant"},
    "none": {"rollout": 0},
    "all": {"rollout": 100}
  }})");
  test::twin_flags flags{config};
  auto missing = flags.evaluate("by_user", {{"tenant", "acme"}}, true);
  CAF_CHECK(!missing.enabled);
  CAF_CHECK_EQUAL(missing.reason, "missing_key:user");
  CAF_CHECK_EQUAL(flags.evaluate("by_user", {{"user", ""}}).reason,
                  "missing_key:user");
  CAF_CHECK_EQUAL(flags.evaluate("by_tenant", user(1)).reason,
                  "missing_key:tenant");
  // 0 and 100 need no key.
  CAF_CHECK_EQUAL(flags.evaluate("none", {}).reason, "rollout:out");
  CAF_CHECK_EQUAL(flags.evaluate("all", {}).reason, "on");
  CAF_CHECK(flags.enabled("all"));
  // Hashing the tenant: every user of one tenant gets the same answer, and
  // tenants differ.
  std::size_t tenants_in = 0;
  for (std::size_t t = 0; t < 200; ++t) {
    auto tenant = "tenant-" + std::to_string(t);
    auto answer = flags.enabled("by_tenant", {{"tenant", tenant}, {"user", "1"}});
    for (std::size_t u = 0; u < 5; ++u)
      CAF_CHECK_EQUAL(flags.enabled("by_tenant",
                                    {{"tenant", tenant}, {"user", key(u)}}),
                      answer);
    tenants_in += answer ? 1 : 0;
  }
  CAF_CHECK_GREATER(tenants_in, 50u);
  CAF_CHECK_LESS(tenants_in, 150u);
}

namespace {

struct op_case {
  const char* op;
  const char* values; // JSON array
  const char* attribute;
  bool matches;
};

// One rule; a match turns the flag on, no match leaves it at rollout 0.
bool rule_matches(const op_case& c) {
  json rule = {{"attribute", "a"}, {"op", c.op}, {"values", j(c.values)}};
  json flag = {{"rollout", 0}, {"rules", json::array({rule})}};
  auto config = with_flag("f", flag);
  CAF_REQUIRE_EQUAL(first_problem(config), "");
  test::twin_flags flags{config};
  auto result = flags.evaluate("f", {{"a", c.attribute}});
  CAF_CHECK_EQUAL(result.reason, c.matches ? "rule[0]:a " + std::string{c.op}
                                           : std::string{"rollout:out"});
  return result.enabled;
}

} // namespace

CAF_TEST(every op matches what it should and nothing else) {
  op_case cases[] = {
    {"eq", R"(["DE"])", "DE", true},
    {"eq", R"(["DE"])", "de", false},
    {"eq", R"([42])", "42", true},
    {"eq", R"([true])", "true", true},
    {"neq", R"(["DE"])", "FR", true},
    {"neq", R"(["DE"])", "DE", false},
    {"in", R"(["acme", "globex"])", "globex", true},
    {"in", R"(["acme", "globex"])", "initech", false},
    {"in", R"([1, 2, 3])", "2", true},
    {"not_in", R"(["acme", "globex"])", "initech", true},
    {"not_in", R"(["acme", "globex"])", "acme", false},
    {"starts_with", R"(["10.0.", "192.168."])", "192.168.1.7", true},
    {"starts_with", R"(["10.0."])", "110.0.0.1", false},
    {"ends_with", R"(["@example.com"])", "ann@example.com", true},
    {"ends_with", R"(["@example.com"])", "ann@example.org", false},
    {"ends_with", R"(["long suffix"])", "fix", false},
    {"contains", R"(["beta"])", "app-beta-2", true},
    {"contains", R"(["beta"])", "app-alpha", false},
    {"lt", R"([10])", "9.5", true},
    {"lt", R"([10])", "10", false},
    {"lte", R"([10])", "10", true},
    {"lte", R"([10])", "10.01", false},
    {"gt", R"([0.5])", "1e3", true},
    {"gt", R"([0.5])", "-1", false},
    {"gte", R"([-2])", "-2", true},
    {"gte", R"([-2])", "-3", false},
    // Attributes that are not numbers never match a numeric op.
    {"lt", R"([10])", "abc", false},
    {"lt", R"([10])", "", false},
    {"lt", R"([10])", "5abc", false},
    {"lt", R"([10])", " 5", false},
    {"gt", R"([10])", "inf", false},
    {"lt", R"([10])", "nan", false},
    {"semver_eq", R"(["2.0.0"])", "v2.0", true},
    {"semver_eq", R"(["2.0.0"])", "2.0.1", false},
    {"semver_lt", R"(["2.0.0"])", "1.10.3", true},
    {"semver_lt", R"(["2.0.0"])", "2.0.0", false},
    {"semver_lt", R"(["2.0.0"])", "2.0.0-rc.1", true},
    {"semver_lte", R"(["2.0.0"])", "2.0.0", true},
    {"semver_lte", R"(["2.0.0"])", "2.0.1", false},
    {"semver_gt", R"(["1.9.0"])", "1.10.0", true},
    {"semver_gt", R"(["1.9.0"])", "1.9.0+build.5", false},
    {"semver_gte", R"(["1.9.0"])", "1.9.0", true},
    {"semver_gte", R"(["1.9.0"])", "1.8.99", false},
    // Attributes that are not versions never match a version op.
    {"semver_lt", R"(["2.0.0"])", "latest", false},
    {"semver_gte", R"(["1.0.0"])", "1.2.3.4", false},
  };
  for (auto& c : cases) {
    CAF_MESSAGE(c.op << " " << c.values << " on \"" << c.attribute << "\"");
    CAF_CHECK_EQUAL(rule_matches(c), c.matches);
  }
}

CAF_TEST(a rule whose attribute is absent does not match even for not_in) {
  auto config = with_flag("f", j(R"({"rollout": 0, "rules": [
    {"attribute": "tenant", "op": "not_in", "values": ["acme"]},
    {"attribute": "tenant", "op": "neq", "values": ["acme"]}]})"));
  test::twin_flags flags{config};
  auto result = flags.evaluate("f", {{"user", "1"}});
  CAF_CHECK(!result.enabled);
  CAF_CHECK_EQUAL(result.reason, "rollout:out");
  CAF_CHECK_EQUAL(flags.evaluate("f", {{"tenant", "globex"}}).reason,
                  "rule[0]:tenant not_in");
}

CAF_TEST(rules are checked in order and the first match decides) {
  auto config = with_flag("f", j(R"({"rollout": 100, "rules": [
    {"attribute": "tenant", "op": "in", "values": ["acme"], "enabled": false},
    {"attribute": "country", "op": "eq", "values": ["DE"]},
    {"attribute": "app_version", "op": "semver_lt", "values": ["2.0.0"],
     "enabled": false}]})"));
  test::twin_flags flags{config};
  auto acme = flags.evaluate("f", {{"tenant", "acme"}, {"country", "DE"}});
  CAF_CHECK(!acme.enabled);
  CAF_CHECK_EQUAL(acme.reason, "rule[0]:tenant in");
  CAF_CHECK_EQUAL(acme.rule, std::optional<std::size_t>{0});
  auto de = flags.evaluate("f", {{"tenant", "globex"},
                                 {"country", "DE"},
                                 {"app_version", "1.0.0"}});
  CAF_CHECK(de.enabled);
  CAF_CHECK_EQUAL(de.reason, "rule[1]:country eq");
  CAF_CHECK_EQUAL(de.rule, std::optional<std::size_t>{1});
  auto old = flags.evaluate("f", {{"country", "FR"}, {"app_version", "1.0"}});
  CAF_CHECK(!old.enabled);
  CAF_CHECK_EQUAL(old.reason, "rule[2]:app_version semver_lt");
  auto rest = flags.evaluate("f", {{"country", "FR"}, {"app_version", "2.1"}});
  CAF_CHECK(rest.enabled);
  CAF_CHECK_EQUAL(rest.reason, "on");
  CAF_CHECK(!rest.rule);
}

CAF_TEST(a matching rule turns a flag on regardless of the rollout) {
  auto config = with_flag("f", j(R"({"rollout": 0, "rules": [
    {"attribute": "tenant", "op": "eq", "values": ["acme"]}]})"));
  test::twin_flags flags{config};
  for (std::size_t i = 0; i < 100; ++i) {
    CAF_CHECK(flags.enabled("f", {{"tenant", "acme"}, {"user", key(i)}}));
    CAF_CHECK(!flags.enabled("f", {{"tenant", "globex"}, {"user", key(i)}}));
  }
}

CAF_TEST(variants follow their weights within one percent) {
  auto config = with_flag("exp", j(R"({
    "variants": {"control": 50, "blue": 25, "green": 25, "never": 0},
    "default_variant": "control"})"));
  test::twin_flags flags{config};
  std::map<std::string, std::size_t> seen;
  std::size_t off = 0;
  for (std::size_t i = 0; i < many; ++i) {
    auto result = flags.evaluate("exp", user(i));
    off += result.enabled ? 0 : 1;
    ++seen[result.variant];
  }
  CAF_CHECK_EQUAL(off, 0u);
  CAF_CHECK_EQUAL(seen.size(), 3u);
  CAF_CHECK_EQUAL(seen.count("never"), 0u);
  auto within = [](std::size_t n, std::size_t expected) {
    return n + 1000 >= expected && n <= expected + 1000;
  };
  CAF_MESSAGE("control " << seen["control"] << ", blue " << seen["blue"]
                         << ", green " << seen["green"]);
  CAF_CHECK(within(seen["control"], 50000));
  CAF_CHECK(within(seen["blue"], 25000));
  CAF_CHECK(within(seen["green"], 25000));
  // Sticky: the same key keeps its variant.
  for (std::size_t i = 0; i < 100; ++i)
    CAF_CHECK_EQUAL(flags.variant("exp", user(i)),
                    flags.evaluate("exp", user(i)).variant);
}

CAF_TEST(variant buckets are independent of rollout buckets) {
  auto config = with_flag("exp", j(R"({"rollout": 25,
    "variants": {"a": 50, "b": 50}})"));
  test::twin_flags flags{config};
  std::size_t in = 0;
  std::size_t a = 0;
  for (std::size_t i = 0; i < 40000; ++i) {
    auto result = flags.evaluate("exp", user(i));
    if (!result.enabled)
      continue;
    ++in;
    a += result.variant == "a" ? 1 : 0;
  }
  // If the variant reused the rollout's bucket, every key in a 25% rollout
  // would land in the first half: all "a".
  CAF_MESSAGE(a << " of " << in << " keys in the rollout got variant a");
  CAF_CHECK_GREATER_OR_EQUAL(a * 100, in * 48);
  CAF_CHECK_LESS_OR_EQUAL(a * 100, in * 52);
}

CAF_TEST(rules pick variants and an off flag serves the default variant) {
  auto config = with_flag("exp", j(R"({"rollout": 50,
    "variants": {"control": 1, "blue": 1, "green": 1},
    "default_variant": "control",
    "rules": [
      {"attribute": "country", "op": "eq", "values": ["DE"], "variant": "blue"},
      {"attribute": "tenant", "op": "eq", "values": ["acme"], "enabled": false}
    ]})"));
  test::twin_flags flags{config};
  for (std::size_t i = 0; i < 200; ++i) {
    auto de = flags.evaluate("exp", {{"country", "DE"}, {"user", key(i)}});
    CAF_CHECK(de.enabled);
    CAF_CHECK_EQUAL(de.variant, "blue");
    auto acme = flags.evaluate("exp", {{"tenant", "acme"}, {"user", key(i)}});
    CAF_CHECK(!acme.enabled);
    CAF_CHECK_EQUAL(acme.variant, "control");
    auto rest = flags.evaluate("exp", user(i));
    if (!rest.enabled)
      CAF_CHECK_EQUAL(rest.variant, "control");
  }
  // Without a key: enabled by the rule, but no bucket to weigh variants by.
  auto keyless = with_flag("exp", j(R"({
    "variants": {"a": 1, "b": 1}, "default_variant": "b",
    "rules": [{"attribute": "tenant", "op": "eq", "values": ["acme"]}]})"));
  test::twin_flags k{keyless};
  auto r = k.evaluate("exp", {{"tenant", "acme"}});
  CAF_CHECK(r.enabled);
  CAF_CHECK_EQUAL(r.variant, "b");
  // No variants and no default: variant() gives the caller's fallback.
  auto full = with_flag("f", j(R"({"rollout": 100})"));
  test::twin_flags none{full};
  CAF_CHECK_EQUAL(none.variant("f", user(1), "fallback"), "fallback");
}

namespace {

struct malformed_case {
  const char* flag; // JSON value at features.x
  const char* path; // where the (first) problem is
  const char* says; // part of the message
};

} // namespace

CAF_TEST(every malformed form yields the fallback and names the path) {
  malformed_case cases[] = {
    {"42", "features.x", "got 42"},
    {R"("on")", "features.x", R"(got "on")"},
    {"[true]", "features.x", "got [true]"},
    {R"({"enable": true})", "features.x.enable", "unknown field"},
    {R"({"enabled": "yes"})", "features.x.enabled", R"(got "yes")"},
    {R"({"rollout": "abc"})", "features.x.rollout",
     R"(expected a number 0..100 (percent), got "abc")"},
    {R"({"rollout": 101})", "features.x.rollout", "got 101"},
    {R"({"rollout": -1})", "features.x.rollout", "got -1"},
    {R"({"rollout": true})", "features.x.rollout", "got true"},
    {R"({"key": ""})", "features.x.key", "context attribute"},
    {R"({"key": 5})", "features.x.key", "got 5"},
    {R"({"description": 5})", "features.x.description", "expected a string"},
    {R"({"rules": {}})", "features.x.rules", "expected a list of rules"},
    {R"({"rules": [5]})", "features.x.rules[0]", "expected a rule"},
    {R"({"rules": [{"op": "eq", "values": ["a"]}]})",
     "features.x.rules[0].attribute", "missing"},
    {R"({"rules": [{"attribute": "", "op": "eq", "values": ["a"]}]})",
     "features.x.rules[0].attribute", "context attribute"},
    {R"({"rules": [{"attribute": "a", "op": "like", "values": ["a"]}]})",
     "features.x.rules[0].op", R"(unknown op "like"; expected one of eq, neq)"},
    {R"({"rules": [{"attribute": "a", "values": ["a"]}]})",
     "features.x.rules[0].op", "missing"},
    {R"({"rules": [{"attribute": "a", "op": "eq"}]})",
     "features.x.rules[0].values", "missing"},
    {R"({"rules": [{"attribute": "a", "op": "in", "values": []}]})",
     "features.x.rules[0].values", "non-empty list"},
    {R"({"rules": [{"attribute": "a", "op": "in", "values": "a"}]})",
     "features.x.rules[0].values", "non-empty list"},
    {R"({"rules": [{"attribute": "a", "op": "eq", "values": ["a", "b"]}]})",
     "features.x.rules[0].values", "op eq takes exactly one value, got 2"},
    {R"({"rules": [{"attribute": "a", "op": "in", "values": ["a", null]}]})",
     "features.x.rules[0].values[1]", "got null"},
    {R"({"rules": [{"attribute": "a", "op": "in", "values": [{}]}]})",
     "features.x.rules[0].values[0]", "got {}"},
    {R"({"rules": [{"attribute": "a", "op": "lt", "values": ["10"]}]})",
     "features.x.rules[0].values[0]", R"(op lt compares numbers, got "10")"},
    {R"({"rules": [{"attribute": "a", "op": "semver_lt", "values": [2.1]}]})",
     "features.x.rules[0].values[0]", "expected a quoted string"},
    {R"({"rules": [{"attribute": "a", "op": "semver_lt", "values": ["two"]}]})",
     "features.x.rules[0].values[0]", R"(invalid semantic version "two")"},
    {R"({"rules": [{"attribute": "a", "op": "eq", "values": ["a"],
                    "enabled": "no"}]})",
     "features.x.rules[0].enabled", R"(got "no")"},
    {R"({"rules": [{"attribute": "a", "op": "eq", "values": ["a"],
                    "priority": 1}]})",
     "features.x.rules[0].priority", "unknown field"},
    {R"({"variants": {"a": 1}, "rules": [{"attribute": "a", "op": "eq",
        "values": ["a"], "variant": "z"}]})",
     "features.x.rules[0].variant", R"(unknown variant "z"; the variants are a)"},
    {R"({"rules": [{"attribute": "a", "op": "eq", "values": ["a"],
                    "enabled": false, "variant": "blue"}]})",
     "features.x.rules[0].variant", "cannot pick a variant"},
    {R"({"variants": ["a", "b"]})", "features.x.variants",
     "expected an object of variant weights"},
    {R"({"variants": {"a": -1}})", "features.x.variants.a", "got -1"},
    {R"({"variants": {"a": "x"}})", "features.x.variants.a", R"(got "x")"},
    {R"({"variants": {"a": 0}})", "features.x.variants",
     "at least one variant with a weight above 0"},
    {R"({"variants": {}})", "features.x.variants", "at least one variant"},
    {R"({"variants": {"a": 1e308, "b": 1e308}})", "features.x.variants",
     "more than a double holds"},
    {R"({"variants": {"": 1}})", "features.x.variants", "must not be empty"},
    {R"({"variants": {"a": 1}, "default_variant": "z"})",
     "features.x.default_variant", R"(unknown variant "z")"},
    {R"({"default_variant": 3})", "features.x.default_variant",
     "expected a variant name"},
  };
  for (auto& c : cases) {
    CAF_MESSAGE("features.x = " << c.flag);
    auto config = with_flag("x", j(c.flag));
    test::twin_flags flags{config};
    for (bool fallback : {false, true}) {
      auto result = flags.evaluate("x", {{"user", "1"}, {"a", "a"}}, fallback,
                                   "fb");
      CAF_CHECK_EQUAL(result.enabled, fallback);
      CAF_CHECK_EQUAL(result.variant, "fb");
      CAF_CHECK(result.malformed());
      CAF_CHECK(result.defaulted());
      auto prefix = "malformed:" + std::string{c.path} + ": ";
      CAF_CHECK_EQUAL(result.reason.compare(0, prefix.size(), prefix), 0);
      CAF_CHECK(result.reason.find(c.says) != std::string::npos);
      CAF_CHECK_EQUAL(flags.enabled("x", {{"user", "1"}}, fallback), fallback);
      // Evaluation reports what validate_features reports first.
      CAF_CHECK_EQUAL(result.reason, first_problem(config));
    }
    CAF_CHECK_EQUAL(flags.variant("x", {{"user", "1"}}, "fb"), "fb");
  }
}

CAF_TEST(a features value that is not an object makes every flag malformed) {
  auto config = j(R"({"features": [1, 2]})");
  test::twin_flags flags{config};
  auto result = flags.evaluate("x", {}, true);
  CAF_CHECK(result.enabled);
  CAF_CHECK_EQUAL(result.reason,
                  "malformed:features: expected an object of flags, got [1,2]");
  CAF_CHECK_EQUAL(paths(validate_features(config)),
                  std::vector<std::string>{"features"});
}

CAF_TEST(flag names with dots are escaped in problem paths) {
  auto config = j(R"({"features": {"a.b": {"rollout": 500}}})");
  test::twin_flags flags{config};
  auto result = flags.evaluate("a.b");
  CAF_CHECK_EQUAL(result.reason.compare(0, 32,
                                        "malformed:features.a\\.b.rollout:"),
                  0);
}

namespace {

// Random JSON shaped like flags: mostly the right keys with values of any
// type, so that every check is reached, plus invalid UTF-8 and odd numbers.
class flag_fuzzer {
public:
  explicit flag_fuzzer(uint32_t seed) : rng_(seed) {
    // nop
  }

  json value(int depth) {
    switch (pick(depth > 0 ? 9 : 6)) {
      case 0:
        return nullptr;
      case 1:
        return pick(2) == 0;
      case 2:
        return static_cast<int>(pick(240)) - 70;
      case 3:
        return static_cast<double>(pick(20000)) / 100.0 - 20.0;
      case 4:
        return word();
      case 5:
        return std::string{"\xff\xfe bad utf-8"};
      case 6:
      case 7: {
        json obj = json::object();
        auto n = pick(5);
        for (std::size_t i = 0; i < n; ++i)
          obj[word()] = value(depth - 1);
        return obj;
      }
      default: {
        json arr = json::array();
        auto n = pick(4);
        for (std::size_t i = 0; i < n; ++i)
          arr.push_back(pick(2) == 0 ? rule(depth - 1) : value(depth - 1));
        return arr;
      }
    }
  }

  json rule(int depth) {
    json r = json::object();
    if (pick(6) != 0)
      r["attribute"] = pick(5) == 0 ? value(depth) : json(word());
    if (pick(6) != 0)
      r["op"] = pick(5) == 0 ? value(depth) : json(word());
    if (pick(6) != 0) {
      json values = json::array();
      auto n = pick(3) + (pick(4) == 0 ? 0 : 1);
      for (std::size_t i = 0; i < n; ++i)
        values.push_back(pick(2) == 0 ? json(version()) : value(0));
      r["values"] = values;
    }
    if (pick(3) == 0)
      r["enabled"] = pick(4) == 0 ? value(0) : json(pick(2) == 0);
    if (pick(3) == 0)
      r["variant"] = word();
    return r;
  }

  json flag() {
    if (pick(8) == 0)
      return value(3);
    json f = json::object();
    if (pick(2) == 0)
      f["enabled"] = pick(4) == 0 ? value(0) : json(pick(4) != 0);
    if (pick(2) == 0)
      f["rollout"] = value(0);
    if (pick(3) == 0)
      f["key"] = pick(3) == 0 ? value(0) : json("user");
    if (pick(2) == 0) {
      json rules = json::array();
      auto n = pick(4);
      for (std::size_t i = 0; i < n; ++i)
        rules.push_back(rule(1));
      f["rules"] = pick(6) == 0 ? value(1) : rules;
    }
    if (pick(3) == 0) {
      json variants = json::object();
      auto n = pick(4);
      for (std::size_t i = 0; i < n; ++i)
        variants[word()] = value(0);
      f["variants"] = variants;
    }
    if (pick(4) == 0)
      f["default_variant"] = word();
    if (pick(10) == 0)
      f[word()] = value(1);
    return f;
  }

  flag_context context() {
    flag_context ctx;
    for (auto name : {"user", "a", "tenant", "version"})
      if (pick(4) != 0)
        ctx.set(name, pick(2) == 0 ? version() : word());
    return ctx;
  }

private:
  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng_);
  }

  std::string word() {
    static const char* words[] = {
      "enabled", "rollout", "key", "rules", "variants", "default_variant",
      "attribute", "op", "values", "variant", "eq", "in", "not_in", "lt",
      "gte", "semver_lt", "semver_eq", "contains", "user", "a", "tenant",
      "control", "blue", "", "12", "1.2.3"};
    return words[pick(std::size(words))];
  }

  std::string version() {
    static const char* versions[] = {"1.0.0", "2.0.0-rc.1", "v1.2", "x.y",
                                     "10",    "1.2.3.4",    "",     "3"};
    return versions[pick(std::size(versions))];
  }

  std::mt19937 rng_;
};

} // namespace

CAF_TEST(fuzzed flags never throw and are malformed exactly when invalid) {
  flag_fuzzer fuzz{20240607};
  std::size_t malformed = 0;
  std::size_t valid_objects = 0;
  for (int round = 0; round < 600; ++round) {
    auto flag = fuzz.flag();
    auto config = with_flag("x", flag);
    auto expected = first_problem(config);
    test::twin_flags flags{config};
    for (int i = 0; i < 4; ++i) {
      auto ctx = fuzz.context();
      auto result = flags.evaluate("x", ctx, true, "fb");
      if (expected.empty()) {
        CAF_CHECK(!result.malformed());
        CAF_CHECK(result.reason.compare(0, 6, "error:") != 0);
      } else {
        CAF_CHECK_EQUAL(result.reason, expected);
        CAF_CHECK(result.enabled);
        CAF_CHECK_EQUAL(result.variant, "fb");
      }
      CAF_CHECK_EQUAL(flags.enabled("x", ctx, true), result.enabled);
    }
    if (!expected.empty())
      ++malformed;
    else if (flag.is_object())
      ++valid_objects;
  }
  // The generator must exercise both sides.
  CAF_MESSAGE(malformed << " malformed, " << valid_objects
                        << " valid object flags");
  CAF_CHECK_GREATER(malformed, 100u);
  CAF_CHECK_GREATER(valid_objects, 50u);
}

CAF_TEST(validate_features lists every problem of every flag) {
  auto config = j(R"({"features": {
    "good": {"rollout": 10, "variants": {"a": 1}, "default_variant": "a",
             "rules": [{"attribute": "v", "op": "semver_gte",
                        "values": ["1.2.0"], "variant": "a"}]},
    "plain": true,
    "bad": {"rollout": "abc", "key": 1,
            "rules": [{"attribute": "t", "op": "in", "values": ["x"]},
                      {"attribute": "t", "op": "like", "values": []},
                      {"attribute": "t", "op": "lt", "values": ["1", 2]}]},
    "worse": 7
  }})");
  auto errors = validate_features(config);
  CAF_CHECK_EQUAL(paths(errors),
                  (std::vector<std::string>{
                    "features.bad.rollout", "features.bad.key",
                    "features.bad.rules[1].op", "features.bad.rules[1].values",
                    "features.bad.rules[2].values",
                    "features.bad.rules[2].values[0]", "features.worse"}));
  for (auto& e : errors)
    CAF_CHECK_EQUAL(e.rule, "flag");
  CAF_CHECK(validate_features(j(R"({"logging": {}})")).empty());
  CAF_CHECK(validate_features(j(R"({"features": {}})")).empty());
  CAF_CHECK_EQUAL(paths(validate_features(j(R"({"features": {"": true}})"))),
                  std::vector<std::string>{"features"});
  // The same problems through a rule_set.
  rule_set rules;
  add_feature_rules(rules);
  validation_errors through_rules;
  rules.check(config, through_rules);
  CAF_CHECK_EQUAL(through_rules, errors);
}

CAF_TEST(flag_context takes attributes from a list and set replaces) {
  flag_context ctx{{"tenant", "acme"}, {"user", "42"}};
  CAF_REQUIRE(ctx.find("tenant") != nullptr);
  CAF_CHECK_EQUAL(*ctx.find("tenant"), "acme");
  CAF_CHECK(ctx.find("country") == nullptr);
  ctx.set("tenant", "globex").set("country", "DE");
  CAF_CHECK_EQUAL(*ctx.find("tenant"), "globex");
  CAF_CHECK_EQUAL(*ctx.find("country"), "DE");
}

CAF_TEST(feature_flags keeps its snapshot alive) {
  auto snap = snapshot::make(3, "test", {}, j(R"({"features": {"f": true}})"),
                             now_ms());
  test::twin_flags flags{snap};
  snap.reset();
  CAF_CHECK(flags.enabled("f"));
  CAF_CHECK_EQUAL(flags.view().source()->version, 3u);
}

namespace {

struct validating_fixture : test::pipeline_fixture {
  static pipeline_options with_flag_rules() {
    auto rules = std::make_shared<rule_set>();
    add_feature_rules(*rules);
    pipeline_options opts;
    opts.validation.rules = std::move(rules);
    return opts;
  }

  validating_fixture() : test::pipeline_fixture(with_flag_rules()) {
    // nop
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(flag_validation_tests, validating_fixture)

CAF_TEST(a validator with the flag rules refuses malformed flags) {
  auto good = set("features.checkout", j(R"({"rollout": 25,
    "rules": [{"attribute": "tenant", "op": "eq", "values": ["acme"]}]})"));
  CAF_REQUIRE(good.ok());
  auto version = current()->version;
  auto bad = set("features.checkout.rules[0].op", "like");
  CAF_CHECK(!bad.ok());
  CAF_CHECK_EQUAL(bad.code, errc::validation_failed);
  CAF_CHECK_EQUAL(paths(bad.errors),
                  std::vector<std::string>{"features.checkout.rules[0].op"});
  CAF_CHECK_EQUAL(current()->version, version);
  // The last good flag still evaluates.
  test::twin_flags flags{current()};
  CAF_CHECK(flags.enabled("checkout", {{"tenant", "acme"}}));
  // A flip keeps rollout and rules: only `enabled` changes.
  CAF_REQUIRE(write(operation::flag("checkout", false)).ok());
  test::twin_flags flipped{current()};
  auto result = flipped.evaluate("checkout", {{"tenant", "acme"}});
  CAF_CHECK_EQUAL(result.reason, "disabled");
  CAF_CHECK_EQUAL((*current()->effective)["features"]["checkout"]["rollout"], 25);
}

CAF_TEST_FIXTURE_SCOPE_END()

// Last in the suite: every evaluation above went through both evaluators.
CAF_TEST(the compiled and the interpreted evaluator agreed on every case) {
  CAF_MESSAGE(test::twin_comparisons() << " evaluations compared");
  CAF_CHECK_GREATER(test::twin_comparisons(), 100000u);
}

} // namespace flags_suite

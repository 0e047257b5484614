#define CAF_SUITE compiled_flags
// Tests for the compiled form of feature flags: on generated flags (every op,
// rollouts, variants, rules, malformed fields, overlays) and many contexts it
// answers as the interpreter does, in enabled, variant, reason and rule; it
// is compiled once per snapshot and shared by its readers; an overlay that
// changes `features` gets flags of its own and leaves the snapshot's alone.
#include "cfgactors_test.hpp"

#include <cstddef>
#include <map>
#include <random>
#include <string>
#include <thread>
#include <vector>

#include "cfgactors/config_view.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/snapshot.hpp"

#include "flags/twin_flags.hpp"

namespace compiled_flags_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

const char* const op_names[] = {
  "eq",          "neq",       "in",        "not_in",     "starts_with",
  "ends_with",   "contains",  "lt",        "lte",        "gt",
  "gte",         "semver_eq", "semver_lt", "semver_lte", "semver_gt",
  "semver_gte",
};

// Attribute values that hit the edges of every op: numbers in several
// spellings, versions with pre-releases and build metadata, texts that are
// prefixes, suffixes and parts of the rules' values, and the empty text.
const char* const attribute_values[] = {
  "DE",        "de",          "42",         "true",       "acme",
  "globex",    "1",           "initech",    "10.0.0.1",   "user-12",
  "ann@x.com", "app-beta-2",  "",           "9.5",        "10",
  "-2.5",      "1e3",         "0",          "-0",         "abc",
  "inf",       "nan",         " 5",         "2.0.0",      "2.0.0-rc.1",
  "1.9.0-rc.2", "1.9.0-rc.1", "1.9.0-rc.1.1", "v1.2",     "1.2.0+b.7",
  "1.10.0",    "x.y",         "1.2.3.4",    "2.0.0-alpha.beta.1",
  "2.0.0-01",  "1.9.0-rc",    "1.9.0-RC.1", "V2",         "2.0.0-1",
};

class flag_generator {
public:
  explicit flag_generator(unsigned seed) : rng_(seed) {
    // nop
  }

  std::size_t pick(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng_);
  }

  bool chance(double p) {
    return std::bernoulli_distribution{p}(rng_);
  }

  json values_for(const std::string& op) {
    if (op == "lt" || op == "lte" || op == "gt" || op == "gte") {
      static const json numbers[] = {10, -2.5, 0, 1000, 9.5};
      return json::array({numbers[pick(std::size(numbers))]});
    }
    if (op.compare(0, 7, "semver_") == 0) {
      static const char* versions[] = {"2.0.0", "1.9.0-rc.1", "v1.2",
                                       "1.9.0-rc.1.1", "2.0.0-1", "1.10"};
      return json::array({versions[pick(std::size(versions))]});
    }
    static const json texts[] = {"DE",    42,    true,        "acme", "globex",
                                 "10.",   "@x.com", "beta",   "user-1",
                                 "1",     "",    "app",       -0.5,   "2.0.0"};
    bool single = op == "eq" || op == "neq";
    auto n = single ? 1 : 1 + pick(4);
    auto out = json::array();
    for (std::size_t i = 0; i < n; ++i)
      out.push_back(texts[pick(std::size(texts))]);
    return out;
  }

  json variants() {
    static const char* shapes[] = {
      R"({"a": 1})",
      R"({"a": 1, "b": 0, "c": 2})",
      R"({"a": 0.1, "b": 0.2, "c": 0.7})",
      R"({"x": 1e-9, "y": 3})",
      R"({"a": 1, "b": 1, "c": 1})",
      R"({"z": 0, "m": 5, "b": 0.001})",
    };
    return j(shapes[pick(std::size(shapes))]);
  }

  json rule(const json* variants) {
    std::string op = op_names[pick(std::size(op_names))];
    static const char* attributes[] = {"a", "b", "user"};
    json out{{"attribute", attributes[pick(3)]},
             {"op", op},
             {"values", values_for(op)}};
    auto enabled = pick(3);
    if (enabled == 1)
      out["enabled"] = true;
    else if (enabled == 2)
      out["enabled"] = false;
    if (enabled != 2 && variants != nullptr && chance(0.4)) {
      auto names = std::vector<std::string>{};
      for (auto& item : variants->items())
        names.push_back(item.key());
      out["variant"] = names[pick(names.size())];
    }
    return out;
  }

  json flag() {
    if (chance(0.08))
      return chance(0.5);
    json out = json::object();
    if (auto e = pick(4); e == 1)
      out["enabled"] = true;
    else if (e == 2 && chance(0.5))
      out["enabled"] = false;
    static const json rollouts[] = {0, 0.01, 12.5, 25, 33.333, 50, 99.99, 100};
    if (chance(0.7))
      out["rollout"] = rollouts[pick(std::size(rollouts))];
    if (chance(0.3))
      out["key"] = "account";
    if (chance(0.5))
      out["variants"] = variants();
    if (chance(0.5)) {
      if (out.contains("variants")) {
        auto& vs = out["variants"];
        auto it = vs.begin();
        std::advance(it, pick(vs.size()));
        out["default_variant"] = it.key();
      } else {
        out["default_variant"] = "plain";
      }
    }
    if (chance(0.7)) {
      auto variants = out.contains("variants") ? &out["variants"] : nullptr;
      auto rules = json::array();
      for (auto n = pick(4); n > 0; --n)
        rules.push_back(rule(variants));
      out["rules"] = std::move(rules);
    }
    if (chance(0.25))
      break_one(out);
    return out;
  }

  // Makes one part of an object flag malformed.
  void break_one(json& flag) {
    switch (pick(12)) {
      case 0:
        flag["rollout"] = "most";
        break;
      case 1:
        flag["rollout"] = 100.5;
        break;
      case 2:
        flag["variants"] = j(R"({"a": -1})");
        break;
      case 3:
        flag["default_variant"] = "nowhere";
        flag["variants"] = j(R"({"a": 1})");
        break;
      case 4:
        flag["key"] = "";
        break;
      case 5:
        flag["rules"] = j(R"([{"attribute": "a", "op": "like",
                               "values": ["x"]}])");
        break;
      case 6:
        flag["rules"] = j(R"([{"attribute": "a", "op": "lt",
                               "values": ["ten"]}])");
        break;
      case 7:
        flag["rules"] = j(R"([{"attribute": "a", "op": "semver_lt",
                               "values": ["2.x"]}])");
        break;
      case 8:
        flag["colour"] = "red";
        break;
      case 9:
        flag["enabled"] = "yes";
        break;
      case 10:
        flag["values"] = j(R"({"a": 1})");
        break;
      default:
        flag = chance(0.5) ? json{1, 2} : json{"on"};
    }
  }

  flag_context context() {
    flag_context out;
    static const char* keys[] = {"user", "account", "a", "b"};
    for (auto key : keys) {
      if (chance(0.15))
        continue;
      if (key == std::string{"user"} || key == std::string{"account"})
        out.set(key, chance(0.1) ? std::string{}
                                 : "user-" + std::to_string(pick(5000)));
      else
        out.set(key, attribute_values[pick(std::size(attribute_values))]);
    }
    return out;
  }

  // A merge patch for flag `name`: a change of a field, a deletion, or a
  // whole new flag.
  json overlay(const std::string& name) {
    json patch;
    switch (pick(5)) {
      case 0:
        patch = json{{"rollout", chance(0.5) ? json(100) : json(10)}};
        break;
      case 1:
        patch = json{{"rules", nullptr}};
        break;
      case 2:
        patch = nullptr;
        break;
      case 3:
        patch = flag();
        break;
      default:
        patch = json{{"enabled", chance(0.5)}};
    }
    return json{{"features", {{name, std::move(patch)}}}};
  }

private:
  std::mt19937 rng_;
};

// Counts the reasons seen, so that the generator is shown to reach each.
struct reason_counts {
  std::map<std::string, std::size_t> seen;

  void add(const flag_result& r) {
    // rule[2]:a eq -> rule; rollout:in stays whole.
    auto kind = r.reason.substr(0, r.reason.find_first_of("[:"));
    if (kind == "rollout")
      kind = r.reason;
    ++seen[kind];
  }
};

} // namespace

CAF_TEST(generated flags answer as the interpreter does in every context) {
  flag_generator gen{20261206};
  reason_counts reasons;
  auto before = test::twin_comparisons();
  for (int round = 0; round < 400; ++round) {
    auto config = json{{"features", json::object()}};
    std::vector<std::string> names;
    for (int i = 0; i < 5; ++i) {
      auto name = "f" + std::to_string(i) + (i == 4 ? ".dotted" : "");
      config["features"][name] = gen.flag();
      names.push_back(name);
    }
    auto snap = snapshot::make(1, "test", {}, config, now_ms());
    test::twin_flags flags{snap};
    auto overlay = gen.overlay(names[gen.pick(names.size())]);
    test::twin_flags tenant{config_view{snap, overlay}};
    for (int i = 0; i < 12; ++i) {
      auto ctx = gen.context();
      for (auto& name : names) {
        bool fallback = gen.chance(0.5);
        reasons.add(flags.evaluate(name, ctx, fallback, "fb"));
        reasons.add(tenant.evaluate(name, ctx, fallback, "fb"));
        flags.enabled(name, ctx, fallback);
        tenant.enabled(name, ctx, fallback);
        flags.variant(name, ctx, "fb");
        tenant.variant(name, ctx, "fb");
      }
      reasons.add(flags.evaluate("absent", ctx, true));
    }
  }
  for (auto& [kind, n] : reasons.seen)
    CAF_MESSAGE(kind << ": " << n);
  for (auto kind : {"on", "off", "disabled", "rule", "rollout:in",
                    "rollout:out", "missing_key", "missing", "malformed"})
    CAF_CHECK_GREATER(reasons.seen[kind], 50u);
  CAF_CHECK_EQUAL(test::twin_comparisons() - before, 400u * 12 * (5 * 6 + 1));
}

CAF_TEST(every op on every attribute value answers as the interpreter does) {
  flag_generator gen{7};
  std::size_t matched = 0;
  std::size_t total = 0;
  for (auto op : op_names) {
    for (int k = 0; k < 6; ++k) {
      auto config = json{{"features",
                          {{"x", {{"rollout", 0},
                                  {"rules", json::array({{
                                     {"attribute", "a"},
                                     {"op", op},
                                     {"values", gen.values_for(op)},
                                   }})}}}}}};
      test::twin_flags flags{config};
      for (auto value : attribute_values) {
        auto result = flags.evaluate("x", {{"a", value}});
        ++total;
        if (result.rule)
          ++matched;
      }
    }
  }
  // Both sides of the ops are exercised.
  CAF_MESSAGE(matched << " of " << total << " matched");
  CAF_CHECK_GREATER(matched, total / 5);
  CAF_CHECK_LESS(matched, total - total / 5);
}

CAF_TEST(a features value that is not an object is malformed for every name) {
  for (auto text : {"[1, 2]", "\"on\"", "5", "true", "null", "{}"}) {
    auto config = json{{"features", j(text)}};
    test::twin_flags flags{config};
    for (auto name : {"x", "", "a.b"}) {
      flags.evaluate(name, {}, true, "fb");
      flags.enabled(name, {}, true);
    }
  }
  // Through an overlay, too: replacing features, and deleting it.
  auto config = j(R"({"features": {"x": true}})");
  for (auto text : {R"({"features": [1]})", R"({"features": null})",
                    R"({"features": {"x": null}})"}) {
    test::twin_flags flags{config_view{config, j(text)}};
    flags.evaluate("x", {}, true, "fb");
  }
  CAF_CHECK_EQUAL(test::twin_flags{config}.evaluate("x").reason, "on");
}

CAF_TEST(a snapshot compiles its flags once and its readers share them) {
  auto snap = snapshot::make(1, "test", {},
                             j(R"({"features": {"f": {"rollout": 50}}})"),
                             now_ms());
  CAF_CHECK(snap->compiled_features.get() == nullptr);
  feature_flags first{snap};
  first.enabled("f", {{"user", "1"}});
  auto compiled = snap->compiled_features.get();
  CAF_REQUIRE(compiled != nullptr);
  feature_flags second{snap};
  second.evaluate("f", {{"user", "2"}});
  CAF_CHECK(snap->compiled_features.get() == compiled);
  // A tenant overlay that leaves `features` alone reads the same flags.
  feature_flags tenant{config_view{snap, j(R"({"db": {"port": 1}})")}};
  tenant.enabled("f", {{"user", "3"}});
  CAF_CHECK(snap->compiled_features.get() == compiled);
  // A copy of a snapshot is another value: it compiles its own.
  auto copy = std::make_shared<snapshot>(*snap);
  CAF_CHECK(copy->compiled_features.get() == nullptr);
  auto edited = *copy->effective;
  edited["features"]["f"] = false;
  copy->effective = layer_data{std::move(edited)};
  CAF_CHECK(!feature_flags{snapshot_ptr{copy}}.enabled("f", {{"user", "1"}},
                                                       true));
}

CAF_TEST(an overlay of features compiles for its view and not the snapshot) {
  auto snap = snapshot::make(1, "test", {},
                             j(R"({"features": {"f": {"rollout": 0}}})"),
                             now_ms());
  feature_flags tenant{
    config_view{snap, j(R"({"features": {"f": {"rollout": 100}}})")}};
  CAF_CHECK(tenant.enabled("f", {{"user", "1"}}));
  CAF_CHECK(snap->compiled_features.get() == nullptr);
  CAF_CHECK(!feature_flags{snap}.enabled("f", {{"user", "1"}}));
  // Copies of the tenant's feature_flags share what it compiled.
  auto copy = tenant;
  CAF_CHECK(copy.enabled("f", {{"user", "1"}}));
}

CAF_TEST(a flag key resolved against one snapshot answers for another) {
  // The key remembers where the flag was in the flags it was last resolved
  // against; a snapshot whose flags differ (another place, absent, present
  // again) must be told apart, or the key would read another flag.
  auto a = snapshot::make(1, "test", {},
                          json{{"features", {{"a", true},
                                             {"b", {{"rollout", 0}}},
                                             {"x", false}}}},
                          now_ms());
  auto b = snapshot::make(2, "test", {},
                          json{{"features", {{"x", true}, {"y", false}}}},
                          now_ms());
  auto c = snapshot::make(3, "test", {},
                          json{{"features", {{"y", true}}}}, now_ms());
  auto d = snapshot::make(4, "test", {}, json{{"features", 7}}, now_ms());
  flag_key x{"x"};
  flag_key y{"y"};
  flag_key unnamed{""};
  for (int round = 0; round < 3; ++round) {
    for (auto& snap : {a, b, c, d, b, a, c}) {
      feature_flags flags{snap};
      for (auto* key : {&x, &y, &unnamed}) {
        auto by_key = flags.evaluate_view(*key, {}, true, "fb").copy();
        auto by_name = flags.evaluate_view(key->name(), {}, true, "fb").copy();
        CAF_CHECK_EQUAL(test::show(by_key), test::show(by_name));
        CAF_CHECK_EQUAL(flags.enabled(*key, {}, true),
                        flags.enabled(key->name(), {}, true));
      }
    }
  }
  // Two evaluations of one snapshot's flags: the second through the place.
  feature_flags flags{a};
  CAF_CHECK(!flags.enabled(x));
  CAF_CHECK(!flags.enabled(x));
  CAF_CHECK(feature_flags{b}.enabled(x));
  // One key shared by threads that each alternate between a and b: every
  // answer is its snapshot's, whichever thread resolved the key last.
  std::vector<int> wrong(4, 0);
  std::vector<std::thread> threads;
  for (auto& count : wrong)
    threads.emplace_back([&a, &b, &x, &count] {
      feature_flags on_a{a};
      feature_flags on_b{b};
      for (int i = 0; i < 20000; ++i)
        count += (on_a.enabled(x, {}, true) ? 1 : 0)
                 + (on_b.enabled(x, {}, false) ? 0 : 1);
    });
  for (auto& t : threads)
    t.join();
  for (auto count : wrong)
    CAF_CHECK_EQUAL(count, 0);
}

CAF_TEST(threads racing for a fresh snapshot all get the same answers) {
  json config = json{{"features", json::object()}};
  flag_generator gen{99};
  for (int i = 0; i < 20; ++i)
    config["features"]["f" + std::to_string(i)] = gen.flag();
  std::vector<flag_context> contexts;
  for (int i = 0; i < 50; ++i)
    contexts.push_back(gen.context());
  std::vector<flag_result> expected;
  for (auto& ctx : contexts)
    for (int i = 0; i < 20; ++i)
      expected.push_back(
        detail::interpret_flag(config_view{config}, "f" + std::to_string(i),
                               ctx, false, {}));
  for (int round = 0; round < 20; ++round) {
    auto snap = snapshot::make(1, "test", {}, config, now_ms());
    std::vector<std::vector<flag_result>> got(4);
    std::vector<std::thread> threads;
    for (auto& out : got)
      threads.emplace_back([&snap, &contexts, &out] {
        feature_flags flags{snap};
        for (auto& ctx : contexts)
          for (int i = 0; i < 20; ++i)
            out.push_back(flags.evaluate("f" + std::to_string(i), ctx));
      });
    for (auto& t : threads)
      t.join();
    for (auto& out : got)
      CAF_CHECK(out == expected);
  }
}

} // namespace compiled_flags_suite

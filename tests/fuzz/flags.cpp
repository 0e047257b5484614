// Fuzzes feature flags: the structural check (validate_features and
// check_flag) and evaluation (feature_flags) for a few contexts. Input: a
// JSON document. An object with `features` is a whole configuration, which
// may also hold `overlay` (a merge patch evaluated through a config_view)
// and `contexts` (a list of attribute objects); anything else is the value
// of one flag, `features.f`.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cfgactors/config_view.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/merge.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors;

namespace {

std::string text_of(const json& value) {
  return value.is_string() ? value.get<std::string>() : fuzz::show(value);
}

std::string show(const flag_result& r) {
  return "{enabled " + std::to_string(r.enabled) + ", variant '" + r.variant
         + "', reason '" + r.reason + "', rule "
         + (r.rule ? std::to_string(*r.rule) : std::string{"-"}) + "}";
}

// The contexts every flag is evaluated for: fixed ones, the input's, and
// one per rule that has the rule's attribute set to its first value (so
// that rules match without the fuzzer guessing both sides).
std::vector<flag_context> contexts_for(const json& config) {
  std::vector<flag_context> result;
  result.emplace_back();
  result.push_back({{"user", "42"}});
  result.push_back({{"user", ""}, {"tenant", "acme"}});
  result.push_back({{"user", "7"}, {"tenant", "globex"},
                    {"app_version", "1.9.0"}, {"country", "DE"}});
  auto contexts = config.find("contexts");
  if (contexts != config.end() && contexts->is_array())
    for (std::size_t i = 0; i < contexts->size() && i < 4; ++i)
      if (auto& ctx = (*contexts)[i]; ctx.is_object()) {
        flag_context c;
        for (auto& [name, value] : ctx.items())
          c.set(name, text_of(value));
        result.push_back(std::move(c));
      }
  auto features = config.find("features");
  if (features == config.end() || !features->is_object())
    return result;
  for (auto& [name, flag] : features->items()) {
    if (!flag.is_object() || !flag.contains("rules")
        || !flag["rules"].is_array())
      continue;
    for (auto& rule : flag["rules"]) {
      if (result.size() >= 16)
        return result;
      if (!rule.is_object() || !rule.contains("attribute")
          || !rule["attribute"].is_string() || !rule.contains("values")
          || !rule["values"].is_array() || rule["values"].empty())
        continue;
      flag_context c{{"user", "42"}};
      c.set(rule["attribute"].get<std::string>(),
            text_of(rule["values"].front()));
      result.push_back(std::move(c));
    }
  }
  return result;
}

// The names to evaluate: the first flags of the config, plus one absent.
std::vector<std::string> names_in(const json& config) {
  std::vector<std::string> result{"absent", ""};
  auto features = config.find("features");
  if (features != config.end() && features->is_object())
    for (auto& [name, flag] : features->items())
      if (result.size() < 10)
        result.push_back(name);
  return result;
}

// The problems validate_features reports for flag `name`.
validation_errors problems_of(const validation_errors& all,
                              const std::string& name) {
  config_path flag{{std::string{"features"}, name}};
  auto prefix = flag.str();
  validation_errors result;
  for (auto& e : all)
    if (path_within(e.path, prefix))
      result.push_back(e);
  return result;
}

void check_flag(const feature_flags& flags, const json& config,
                const validation_errors& all, const std::string& name,
                const flag_context& ctx) {
  auto r = flags.evaluate(name, ctx);
  auto detail = name + ": " + show(r);
  FUZZ_CHECK(r.reason.rfind("error:", 0) != 0, detail);
  FUZZ_CHECK(flags.evaluate(name, ctx) == r, detail);
  // The fallbacks decide exactly when the flag is absent or malformed.
  auto with_fallbacks = flags.evaluate(name, ctx, true, "fb");
  if (r.defaulted()) {
    FUZZ_CHECK(!r.enabled && r.variant.empty(), detail);
    FUZZ_CHECK(with_fallbacks.enabled && with_fallbacks.variant == "fb",
               detail);
  } else {
    FUZZ_CHECK(with_fallbacks == r, detail);
  }
  FUZZ_CHECK(flags.enabled(name, ctx) == r.enabled, detail);
  FUZZ_CHECK(flags.enabled(name, ctx, true) == with_fallbacks.enabled,
             detail);
  FUZZ_CHECK(flags.variant(name, ctx, "fb")
               == (r.variant.empty() || r.defaulted() ? "fb" : r.variant),
             detail);
  FUZZ_CHECK(r.rule.has_value() == (r.reason.rfind("rule[", 0) == 0),
             detail);
  // A malformed flag reports the first problem validate_features finds.
  if (!name.empty() && config.contains("features")
      && config["features"].is_object()) {
    auto own = problems_of(all, name);
    FUZZ_CHECK(r.malformed() == !own.empty(), detail);
    if (!own.empty())
      FUZZ_CHECK(r.reason == "malformed:" + own.front().path + ": "
                               + own.front().message,
                 detail + " vs " + own.front().str());
  }
  if (r.defaulted())
    return;
  auto features = config.find("features");
  auto& flag = (*features)[name];
  FUZZ_CHECK(flag.is_boolean() || flag.is_object(), detail);
  if (!flag.is_object())
    return;
  // The variant is the default, the deciding rule's, or a weighted one.
  if (!r.variant.empty()) {
    auto ok = flag.value("default_variant", json()) == r.variant;
    if (r.rule)
      ok = ok || flag["rules"][*r.rule].value("variant", json()) == r.variant;
    if (flag.contains("variants") && flag["variants"].is_object()) {
      auto& variants = flag["variants"];
      auto weight = variants.find(r.variant);
      ok = ok || (weight != variants.end() && weight->get<double>() > 0);
    }
    FUZZ_CHECK(ok, detail);
  }
  // Raising the rollout only adds keys (docs/FLAGS.md, sticky rollouts).
  if (r.reason == "rollout:in" || r.reason == "rollout:out") {
    auto raised_config = config;
    auto& raised_flag = raised_config["features"][name];
    auto rollout = flag["rollout"].get<double>();
    for (double more : {rollout + 0.01, rollout + 1, rollout + 33}) {
      raised_flag["rollout"] = std::min(more, 100.0);
      feature_flags raised{raised_config};
      auto again = raised.evaluate(name, ctx);
      if (r.enabled)
        FUZZ_CHECK(again.enabled, detail + " then " + show(again));
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view text{reinterpret_cast<const char*>(data), size};
  auto input = fuzz::parse_json(text, 32);
  if (!input)
    return 0;
  auto config = input->is_object() && input->contains("features")
                  ? std::move(*input)
                  : json{{"features", {{"f", std::move(*input)}}}};

  // The structural check never throws, and every problem is a flag's.
  auto problems = validate_features(config);
  for (auto& e : problems) {
    FUZZ_CHECK(e.rule == "flag", e.str());
    FUZZ_CHECK(path_within(e.path, "features"), e.str());
  }

  feature_flags flags{config};
  auto names = names_in(config);
  auto contexts = contexts_for(config);
  for (auto& name : names)
    for (auto& ctx : contexts)
      check_flag(flags, config, problems, name, ctx);

  // Through an overlay, a view evaluates as the merged tree does. The base
  // is an effective tree (merges leave no nulls in objects).
  auto overlay = config.find("overlay");
  if (overlay != config.end() && overlay->is_object()) {
    auto base = merged(json::object(), config);
    config_view view{base, *overlay};
    auto effective = merged(base, *overlay);
    feature_flags through_view{view};
    feature_flags through_merge{effective};
    for (auto& name : names_in(effective))
      for (auto& ctx : contexts) {
        auto x = through_view.evaluate(name, ctx);
        auto y = through_merge.evaluate(name, ctx);
        FUZZ_CHECK(x == y, name + ": view " + show(x) + ", merged " + show(y));
      }
  }
  return 0;
}

// bench/flags: nanoseconds per feature flag evaluation (a plain bool, a
// sticky rollout, a flag with rules and variants, and the rule flag through a
// tenant overlay), printed next to a plain JSON lookup of the same bool in
// the same config as the baseline.
#include <chrono>
#include <cstdio>
#include <string>
#include <vector>

#include "cfgactors/cfgactors.hpp"

using namespace cfgactors;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr int rounds = 1'000'000;
constexpr int users = 1000;

json make_config() {
  auto config = json::parse(R"({
    "features": {
      "dark_mode": true,
      "checkout": {"rollout": 25},
      "search": {
        "rollout": 50,
        "variants": {"control": 50, "blue": 25, "green": 25},
        "default_variant": "control",
        "rules": [
          {"attribute": "tenant", "op": "in", "values": ["acme", "globex"],
           "enabled": false},
          {"attribute": "app_version", "op": "semver_lt", "values": ["2.0.0"],
           "enabled": false},
          {"attribute": "country", "op": "eq", "values": ["DE"],
           "variant": "blue"}
        ]
      }
    },
    "tenants": {"initech": {"features": {"search": {"rollout": 100}}}}
  })");
  // Other settings around the flags, as in a real service.
  for (int i = 0; i < 200; ++i)
    config["settings"]["k" + std::to_string(i)] = i;
  for (int i = 0; i < 50; ++i)
    config["features"]["other_" + std::to_string(i)] = i % 2 == 0;
  return config;
}

// Runs `fn(i)` `rounds` times; returns ns per call. `sink` keeps the
// compiler from dropping the work.
template <class F>
double ns_per_call(F fn, long& sink) {
  auto t0 = clock_type::now();
  for (int i = 0; i < rounds; ++i)
    sink += fn(i) ? 1 : 0;
  auto ns = std::chrono::duration<double, std::nano>(clock_type::now() - t0);
  return ns.count() / rounds;
}

} // namespace

int main() {
  auto config = make_config();
  std::vector<flag_context> contexts;
  for (int i = 0; i < users; ++i)
    contexts.push_back({{"user", "user-" + std::to_string(i)},
                        {"tenant", i % 3 == 0 ? "initech" : "hooli"},
                        {"country", i % 5 == 0 ? "DE" : "FR"},
                        {"app_version", "2.3.1"}});
  feature_flags flags{config};
  feature_flags tenant{config_view{config,
                                   overlay_for(config, "tenants.initech")}};
  long sink = 0;
  auto baseline = ns_per_call(
    [&](int) {
      auto& features = config["features"];
      auto it = features.find("dark_mode");
      return it != features.end() && it->is_boolean() && it->get<bool>();
    },
    sink);
  auto plain = ns_per_call(
    [&](int i) { return flags.enabled("dark_mode", contexts[i % users]); },
    sink);
  auto rollout = ns_per_call(
    [&](int i) { return flags.enabled("checkout", contexts[i % users]); },
    sink);
  auto rules = ns_per_call(
    [&](int i) { return flags.enabled("search", contexts[i % users]); },
    sink);
  auto with_variant = ns_per_call(
    [&](int i) {
      return !flags.evaluate("search", contexts[i % users]).variant.empty();
    },
    sink);
  auto overlaid = ns_per_call(
    [&](int i) { return tenant.enabled("search", contexts[i % users]); },
    sink);
  std::printf("flag evaluation, ns per call (%d calls each)\n", rounds);
  std::printf("  %-44s %8.1f\n", "baseline: json lookup of a bool", baseline);
  std::printf("  %-44s %8.1f\n", "enabled(): bool flag", plain);
  std::printf("  %-44s %8.1f\n", "enabled(): 25% rollout", rollout);
  std::printf("  %-44s %8.1f\n", "enabled(): 3 rules + rollout", rules);
  std::printf("  %-44s %8.1f\n", "evaluate(): 3 rules + rollout + variant",
              with_variant);
  std::printf("  %-44s %8.1f\n", "enabled(): rule flag via a tenant overlay",
              overlaid);
  std::printf("(checksum %ld)\n", sink);
}

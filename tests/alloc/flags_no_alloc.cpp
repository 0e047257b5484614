// Evaluating a flag allocates nothing: operator new is replaced in this
// program (it is not part of the suites' binary, where it would count every
// other test's allocations) and counted around loops of enabled() and
// evaluate_view() over every kind of flag: a bool, a rollout, rules of each
// operand kind, variants, a tenant overlay, a missing and a malformed flag.
// evaluate(), which copies its strings, is counted as well, so that a
// counter that counted nothing would fail the check on it. Prints the count
// per kind; exits 1 if any check fails or none ran.
#include <cstdio>
#include <string>
#include <vector>

#include "cfgactors/config_view.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/snapshot.hpp"

#include "counting_new.hpp"

using namespace cfgactors;

namespace {

int checks = 0;
int failures = 0;

void check(bool ok, const std::string& what) {
  ++checks;
  if (!ok) {
    ++failures;
    std::printf("FAILED: %s\n", what.c_str());
  }
}

constexpr int rounds = 2000;

// Allocations per call of `fn` over `rounds` calls, after one call that may
// compile the flags.
template <class F>
double allocations_per_call(F fn) {
  fn(0);
  auto before = allocations_so_far();
  for (int i = 0; i < rounds; ++i)
    fn(i);
  return static_cast<double>(allocations_so_far() - before) / rounds;
}

} // namespace

int main() {
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
          {"attribute": "app_version", "op": "semver_lt",
           "values": ["2.0.0-rc.2"], "enabled": false},
          {"attribute": "build", "op": "gte", "values": [100]},
          {"attribute": "email", "op": "ends_with",
           "values": ["@a-rather-long-domain-name.example.com"],
           "variant": "blue"}
        ]
      },
      "broken": {"rollout": "most"}
    },
    "tenants": {"initech": {"features": {"search": {"rollout": 100}}}}
  })");
  auto snap = snapshot::make(1, "test", {}, config, now_ms());
  std::vector<flag_context> contexts;
  for (int i = 0; i < 100; ++i)
    contexts.push_back(
      {{"user", "user-with-a-long-identifier-" + std::to_string(i)},
       {"tenant", i % 3 == 0 ? "initech" : "hooli"},
       {"app_version", i % 2 == 0 ? "2.0.0-rc.1.with.many.parts" : "2.3.1"},
       {"build", std::to_string(90 + i % 20)},
       {"email", "someone@a-rather-long-domain-name.example.com"}});
  feature_flags flags{snap};
  feature_flags tenant{
    config_view{snap, overlay_for(*snap->effective, "tenants.initech")}};
  auto ctx = [&contexts](int i) -> const flag_context& {
    return contexts[static_cast<std::size_t>(i) % contexts.size()];
  };
  long sink = 0;
  struct kind {
    const char* name;
    const feature_flags* flags;
    const char* flag;
  };
  kind kinds[] = {
    {"bool", &flags, "dark_mode"},
    {"25% rollout", &flags, "checkout"},
    {"rules + rollout + variant", &flags, "search"},
    {"tenant overlay", &tenant, "search"},
    {"missing", &flags, "nowhere"},
    {"malformed", &flags, "broken"},
  };
  std::printf("allocations per call (%d calls each)\n", rounds);
  std::printf("  %-28s %10s %15s %10s %10s %10s\n", "flag", "enabled()",
              "evaluate_view()", "evaluate()", "key: on", "key: view");
  double copied = 0;
  for (auto& k : kinds) {
    auto on = allocations_per_call(
      [&](int i) { sink += k.flags->enabled(k.flag, ctx(i)); });
    auto viewed = allocations_per_call([&](int i) {
      auto r = k.flags->evaluate_view(k.flag, ctx(i), false,
                                      "a fallback variant longer than SSO");
      sink += static_cast<long>(r.variant.size() + r.reason.size());
    });
    auto owned = allocations_per_call([&](int i) {
      sink += static_cast<long>(k.flags->evaluate(k.flag, ctx(i)).reason.size());
    });
    // Through a flag_key, made (and resolved) before counting, as a
    // service keeps one.
    flag_key key{k.flag};
    k.flags->enabled(key);
    auto key_on = allocations_per_call(
      [&](int i) { sink += k.flags->enabled(key, ctx(i)); });
    auto key_viewed = allocations_per_call([&](int i) {
      auto r = k.flags->evaluate_view(key, ctx(i), false,
                                      "a fallback variant longer than SSO");
      sink += static_cast<long>(r.variant.size() + r.reason.size());
    });
    copied += owned;
    std::printf("  %-28s %10.2f %15.2f %10.2f %10.2f %10.2f\n", k.name, on,
                viewed, owned, key_on, key_viewed);
    check(on == 0, std::string{k.name} + ": enabled() allocated");
    check(viewed == 0, std::string{k.name} + ": evaluate_view() allocated");
    check(key_on == 0, std::string{k.name} + ": enabled(key) allocated");
    check(key_viewed == 0,
          std::string{k.name} + ": evaluate_view(key) allocated");
  }
  // The counter sees allocations: evaluate() copies reasons longer than
  // the small-string buffer (rule[3]:email ends_with, malformed:...).
  check(copied > 0, "the counter counted evaluate()'s copies");
  std::printf("(checksum %ld)\n", sink);
  if (checks == 0) {
    std::printf("no checks ran\n");
    return 1;
  }
  std::printf("%d checks, %d failed\n", checks, failures);
  return failures == 0 ? 0 : 1;
}

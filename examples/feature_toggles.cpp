// The seed's "Toggle Features": flags live under `features.<name>`, validated,
// versioned and replicated like any value. A flag is a bool, or an object
// with a sticky percentage rollout, rules on request attributes and weighted
// variants. A tenant's overlay switches a flag for that tenant only, without
// a version. A malformed flag is refused at write time; met anyway (here in
// an overlay), it evaluates to the caller's default, with the reason.
#include <iostream>
#include <string>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;

namespace {

// Flags an operator adds at runtime, next to config.yaml's plain bools.
constexpr const char* flags_yaml = R"(features:
  new_checkout: {rollout: 25}
  beta_ui:
    rollout: 0
    rules:
      - {attribute: tenant, op: in, values: [acme]}
  search:
    variants: {control: 50, blue: 50}
    default_variant: control
    rules:
      - {attribute: tenant, op: eq, values: [acme], variant: blue}
tenants:
  globex:
    features:
      new_checkout: true
)";

constexpr int users = 10000;

flag_context user(int i, std::string tenant = "initech") {
  return {{"user", std::to_string(i)}, {"tenant", std::move(tenant)}};
}

/// How many of the users of `tenant` have `name` on.
int count_on(const feature_flags& flags, const char* name,
             const std::string& tenant = "initech") {
  int result = 0;
  for (int i = 0; i < users; ++i)
    result += flags.enabled(name, user(i, tenant)) ? 1 : 0;
  return result;
}

} // namespace

int main() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  std::cout << std::boolalpha;
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  rule_set rules; // + the flag checks: malformed flags are refused
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(CFGACTORS_EXAMPLES_DIR "/config.yaml")
                                .schema(CFGACTORS_EXAMPLES_DIR "/schema.json")
                                .rules(add_feature_rules(rules)));
  auto doc = parse_document(flags_yaml, document_format::yaml, "flags.yaml");
  if (!n || !doc) {
    std::cout << "FAILED: " << (n ? doc.error->str() : sys.render(n.error()))
              << '\n';
    return 1;
  }
  auto added = n->transaction().merge_patch(doc.value).commit().result;
  std::cout << "add the flags: " << added.describe() << '\n';
  check(added.status == write_status::committed, "the flags are admitted");
  auto flags = feature_flags{n->snapshot()}; // one version for every evaluation below
  // Plain bools, as in the seed.
  auto algo = flags.evaluate("new_algorithm");
  std::cout << "new_algorithm: " << algo.reason << '\n';
  check(algo.reason == "off" && flags.enabled("enhanced_monitoring"),
        "bool flags read as written");
  // A 25 % rollout: sticky per user, and raising it keeps everyone in.
  auto count25 = count_on(flags, "new_checkout");
  n->set("features.new_checkout.rollout", 50);
  auto later = feature_flags{n->snapshot()};
  auto count50 = count_on(later, "new_checkout");
  int kept = 0; // in at 25 % (the older snapshot) and at 50 %
  for (int i = 0; i < users; ++i)
    kept += flags.enabled("new_checkout", user(i))
            && later.enabled("new_checkout", user(i));
  std::cout << "new_checkout: " << count25 << " of " << users
            << " users at 25%, " << count50 << " at 50% (" << kept
            << " of them from the 25%)\n";
  check(count25 > 2300 && count25 < 2700, "about 25% in");
  check(count50 > 4700 && count50 < 5300 && kept == count25,
        "about 50% in, including everyone who was in");
  // A rule by tenant wins over the rollout (0 % here).
  auto acme = flags.evaluate("beta_ui", user(1, "acme"));
  auto other = flags.evaluate("beta_ui", user(1));
  std::cout << "beta_ui: acme " << acme.reason << ", initech "
            << other.reason << '\n';
  check(acme.enabled && acme.reason == "rule[0]:tenant in" && !other.enabled,
        "beta_ui on for acme only");
  // Variants: the rule picks acme's; everyone else is hashed by weight.
  int blue = 0;
  for (int i = 0; i < users; ++i)
    blue += flags.variant("search", user(i)) == "blue";
  auto acme_variant = flags.variant("search", user(1, "acme"));
  std::cout << "search: acme gets " << acme_variant << ", others blue "
            << blue << " / control " << users - blue << '\n';
  check(acme_variant == "blue" && blue > 4700 && blue < 5300,
        "variants by rule and by weight");
  // A tenant's overlay: new_checkout on for globex only, no new version.
  auto version = n->version();
  feature_flags globex{
    config_view(n->snapshot(), overlay_for(*n->snapshot()->effective, "tenants.globex"))};
  auto globex_on = count_on(globex, "new_checkout", "globex");
  auto base_on = count_on(feature_flags{n->snapshot()}, "new_checkout", "globex");
  std::cout << "new_checkout for globex: " << globex_on << " of " << users
            << " (without its overlay: " << base_on << ")\n";
  check(globex_on == users && base_on == count50 && n->version() == version,
        "the overlay turns it on for globex only, without a version");
  // A malformed flag: refused by the validator ...
  auto bad = json::parse(R"({"rules": [{"attribute": "tenant", "op": "like",
                                          "values": ["a"]}]})");
  auto r = n->set("features.broken", bad);
  std::cout << "write a malformed flag: " << r.result.describe() << '\n';
  check(r.result.status == write_status::rejected && !r.result.errors.empty()
          && r.result.errors[0].path == "features.broken.rules[0].op",
        "the malformed flag is refused, naming where");
  // ... and where it slips in anyway, the default and the reason.
  auto res = feature_flags{config_view(n->snapshot(), {{"features", {{"broken", bad}}}})}
               .evaluate("broken", user(1), true);
  std::cout << "broken flag evaluates to " << res.enabled << ": "
            << res.reason << '\n';
  check(res.enabled && res.malformed(), "a malformed flag gives the default");
  // enable_feature(): a flip is a write like any other.
  r = n->flag("new_algorithm", true);
  std::cout << "flip new_algorithm on: " << r.result.describe() << '\n';
  check(feature_flags{n->snapshot()}.enabled("new_algorithm"), "new_algorithm is on");
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

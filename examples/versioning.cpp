// The seed's "Configuration Versioning" (VersionedConfig.is_compatible and
// update_version): the config carries a semantic `schema_version`, and each
// component declares the oldest one it understands. A candidate a component
// cannot read — a new major version, an older one, none at all — is vetoed
// with a reason naming the component and the range it accepts; a compatible
// bump is accepted. Rollbacks are checked the same way.
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto contracts = std::make_shared<contract_registry>();
  contracts->add(make_contract("reporting").min_schema_version("1.0"));
  // config.yaml carries schema_version 1.0.0: it loads only if that suits
  // every contract.
  std::cout << "load config.yaml:\n";
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json")
                                .contracts(contracts));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  std::cout << "  version " << n->version() << ", schema_version "
            << n->get("schema_version", "?") << '\n';
  auto write = [&](std::vector<operation> ops) {
    auto result = n->write(write_request{std::move(ops), "example", 0, {}})
                    .result;
    std::cout << "  " << result.describe() << '\n';
    return result;
  };
  auto vetoed = [](const write_result& r, const std::string& text) {
    return r.status == write_status::rejected && r.errors.size() == 1
           && r.errors[0].rule == "schema_version"
           && r.errors[0].path == "schema_version"
           && r.errors[0].message.find(text) != std::string::npos;
  };
  // update_version(): a new field, and the patch version goes up with it.
  auto have = semver::parse(n->get("schema_version", ""));
  check(have.has_value(), "config.yaml carries a semantic version");
  auto next = have.value_or(semver{});
  ++next.patch;
  std::cout << "bump to " << next.str() << " with a new field:\n";
  auto v2 = write({operation::set("schema_version", next.str()),
                   operation::set("reporting.format", "csv")});
  check(v2.status == write_status::committed, "a compatible bump commits");
  std::cout << "a new major version, 2.0.0:\n";
  auto r = write({operation::set("schema_version", "2.0.0")});
  check(vetoed(r, "config is \"2.0.0\" but contract \"reporting\" needs "
                  ">= 1.0.0 and < 2.0.0"),
        "2.0.0 is vetoed for reporting, with the range it accepts");
  std::cout << "no schema_version at all:\n";
  r = write({operation::unset("schema_version")});
  check(vetoed(r, "missing"), "a config without schema_version is vetoed");
  // A newer component arrives: from now on 1.1 at least.
  contracts->add(make_contract("billing").min_schema_version("1.1.0"));
  std::cout << "billing needs 1.1.0; bump to 1.1.0:\n";
  auto v3 = write({operation::set("schema_version", "1.1.0"),
                   operation::set("billing.currency", "EUR")});
  check(v3.status == write_status::committed, "1.1.0 suits both components");
  std::cout << "roll back to version " << v2.version << " ("
            << next.str() << "):\n";
  r = write({operation::rollback(v2.version)});
  check(vetoed(r, "contract \"billing\" needs >= 1.1.0"),
        "a rollback below billing's minimum is vetoed");
  auto s = n->stats();
  if (!s || !s->validator) {
    std::cout << "FAILED: no stats\n";
    return 1;
  }
  auto& stats = *s->validator;
  std::cout << "vetoes counted under schema_version: "
            << stats.failures_by_rule["schema_version"] << '\n';
  check(stats.failures_by_rule["schema_version"] == 3
          && stats.committed == 3,
        "three vetoes, three versions");
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

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
  std::string err;
  auto schema = json_schema::from_file(dir + "/schema.json", &err);
  auto doc = parse_file(dir + "/config.yaml"); // schema_version: "1.0.0"
  if (!schema || !doc) {
    std::cout << "FAILED: " << (schema ? doc.error->str() : err) << '\n';
    return 1;
  }
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
  pipeline_options opts;
  opts.validation.schema = schema;
  opts.validation.contracts = contracts;
  auto p = spawn_pipeline(sys, opts);
  caf::scoped_actor self{sys};
  auto write = [&](std::vector<operation> ops) {
    write_result result;
    self->request(p.validator, 10s, write_atom::value,
                  write_request{std::move(ops), "example", 0, {}})
      .receive([&](write_result& r) { result = std::move(r); },
               [&](caf::error& e) { check(false, sys.render(e)); });
    std::cout << "  " << result.describe() << '\n';
    return result;
  };
  auto vetoed = [](const write_result& r, const std::string& text) {
    return r.status == write_status::rejected && r.errors.size() == 1
           && r.errors[0].rule == "schema_version"
           && r.errors[0].path == "schema_version"
           && r.errors[0].message.find(text) != std::string::npos;
  };
  std::cout << "load config.yaml (schema_version 1.0.0):\n";
  auto v1 = write({operation::replace_layer("file:config.yaml", doc.value)});
  check(v1.status == write_status::committed, "1.0.0 suits reporting >= 1.0");
  // update_version(): a new field, and the patch version goes up with it.
  auto have = semver::parse(doc.value.value("schema_version", ""));
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
  validator_stats stats;
  self->request(p.validator, 10s, stats_atom::value)
    .receive([&](validator_stats& x) { stats = std::move(x); },
             [&](caf::error& e) { check(false, sys.render(e)); });
  std::cout << "vetoes counted under schema_version: "
            << stats.failures_by_rule["schema_version"] << '\n';
  check(stats.failures_by_rule["schema_version"] == 3
          && stats.committed == 3,
        "three vetoes, three versions");
  shutdown(p);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's "Runtime Validation" (ValidatedRuntimeConfig and its
// @validator rules): every version must pass the JSON Schema and the rules
// registered in code (one_of, range, pattern, an arbitrary predicate). A write
// that breaks several of them is refused with every reason — path, rule and
// message — and the running config stays; a good write commits.
#include <iostream>
#include <optional>
#include <set>
#include <string>
#include <utility>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;

namespace {

/// What this service accepts beyond the schema, which only says what a
/// config of any service may look like.
rule_set service_rules() {
  rule_set rules;
  // No TRACE in production (the schema admits it).
  rules.one_of("logging.level", {"DEBUG", "INFO", "WARNING", "ERROR"});
  // Our database allows 100 connections per client (the schema: 1000).
  rules.range("database.pool_size", 1, 100);
  rules.pattern("database.host", "[a-z0-9]([a-z0-9.-]*[a-z0-9])?");
  // A rule across two values: waiting for a reply less long than for a
  // connection makes no sense.
  rules.predicate("timeouts", "read_after_connect",
                  [](const json& t) -> std::optional<std::string> {
                    auto connect = t.value("connect_ms", json(0));
                    auto read = t.value("read_ms", json(0));
                    if (read.is_number() && connect.is_number()
                        && read < connect)
                      return "read_ms (" + read.dump()
                             + ") must not be below connect_ms ("
                             + connect.dump() + ")";
                    return std::nullopt;
                  });
  return rules;
}

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json")
                                .rules(service_rules()));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  auto before = n->snapshot();
  std::cout << "version " << before->version << " loaded, logging.level="
            << n->get("logging.level", "?") << '\n';
  // One write breaking six checks: four rules and two schema keywords.
  auto bad = n->transaction()
               .set("logging.level", "TRACE")
               .set("database.pool_size", 500)
               .set("database.host", "db host!")
               .set("timeouts.read_ms", 100)
               .set("buffer_size", 5)
               .set("sample_rate", 1.5)
               .commit();
  std::cout << "bad write: " << to_string(bad.result.status) << " ("
            << to_string(bad.result.code) << "), "
            << bad.result.errors.size() << " reasons:\n";
  std::set<std::pair<std::string, std::string>> got;
  for (auto& e : bad.result.errors) {
    std::cout << "  path=" << e.path << " rule=" << e.rule
              << " message=" << e.message << '\n';
    got.emplace(e.path, e.rule);
  }
  std::set<std::pair<std::string, std::string>> want{
    {"logging.level", "one_of"},
    {"database.pool_size", "range"},
    {"database.host", "pattern"},
    {"timeouts", "read_after_connect"},
    {"buffer_size", "schema.minimum"},
    {"sample_rate", "schema.maximum"},
  };
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  check(bad.result.status == write_status::rejected
          && bad.result.code == errc::validation_failed,
        "the bad write is rejected as a validation failure");
  check(got == want, "every broken check is reported once, no other");
  check(n->version() == before->version, "no new version");
  check(n->snapshot()->hash == before->hash, "the config is unchanged");
  check(n->get("logging.level", "?") == "INFO", "logging.level stays INFO");
  // The same fields with values every check accepts.
  auto good = n->transaction()
                .set("logging.level", "WARNING")
                .set("database.pool_size", 50)
                .set("timeouts.read_ms", 8000)
                .commit();
  std::cout << "good write: " << good.result.describe() << '\n';
  check(good.result.status == write_status::committed,
        "the good write commits");
  check(n->version() == before->version + 1, "one new version");
  check(n->get<int>("database.pool_size", 0) == 50
          && n->get("logging.level", "?") == "WARNING",
        "the good values are current");
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's "Graceful Degradation" (apply_runtime_config with a backup,
// test_critical_functions() and a rollback): a database component applies
// every version that changes `database`, then checks that it can still work.
// A host that passes validation but cannot be reached fails that health
// check, and the contract guard rolls the configuration back on its own: the
// previous config is active again, and the reason is logged and counted.
#include <chrono>
#include <iostream>
#include <memory>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

/// Stands in for a connection pool: the hosts that answer are known here,
/// not in the config, which is why only trying tells a bad host.
struct database {
  std::mutex mtx;
  std::string host;
  const std::set<std::string> reachable{"localhost", "db-replica"};

  void connect(const std::string& to) {
    std::lock_guard<std::mutex> guard{mtx};
    host = to;
  }

  std::optional<std::string> test_critical_functions() {
    std::lock_guard<std::mutex> guard{mtx};
    if (reachable.count(host) == 0)
      return "cannot connect to " + host + ":5432";
    return std::nullopt;
  }
};

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  // The last error lines, to show that the rollback was logged with why.
  auto errors = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(16);
  errors->set_level(spdlog::level::err);
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
    "example", spdlog::sinks_init_list{
                 std::make_shared<spdlog::sinks::stderr_color_sink_mt>(),
                 errors}));
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
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json"));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  caf::scoped_actor self{sys};
  auto ask = [&](auto dest, auto result, auto... xs) {
    self->request(dest, 10s, xs...)
      .receive([&](decltype(result)& x) { result = std::move(x); },
               [&](caf::error& e) { check(false, sys.render(e)); });
    return result;
  };
  auto write = [&](operation op) {
    return n->write(write_request{{std::move(op)}, "api:operator", 0, {}})
      .result;
  };
  auto db = std::make_shared<database>();
  auto component = make_contract("database")
                     .prefix("database")
                     .apply([db](const snapshot& snap) {
                       auto& conf = (*snap.effective)["database"];
                       db->connect(conf.value("host", ""));
                     })
                     .health([db] { return db->test_critical_functions(); })
                     .build();
  auto guard = spawn_contract_guard(sys, component, n->store(), n->writer());
  // Let the guard subscribe and apply version 1 before anything changes.
  guard_stats g;
  for (int i = 0; i < 400 && g.version == 0; ++i) {
    std::this_thread::sleep_for(25ms);
    g = ask(guard, guard_stats{}, stats_atom::value);
  }
  auto good = write(operation::set("database.host", "db-replica"));
  std::cout << "switch to db-replica: " << good.describe() << '\n';
  // Valid, but nobody answers there.
  auto bad = write(operation::set("database.host", "db-down"));
  std::cout << "switch to db-down: " << bad.describe() << '\n';
  for (int i = 0; i < 400 && g.rollbacks == 0; ++i) {
    std::this_thread::sleep_for(25ms);
    g = ask(guard, guard_stats{}, stats_atom::value);
  }
  // The rollback is a version of its own; wait until the guard applied it.
  for (int i = 0; i < 400 && !(g.version > bad.version && g.healthy); ++i) {
    std::this_thread::sleep_for(25ms);
    g = ask(guard, guard_stats{}, stats_atom::value);
  }
  auto now = ask(n->store(), snapshot_ptr{}, get_atom::value);
  if (!now) {
    n->stop();
    return 1;
  }
  std::cout << "now: version " << now->version << " by " << now->origin
            << " (author " << now->author << ")"
            << ", database.host=" << (*now->effective)["database"]["host"]
            << "\nguard: applied=" << g.applied
            << " health_failures=" << g.health_failures
            << " rollbacks=" << g.rollbacks << " degraded=" << g.degraded
            << " healthy=" << g.healthy << '\n';
  check(good.status == write_status::committed
          && bad.status == write_status::committed,
        "both writes pass validation");
  check(g.health_failures == 1 && g.rollbacks == 1 && g.degraded == 0,
        "one failed health check, one rollback counted");
  check(now->version == bad.version + 1 && now->hash == good.hash
          && now->origin == "rollback:" + std::to_string(good.version)
          && now->author == "contract:database",
        "the guard's rollback restored the previous config");
  check(!db->test_critical_functions() && g.healthy,
        "the component runs on db-replica again");
  bool logged = false;
  for (auto& line : errors->last_formatted())
    logged = logged || (line.find("event=contract_rollback") != line.npos
                        && line.find("cannot connect to db-down") != line.npos);
  check(logged, "the rollback was logged with the reason");
  caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

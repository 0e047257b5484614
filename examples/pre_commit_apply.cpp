// The seed's apply_runtime_config ("Graceful Degradation"): validate, keep
// the old config, apply the new one, test the critical functions, and on a
// failure restore the old config and return false — all before the new
// config is live. Here the component registers a pre-commit check: the
// primary's validator applies each candidate that changes `database` to it
// and runs its health check before committing. A host nobody can reach is
// refused with the reason; no version is made, no subscriber hears of it,
// and the component is back on its old host.
#include <atomic>
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

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

/// Stands in for a connection pool: only trying tells a bad host.
struct database {
  std::mutex mtx;
  std::string host;
  const std::set<std::string> reachable{"localhost", "db-replica"};

  void set_current_config(const std::string& to) {
    std::lock_guard<std::mutex> guard{mtx};
    host = to;
  }

  std::string current() {
    std::lock_guard<std::mutex> guard{mtx};
    return host;
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
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  database db;
  db.set_current_config("localhost"); // as config.yaml says
  auto contracts = std::make_shared<contract_registry>();
  contracts->add_pre_commit(
    make_contract("database")
      .prefix("database")
      .apply([&db](const snapshot& s) {
        db.set_current_config(s.effective->at("database").at("host"));
      })
      .health([&db] { return db.test_critical_functions(); }),
    pre_commit_options{2s, true});
  system_config cfg;
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json")
                                .contracts(contracts));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  std::atomic<int> heard{0};
  auto sub = n->subscribe("database", [&](const change&) { ++heard; });
  check(static_cast<bool>(sub), "subscribed");

  // apply_runtime_config(new_config) -> bool
  auto apply_runtime_config = [&](const std::string& host) {
    auto r = n->set("database.host", host);
    if (!r.result.ok()) {
      std::cout << "config_rollback: " << r.result.describe() << '\n';
      return false;
    }
    std::cout << "config_applied_successfully: version " << r.result.version
              << '\n';
    return true;
  };

  auto before = n->version();
  check(!apply_runtime_config("db-primary"), "an unreachable host is refused");
  check(n->version() == before, "no version made for it");
  check(db.current() == "localhost",
        "the component is back on localhost, not " + db.current());
  check(n->get("database.host", "") == std::string{"localhost"},
        "the served config still says localhost, not "
          + n->get("database.host", ""));

  check(apply_runtime_config("db-replica"), "a reachable host is applied");
  check(n->version() == before + 1, "one version made");
  check(db.current() == "db-replica", "the component runs on db-replica");
  // The subscriber heard of the good version only.
  for (int i = 0; i < 200 && heard.load() < 1; ++i)
    std::this_thread::sleep_for(10ms);
  check(heard.load() == 1, "the subscriber heard one change, not the refused");
  n->stop();
  if (ok)
    std::cout << "example ok\n";
  return ok ? 0 : 1;
}

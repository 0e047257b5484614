// The seed's "Configuration Contracts" (LoggerConfigContract): the logger is
// a component with a contract. Its validate() is a veto the validator
// respects — a level the logger cannot use is refused with the reason, even
// though the schema admits it — and its apply() sets spdlog's level for
// every version that changes `logging`, run by a contract guard. Vetoes and
// applies are counted.
#include <cctype>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

/// The seed's LoggerConfigContract. validate_config(): the service logs at
/// four levels only; TRACE is refused although the schema admits it.
std::shared_ptr<contract> logger_contract() {
  return make_contract("logger")
    .prefix("logging") // can_handle_config()
    .validate([](const json& config) {
      validation_errors errors;
      auto level = config.value(json::json_pointer{"/logging/level"}, json{});
      for (auto ok : {"DEBUG", "INFO", "WARNING", "ERROR"})
        if (level == ok)
          return errors;
      errors.push_back(veto("logging.level",
                            "Invalid log level: " + level.dump()));
      return errors;
    })
    .apply([](const snapshot& snap) { // apply_config()
      auto level = (*snap.effective)["logging"].value("level", "INFO");
      for (auto& ch : level)
        ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
      spdlog::set_level(spdlog::level::from_str(level));
    })
    .build();
}

} // namespace

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
  auto logger = logger_contract();
  auto contracts = std::make_shared<contract_registry>();
  contracts->add(logger);
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json")
                                .contracts(contracts));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  auto guard = spawn_contract_guard(sys, logger, n->store(), n->writer());
  caf::scoped_actor self{sys};
  auto guard_now = [&] {
    guard_stats result;
    self->request(guard, 10s, stats_atom::value)
      .receive([&](guard_stats& x) { result = std::move(x); },
               [&](caf::error& e) { check(false, sys.render(e)); });
    return result;
  };
  // The guard applies what it is given; wait until it has caught up.
  auto applied = [&](uint64_t version) {
    for (int i = 0; i < 400; ++i) {
      if (guard_now().version >= version)
        return true;
      std::this_thread::sleep_for(25ms);
    }
    return false;
  };
  check(applied(1) && spdlog::get_level() == spdlog::level::info,
        "the logger runs at the file's INFO");
  auto r = n->set("logging.level", "DEBUG").result;
  std::cout << "set logging.level=DEBUG: " << r.describe() << '\n';
  check(applied(r.version) && spdlog::get_level() == spdlog::level::debug,
        "the contract applied DEBUG");
  // TRACE passes the schema, but the logger's contract vetoes it.
  r = n->set("logging.level", "TRACE").result;
  std::cout << "set logging.level=TRACE: " << r.describe() << '\n';
  check(r.status == write_status::rejected && r.errors.size() == 1
          && r.errors[0].rule == "contract:logger"
          && r.errors[0].path == "logging.level"
          && r.errors[0].message == "Invalid log level: \"TRACE\"",
        "the veto names the contract, the path and the reason");
  check(spdlog::get_level() == spdlog::level::debug,
        "the logger keeps its level");
  auto s = n->stats();
  if (!s || !s->validator) {
    std::cout << "FAILED: no stats\n";
    return 1;
  }
  auto& v = *s->validator;
  auto g = guard_now();
  std::cout << "validator: committed=" << v.committed
            << " rejected=" << v.rejected << " vetoes by contract:logger="
            << v.failures_by_rule["contract:logger"] << "\nguard: applied="
            << g.applied << " apply_failures=" << g.apply_failures
            << " health_failures=" << g.health_failures
            << " version=" << g.version << '\n';
  check(v.committed == 2 && v.rejected == 1
          && v.failures_by_rule["contract:logger"] == 1,
        "one veto counted for the logger");
  check(g.applied == 2 && g.apply_failures == 0 && g.version == 2,
        "two versions applied, none failed");
  caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

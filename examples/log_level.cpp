// The seed's "Update Log Level": `logging.level` in the config drives
// spdlog's level at runtime. A subscription on `logging` applies every new
// level; raising it to DEBUG makes debug lines appear, dropping the override
// brings the file's level back, and a level the schema does not know is
// refused with the reason while the running level stays.
#include <atomic>
#include <cctype>
#include <chrono>
#include <iostream>
#include <memory>
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

/// `DEBUG` → spdlog's `debug`; the schema admits only levels spdlog knows.
void apply_level(std::string level) {
  for (auto& ch : level)
    ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
  spdlog::set_level(spdlog::level::from_str(level));
}

bool wait_until(const std::atomic<uint64_t>& seen, uint64_t version) {
  for (int i = 0; i < 400 && seen < version; ++i)
    std::this_thread::sleep_for(25ms);
  return seen >= version;
}

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  // What the logger let through, to check which levels did.
  auto recorder = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(256);
  auto console = std::make_shared<spdlog::sinks::stderr_color_sink_mt>();
  spdlog::set_default_logger(std::make_shared<spdlog::logger>(
    "example", spdlog::sinks_init_list{console, recorder}));
  auto logged = [&](const std::string& text) {
    for (auto& line : recorder->last_formatted())
      if (line.find(text) != std::string::npos)
        return true;
    return false;
  };
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
  auto applied = std::make_shared<std::atomic<uint64_t>>(0);
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json"));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  apply_level(n->get("logging.level", "INFO"));
  spdlog::info("event=app_started level={}", n->get("logging.level", "?"));
  // The listener: every version that touches `logging` sets the level.
  auto sub = n->subscribe("logging", [applied](const change& c) {
    auto level = c.new_value().value("level", std::string{"INFO"});
    apply_level(level);
    spdlog::info("event=log_level_changed level={} version={}", level,
                 c.version);
    *applied = c.version;
  });
  check(static_cast<bool>(sub), "subscribe to logging");
  spdlog::debug("event=debug_probe step=before");
  // increase_verbosity(): DEBUG for a while ...
  auto r = n->set("logging.level", "DEBUG");
  std::cout << "set logging.level=DEBUG: " << r.result.describe() << '\n';
  check(r.result.status == write_status::committed, "DEBUG committed");
  check(wait_until(*applied, r.result.version), "listener applied DEBUG");
  spdlog::debug("event=debug_mode_enabled");
  check(logged("debug_mode_enabled"), "debug line shown at DEBUG");
  check(!logged("step=before"), "debug line hidden at INFO");
  // ... then back: dropping the override shows the file's level again.
  r = n->transaction().reset("logging.level").commit();
  std::cout << "reset logging.level: " << r.result.describe() << " (now "
            << n->get("logging.level", "?") << ")\n";
  check(wait_until(*applied, r.result.version), "listener applied INFO");
  check(spdlog::get_level() == spdlog::level::info, "spdlog back at info");
  spdlog::debug("event=debug_probe step=after");
  check(!logged("step=after"), "debug line hidden again");
  // A level the schema does not know: refused with the reason.
  auto version = n->version();
  r = n->set("logging.level", "LOUD");
  std::cout << "set logging.level=LOUD: " << r.result.describe() << '\n';
  check(r.result.status == write_status::rejected, "LOUD rejected");
  check(!r.result.errors.empty()
          && r.result.errors[0].path == "logging.level"
          && r.result.errors[0].rule == "schema.enum",
        "the reason names logging.level and schema.enum");
  check(n->version() == version, "no new version");
  check(n->get("logging.level", "?") == "INFO", "level stays INFO");
  check(spdlog::get_level() == spdlog::level::info, "spdlog stays at info");
  if (sub)
    n->unsubscribe(*sub);
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's EnvWatcher, as an actor: variables starting with APP_ become the
// `env` layer (APP_LOGGING__LEVEL → logging.level), typed by the schema, and
// every change of the environment becomes a version. A `file://` value is a
// secret read from that file; it is never logged.
#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <cfgactors/env_source.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::atomic<uint64_t> last_seen{0};

caf::behavior printer(caf::event_based_actor*, std::string prefix) {
  return {[prefix](const change& c) {
    std::cout << "version " << c.version << ": " << prefix << " is now "
              << c.new_value().dump() << '\n'
              << std::flush;
    last_seen = c.version;
  }};
}

bool wait_version(uint64_t v) {
  for (int i = 0; i < 400 && last_seen < v; ++i)
    std::this_thread::sleep_for(25ms);
  return last_seen >= v;
}

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  std::string err;
  auto schema = json_schema::from_file(dir + "/schema.json", &err);
  auto doc = parse_file(dir + "/config.yaml");
  if (!schema || !doc) {
    std::cerr << (schema ? doc.error->str() : err) << '\n';
    return 1;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  // A secret, as a container runtime would mount it.
  auto secret = fs::temp_directory_path()
                / ("cfgactors-env-secret-" + std::to_string(::getpid()));
  std::ofstream{secret} << "correct-horse-battery\n";
  setenv("APP_BUFFER_SIZE", "2048", 1); // the schema says integer: 2048
  setenv("APP_DATABASE__PASSWORD", ("file://" + secret.string()).c_str(), 1);
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  pipeline_options opts;
  opts.validation.schema = schema;
  auto pipe = spawn_pipeline(sys, opts);
  caf::scoped_actor self{sys};
  self->request(pipe.validator, 10s, write_atom::value,
                write_request{{operation::replace_layer("file:config.yaml",
                                                        doc.value)},
                              "example", 0, {}})
    .receive([](write_result&) {}, [](caf::error&) {});
  env_source_options eopts;
  eopts.prefix = "APP_";
  eopts.poll_interval = 100ms;
  eopts.schema = schema;
  auto src = spawn_env_source(sys, pipe.validator, eopts);
  source_status st;
  self->request(src, 10s, reload_atom::value)
    .receive([&](source_status& x) { st = std::move(x); },
             [](caf::error&) {});
  snapshot_ptr snap;
  self->request(pipe.store, 10s, get_atom::value)
    .receive([&](snapshot_ptr& x) { snap = std::move(x); },
             [](caf::error&) {});
  auto& eff = snap->effective;
  std::cout << "buffer_size from APP_BUFFER_SIZE: " << eff["buffer_size"]
            << "\ndatabase.password from a file:// secret: "
            << (eff["database"].value("password", "") == "correct-horse-battery"
                  ? "read (not printed)"
                  : "MISSING")
            << '\n';
  auto listener = sys.spawn(printer, std::string{"logging.level"});
  self->request(pipe.store, 10s, subscribe_atom::value,
                std::string{"logging.level"},
                caf::actor_cast<subscriber_actor>(listener))
    .receive([](uint64_t) {}, [](caf::error&) {});
  // Someone raises verbosity through the environment...
  setenv("APP_LOGGING__LEVEL", "DEBUG", 1);
  auto ok = wait_version(snap->version + 1);
  // ... and takes it back: the file's value shows again.
  unsetenv("APP_LOGGING__LEVEL");
  ok = wait_version(snap->version + 2) && ok;
  ok = ok && st.state == source_state::ok && eff["buffer_size"] == 2048;
  self->send_exit(src, caf::exit_reason::user_shutdown);
  self->send_exit(listener, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  fs::remove(secret);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's EnvWatcher, as an actor: variables starting with PROVIDE_ become
// the `env` layer (PROVIDE_BUFFER_SIZE → buffer_size, and the seed's
// PROVIDE_LOG_LEVEL → logging.level by an explicit mapping), typed by the
// schema; every change of the environment becomes a version, and its change
// set ({added, removed, modified}) is handed to a callback, as the seed's
// `watcher.start(handle_env_changes)`. A `file://` value is a secret read
// from that file; it is never logged. The environment is changed through
// cfgactors::env, which takes the lock the source reads under.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <deque>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <utility>

#include <unistd.h>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <cfgactors/env.hpp>
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

// The change sets the callback received, for main() to check.
std::mutex heard_mx;
std::condition_variable heard_cv;
std::deque<env_change_set> heard;

// The seed's handle_env_changes: log the change set (this one's values are
// not secrets; secret paths would arrive masked), then keep it.
void handle_env_changes(const env_change_set& changes) {
  std::cout << "env_changed added={";
  for (auto& [k, v] : changes.added)
    std::cout << k << ':' << v << ' ';
  std::cout << "} removed={";
  for (auto& [k, v] : changes.removed)
    std::cout << k << ':' << v << ' ';
  std::cout << "} modified={";
  for (auto& [k, v] : changes.modified)
    std::cout << k << ':' << v.first << "->" << v.second << ' ';
  std::cout << "} version=" << changes.version << '\n' << std::flush;
  std::lock_guard<std::mutex> guard{heard_mx};
  heard.push_back(changes);
  heard_cv.notify_all();
}

std::optional<env_change_set> next_change_set() {
  std::unique_lock<std::mutex> guard{heard_mx};
  if (!heard_cv.wait_for(guard, 10s, [] { return !heard.empty(); }))
    return std::nullopt;
  auto result = std::move(heard.front());
  heard.pop_front();
  return result;
}

using values = std::map<std::string, std::string>;

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
  env::set("PROVIDE_BUFFER_SIZE", "2048"); // the schema says integer: 2048
  env::set("PROVIDE_DATABASE__PASSWORD", "file://" + secret.string());
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
  eopts.prefix = "PROVIDE_";
  eopts.map = {{"PROVIDE_LOG_LEVEL", "logging.level"}};
  eopts.poll_interval = 100ms;
  eopts.schema = schema;
  eopts.on_change = handle_env_changes;
  auto src = spawn_env_source(sys, pipe.validator, eopts);
  source_status st;
  self->request(src, 10s, reload_atom::value)
    .receive([&](source_status& x) { st = std::move(x); },
             [](caf::error&) {});
  snapshot_ptr snap;
  self->request(pipe.store, 10s, get_atom::value)
    .receive([&](snapshot_ptr& x) { snap = std::move(x); },
             [](caf::error&) {});
  auto& eff = *snap->effective;
  std::cout << "buffer_size from PROVIDE_BUFFER_SIZE: " << eff["buffer_size"]
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
  // The first read is no change: nothing was handed to the callback yet.
  auto ok = [] {
    std::lock_guard<std::mutex> guard{heard_mx};
    return heard.empty();
  }();
  // Someone raises verbosity through the environment...
  env::set("PROVIDE_LOG_LEVEL", "DEBUG");
  auto added = next_change_set();
  ok = ok && added && added->added == values{{"PROVIDE_LOG_LEVEL", "DEBUG"}}
       && added->removed.empty() && added->modified.empty()
       && added->paths == values{{"PROVIDE_LOG_LEVEL", "logging.level"}}
       && added->version == snap->version + 1
       && wait_version(snap->version + 1);
  // ... turns it up further ...
  env::set("PROVIDE_LOG_LEVEL", "TRACE");
  auto modified = next_change_set();
  ok = ok && modified && modified->added.empty()
       && modified->modified.size() == 1
       && modified->modified.begin()->first == "PROVIDE_LOG_LEVEL"
       && modified->modified.begin()->second
            == std::make_pair(std::string{"DEBUG"}, std::string{"TRACE"})
       && modified->version == snap->version + 2
       && wait_version(snap->version + 2);
  // ... and takes it back: the file's value shows again.
  env::unset("PROVIDE_LOG_LEVEL");
  auto removed = next_change_set();
  ok = ok && removed && removed->removed == values{{"PROVIDE_LOG_LEVEL",
                                                    "TRACE"}}
       && removed->added.empty() && removed->modified.empty()
       && removed->version == snap->version + 3
       && wait_version(snap->version + 3);
  ok = ok && st.state == source_state::ok && eff["buffer_size"] == 2048;
  env::unset("PROVIDE_BUFFER_SIZE");
  env::unset("PROVIDE_DATABASE__PASSWORD");
  self->send_exit(src, caf::exit_reason::user_shutdown);
  self->send_exit(listener, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  fs::remove(secret);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

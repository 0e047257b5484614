// The seed's `@watch_config("config.yaml")`, as actors: a file source watches
// config.yaml, every accepted edit becomes a version, and a listener logs the
// changed keys and applies the new log level. A broken edit is refused and
// the running config stays.
//
// Without arguments it copies examples/config.yaml to a temporary directory
// and edits it itself (this is how CI runs it). With a path it watches that
// file until Ctrl-C: edit it in your editor and watch the output.
#include <atomic>
#include <cctype>
#include <chrono>
#include <csignal>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <sstream>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <cfgactors/file_source.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

std::atomic<uint64_t> last_seen{0};

/// Logs what changed, like the seed's on_config_change, and applies the
/// log level.
caf::behavior on_config_change(caf::event_based_actor*, int verbose) {
  return {[verbose](const change& c) {
    std::string keys;
    for (auto& p : c.paths)
      keys += (keys.empty() ? "" : ",") + p;
    if (verbose)
      std::cout << "config_reloaded version=" << c.version << " changed_keys=["
                << keys << "] source=file_watch\n"
                << std::flush;
    // The schema guarantees one of TRACE, DEBUG, INFO, WARNING, ERROR.
    auto level = c.after->effective->value(json::json_pointer{"/logging/level"},
                                          std::string{"INFO"});
    for (auto& ch : level)
      ch = static_cast<char>(std::tolower(static_cast<unsigned char>(ch)));
    spdlog::set_level(spdlog::level::from_str(level));
    last_seen = c.version;
  }};
}

std::string read_all(const fs::path& p) {
  std::ifstream in{p};
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

/// Writes like an editor: a temporary file renamed over the original.
void save(const fs::path& p, const std::string& text) {
  auto tmp = p;
  tmp += ".swp";
  std::ofstream{tmp} << text;
  fs::rename(tmp, p);
}

bool wait_version(uint64_t v) {
  for (int i = 0; i < 400 && last_seen < v; ++i)
    std::this_thread::sleep_for(25ms);
  return last_seen >= v;
}

source_status status_of(caf::scoped_actor& self, const source_actor& src) {
  source_status st;
  self->request(src, 10s, status_atom::value)
    .receive([&](source_status& x) { st = std::move(x); },
             [](caf::error&) {});
  return st;
}

std::atomic<bool> stop{false};

} // namespace

int main(int argc, char** argv) {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  std::string err;
  auto schema = json_schema::from_file(dir + "/schema.json", &err);
  if (!schema) {
    std::cerr << err << '\n';
    return 1;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  fs::path file;
  fs::path tmpdir;
  if (argc > 1) {
    file = argv[1];
  } else {
    tmpdir = fs::temp_directory_path()
             / ("cfgactors-file-watching-" + std::to_string(::getpid()));
    fs::create_directories(tmpdir);
    file = tmpdir / "config.yaml";
    fs::copy_file(dir + "/config.yaml", file,
                  fs::copy_options::overwrite_existing);
  }
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  pipeline_options opts;
  opts.validation.schema = schema;
  auto pipe = spawn_pipeline(sys, opts);
  file_source_options fopts;
  fopts.files.push_back({file.string(), false});
  auto src = spawn_file_source(sys, pipe.validator, fopts);
  if (!src) {
    std::cerr << sys.render(src.error()) << '\n';
    shutdown(pipe);
    return 1;
  }
  caf::scoped_actor self{sys};
  auto listener = sys.spawn(on_config_change, 1);
  self->request(pipe.store, 10s, subscribe_atom::value, std::string{},
                caf::actor_cast<subscriber_actor>(listener))
    .receive([](uint64_t) {}, [](caf::error&) {});
  auto st = status_of(self, *src);
  // Wait for the first read to land.
  self->request(*src, 10s, reload_atom::value)
    .receive([&](source_status& x) { st = std::move(x); },
             [](caf::error&) {});
  std::cout << "watching " << file << " (version " << st.version << ")\n";
  bool ok = st.state == source_state::ok;
  if (argc > 1) {
    std::signal(SIGINT, [](int) { stop = true; });
    while (!stop)
      std::this_thread::sleep_for(100ms);
  } else {
    auto text = read_all(file);
    // 1. An editor saves a new level and buffer size.
    auto edited = text;
    edited.replace(edited.find("level: INFO"), 11, "level: DEBUG");
    edited.replace(edited.find("buffer_size: 1024"), 17, "buffer_size: 4096");
    save(file, edited);
    ok = wait_version(st.version + 1) && ok;
    // 2. A broken edit: refused, reported with line and column.
    save(file, edited + "  oops: [unclosed\n");
    std::this_thread::sleep_for(500ms);
    auto bad = status_of(self, *src);
    std::cout << "broken edit: " << to_string(bad.state) << ": "
              << bad.last_error << '\n';
    ok = ok && bad.state == source_state::degraded
         && last_seen == st.version + 1;
    // 3. Fixed again.
    auto fixed = edited;
    fixed.replace(fixed.find("buffer_size: 4096"), 17, "buffer_size: 8192");
    save(file, fixed);
    ok = wait_version(st.version + 2) && ok;
    std::cout << "fixed: " << to_string(status_of(self, *src).state) << '\n';
  }
  self->send_exit(*src, caf::exit_reason::user_shutdown);
  self->send_exit(listener, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  if (!tmpdir.empty())
    fs::remove_all(tmpdir);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

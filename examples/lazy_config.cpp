// The seed's "Lazy Configuration" (LazyConfig): nothing is read before the
// first access, later accesses reuse what was loaded, and invalidate() makes
// the next access load again. Two levels: a lazy node, started on first
// access from config.yaml and an optional .runtime-config.json, and a lazy
// typed struct built from it, which a hot path reads without any lookup.
// The struct keeps its values until it is invalidated, even after the node
// has picked up a rewritten file.
#include <chrono>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>
#include <thread>

#include <unistd.h>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct app_settings {
  bool debug_mode = false;
  int buffer_size = 0;

  static app_settings from(const node& n) {
    return {n.get<bool>("debug_mode", false), n.get<int>("buffer_size", 0)};
  }
};

std::ostream& operator<<(std::ostream& out, const app_settings& x) {
  return out << "debug_mode=" << std::boolalpha << x.debug_mode
             << " buffer_size=" << x.buffer_size;
}

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  auto tmp = fs::temp_directory_path()
             / ("cfgactors-lazy-" + std::to_string(::getpid()));
  fs::create_directories(tmp);
  fs::copy_file(dir + "/config.yaml", tmp / "config.yaml");
  auto runtime = tmp / ".runtime-config.json";
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
  // Declared after `sys`: a node must end before its actor system.
  lazy<node> config{[&] {
    std::cout << "loading_config\n";
    return node::primary(sys, node_options{}
                                .file((tmp / "config.yaml").string())
                                .optional_file(runtime.string())
                                .file_debounce(20ms));
  }};
  lazy<app_settings> settings{[&]() -> caf::expected<app_settings> {
    auto n = config.get();
    if (!n)
      return std::move(n.error());
    return app_settings::from(**n);
  }};
  // The value now, loaded first if needed.
  auto current = [&]() -> app_settings {
    auto x = settings.get();
    if (!x) {
      check(false, "load: " + sys.render(x.error()));
      return {};
    }
    return **x;
  };
  check(!config.loaded() && !settings.loaded(), "nothing loaded yet");
  // The first access loads the node, then the struct.
  auto s = current();
  std::cout << "first access: " << s << '\n';
  check(!s.debug_mode && s.buffer_size == 1024, "the file's values");
  // Later accesses reuse it.
  current();
  check(config.loads() == 1 && settings.loads() == 1,
        "a second access loads nothing");
  // Operators drop runtime overrides next to config.yaml.
  std::ofstream{tmp / "next.json"}
    << R"({"debug_mode": true, "buffer_size": 4096})";
  fs::rename(tmp / "next.json", runtime);
  if (auto n = config.get()) {
    for (int i = 0; i < 400 && !(*n)->get<bool>("debug_mode", false); ++i)
      std::this_thread::sleep_for(25ms);
    std::cout << "node version " << (*n)->version() << ": debug_mode="
              << (*n)->get<bool>("debug_mode", false) << '\n';
    check((*n)->get<bool>("debug_mode", false),
          "the node picked up the new file");
  }
  s = current();
  std::cout << "cached struct: " << s << '\n';
  check(!s.debug_mode, "the struct keeps its values");
  // invalidate(): the next access builds the struct again.
  settings.invalidate();
  s = current();
  std::cout << "after invalidate: " << s << '\n';
  check(s.debug_mode && s.buffer_size == 4096,
        "the reload shows the rewritten file");
  check(settings.loads() == 2 && config.loads() == 1,
        "only the struct was loaded again");
  // Invalidating the node stops it; the next access starts a new one,
  // which reads both files from scratch.
  config.invalidate();
  settings.invalidate();
  s = current();
  std::cout << "new node: " << s << " (node loads: " << config.loads()
            << ", struct loads: " << settings.loads() << ")\n";
  check(s.debug_mode && config.loads() == 2,
        "a new node reads the files again");
  config.invalidate();
  fs::remove_all(tmp);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

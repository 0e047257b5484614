#define CAF_SUITE file_source
// The file source on the real scheduler against real files in a fresh
// directory: every way tools rewrite a file, parse errors, refusals, layer
// order, optional and missing files, polling and reload.
#include "cfgactors_test.hpp"
#include "temp_dir.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <regex>
#include <thread>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <caf/all.hpp>

#include "cfgactors/file_source.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"

namespace file_source_suite {

using namespace cfgactors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

constexpr auto debounce = 50ms;
constexpr auto patience = 20s; // how long a condition may take on a busy host

/// A config the example schema accepts (it requires logging and
/// buffer_size).
std::string config_yaml(int buffer_size, const std::string& level = "INFO") {
  return "logging:\n  level: " + level + "\n  format: text\nbuffer_size: "
         + std::to_string(buffer_size) + "\n";
}

void write_file(const std::string& path, const std::string& text) {
  std::ofstream out{path, std::ios::binary | std::ios::trunc};
  out << text;
  if (!out)
    CAF_FAIL("cannot write " << path);
}

// -- the ways tools rewrite a file --------------------------------------------

/// `echo ... > file`: truncate, then write the same inode.
void write_in_place(const std::string& path, const std::string& text) {
  write_file(path, text);
}

/// Editors: write a temporary file beside it, rename it over the original.
void write_and_rename(const std::string& path, const std::string& text) {
  auto slash = path.find_last_of('/');
  auto tmp = path.substr(0, slash + 1) + "." + path.substr(slash + 1) + ".tmp";
  write_file(tmp, text);
  if (std::rename(tmp.c_str(), path.c_str()) != 0)
    CAF_FAIL("rename " << tmp);
}

/// Unlink the file, then create a new one under the same name.
void delete_and_recreate(const std::string& path, const std::string& text) {
  if (::unlink(path.c_str()) != 0)
    CAF_FAIL("unlink " << path);
  write_file(path, text);
}

/// A Kubernetes ConfigMap volume: `dir/<name> -> ..data/<name>`, `..data ->
/// ..<timestamp>`; an update writes a new timestamped directory, swaps
/// `..data` to it with a rename, and removes the old directory.
struct config_map {
  std::string dir;
  int generation = 0;

  std::string data_dir(int gen) const {
    return "..2026_11_25_01_00_0" + std::to_string(gen) + ".123456789";
  }

  void write(const std::string& name, const std::string& text) {
    auto gen = data_dir(++generation);
    fs::create_directory(dir + "/" + gen);
    write_file(dir + "/" + gen + "/" + name, text);
    if (::symlink(gen.c_str(), (dir + "/..data_tmp").c_str()) != 0)
      CAF_FAIL("symlink ..data_tmp");
    if (std::rename((dir + "/..data_tmp").c_str(), (dir + "/..data").c_str())
        != 0)
      CAF_FAIL("rename ..data_tmp");
    if (generation > 1)
      fs::remove_all(dir + "/" + data_dir(generation - 1));
    else if (::symlink(("..data/" + name).c_str(), (dir + "/" + name).c_str())
             != 0)
      CAF_FAIL("symlink " << name);
  }
};

system_config& threads(system_config& cfg) {
  cfg.set("scheduler.max-threads", 4);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

std::vector<std::string> layer_names(const snapshot& snap) {
  std::vector<std::string> out;
  for (auto& x : snap.layers)
    out.push_back(x.name);
  return out;
}

struct fixture {
  system_config cfg;
  caf::actor_system sys{threads(cfg)};
  caf::scoped_actor self{sys};
  pipeline pipe;
  test::temp_dir tmp{"file"};
  std::string dir = tmp.str();
  std::vector<source_actor> sources;

  fixture() {
    std::string err;
    auto schema = json_schema::from_file(
      test::source_path("examples/schema.json"), &err);
    if (!schema)
      CAF_FAIL("schema: " << err);
    pipeline_options opts;
    opts.validation.schema = schema;
    pipe = spawn_pipeline(sys, opts);
  }

  ~fixture() {
    for (auto& src : sources)
      caf::anon_send_exit(src, caf::exit_reason::user_shutdown);
    shutdown(pipe);
  }

  std::string path(const std::string& name) const {
    return dir + "/" + name;
  }

  static file_source_options options(std::vector<file_spec> files) {
    file_source_options opts;
    opts.files = std::move(files);
    opts.debounce = debounce;
    return opts;
  }

  source_actor start(file_source_options opts) {
    auto src = spawn_file_source(sys, pipe.validator, std::move(opts));
    if (!src)
      CAF_FAIL("spawn_file_source: " << sys.render(src.error()));
    sources.push_back(*src);
    return *src;
  }

  template <class T, class Handle, class... Ts>
  T ask(const Handle& dest, const Ts&... xs) {
    T result;
    self->request(dest, patience, xs...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  snapshot_ptr current() {
    return ask<snapshot_ptr>(pipe.store, get_atom::value);
  }

  source_status status(const source_actor& src) {
    return ask<source_status>(src, status_atom::value);
  }

  source_status reload(const source_actor& src) {
    return ask<source_status>(src, reload_atom::value);
  }

  /// Polls the store until `pred` holds for its snapshot; fails after
  /// `patience`.
  snapshot_ptr wait_for(std::function<bool(const snapshot&)> pred) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
      auto snap = current();
      if (pred(*snap))
        return snap;
      if (std::chrono::steady_clock::now() > deadline)
        CAF_FAIL("timeout; the store is at version " << snap->version);
      std::this_thread::sleep_for(5ms);
    }
  }

  snapshot_ptr wait_for_buffer_size(int n) {
    return wait_for([n](const snapshot& s) {
      return s.effective->value("buffer_size", 0) == n;
    });
  }

  /// Polls the source's status until `pred` holds; fails after `patience`.
  source_status wait_status(const source_actor& src,
                            std::function<bool(const source_status&)> pred) {
    auto deadline = std::chrono::steady_clock::now() + patience;
    for (;;) {
      auto st = status(src);
      if (pred(st))
        return st;
      if (std::chrono::steady_clock::now() > deadline)
        CAF_FAIL("timeout; status " << to_json(st).dump());
      std::this_thread::sleep_for(5ms);
    }
  }

  /// Waits until the source has booked `n` commits, then gives a late event
  /// time to surface: three debounce periods and a status round-trip (which
  /// queues behind anything the source is doing).
  source_status quiet(const source_actor& src, uint64_t n) {
    wait_status(src, [n](const source_status& st) {
      return st.committed >= n;
    });
    std::this_thread::sleep_for(3 * debounce);
    return status(src);
  }

  /// Starts a source on `config.yaml` (buffer_size 1000) and waits for v1.
  source_actor start_single(file_source_options opts = options({})) {
    write_file(path("config.yaml"), config_yaml(1000));
    if (opts.files.empty())
      opts.files = {{path("config.yaml")}};
    auto src = start(std::move(opts));
    auto v1 = wait_for([](const snapshot& s) { return s.version >= 1; });
    CAF_REQUIRE_EQUAL(v1->version, 1u);
    CAF_REQUIRE_EQUAL((*v1->effective)["buffer_size"], 1000);
    wait_status(src, [](const source_status& st) {
      return st.committed == 1;
    });
    return src;
  }

  /// After a rewrite to buffer_size `n`: the value shows as version 2, and
  /// no further version follows.
  void expect_one_new_version(const source_actor& src, int n) {
    auto v2 = wait_for_buffer_size(n);
    CAF_CHECK_EQUAL(v2->version, 2u);
    CAF_CHECK_EQUAL(v2->origin, "file:" + path("config.yaml"));
    auto st = quiet(src, 2);
    CAF_CHECK_EQUAL(current()->version, 2u);
    CAF_CHECK_EQUAL(st.committed, 2u);
    CAF_CHECK_EQUAL(st.version, 2u);
    CAF_CHECK_EQUAL(to_string(st.state), "ok");
  }
};

/// `path:line:column: reason`
bool names_position(const std::string& error, const std::string& path) {
  if (error.compare(0, path.size() + 1, path + ":") != 0)
    return false;
  static const std::regex position{"^[0-9]+:[0-9]+: .+"};
  return std::regex_search(error.substr(path.size() + 1), position);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(file_source_tests, fixture)

CAF_TEST(a file written in place yields exactly one new version) {
  // Should a busy host stall between truncate and write for longer than the
  // debounce, the empty read is refused by the schema: still one version.
  auto src = start_single();
  write_in_place(path("config.yaml"), config_yaml(2000));
  expect_one_new_version(src, 2000);
}

CAF_TEST(a file renamed over the original yields exactly one new version) {
  auto src = start_single();
  write_and_rename(path("config.yaml"), config_yaml(2000));
  expect_one_new_version(src, 2000);
}

CAF_TEST(a file deleted and recreated yields exactly one new version) {
  auto src = start_single();
  delete_and_recreate(path("config.yaml"), config_yaml(2000));
  expect_one_new_version(src, 2000);
}

CAF_TEST(a Kubernetes ConfigMap symlink swap yields exactly one new version) {
  config_map cm{dir};
  cm.write("config.yaml", config_yaml(1000));
  auto src = start(options({{path("config.yaml")}}));
  auto v1 = wait_for_buffer_size(1000);
  CAF_CHECK_EQUAL(v1->version, 1u);
  cm.write("config.yaml", config_yaml(2000));
  expect_one_new_version(src, 2000);
  // The next swap is seen too: the watch followed the new target.
  cm.write("config.yaml", config_yaml(3000));
  auto v3 = wait_for_buffer_size(3000);
  CAF_CHECK_EQUAL(v3->version, 3u);
  CAF_CHECK_EQUAL(quiet(src, 3).committed, 3u);
  CAF_CHECK_EQUAL(current()->version, 3u);
}

CAF_TEST(a file linked into another directory is watched where it lives) {
  fs::create_directory(path("real"));
  write_file(path("real/app.yaml"), config_yaml(1000));
  fs::create_symlink(path("real/app.yaml"), path("app.yaml"));
  auto src = start(options({{path("app.yaml")}}));
  wait_for_buffer_size(1000);
  write_in_place(path("real/app.yaml"), config_yaml(2000));
  auto v2 = wait_for_buffer_size(2000);
  CAF_CHECK_EQUAL(v2->version, 2u);
  CAF_CHECK_EQUAL(quiet(src, 2).committed, 2u);
}

CAF_TEST(touching or rewriting identical content makes no version) {
  auto src = start_single();
  auto reads = status(src).reads;
  auto after = [&reads](const source_status& st) {
    return st.reads > reads;
  };
  // Each step waits until the source has read the files again.
  CAF_REQUIRE_EQUAL(::utimensat(AT_FDCWD, path("config.yaml").c_str(),
                                nullptr, 0),
                    0);
  reads = wait_status(src, after).reads;
  write_in_place(path("config.yaml"), config_yaml(1000));
  reads = wait_status(src, after).reads;
  write_and_rename(path("config.yaml"), config_yaml(1000));
  wait_status(src, after);
  auto st = quiet(src, 1);
  CAF_CHECK_EQUAL(st.proposals, 1u); // only the first: the bytes never changed
  CAF_CHECK_EQUAL(st.committed, 1u);
  CAF_CHECK_EQUAL(to_string(st.state), "ok");
  CAF_CHECK_EQUAL(current()->version, 1u);
}

CAF_TEST(a parse error keeps the config and names file line and column) {
  auto src = start_single();
  write_and_rename(path("config.yaml"),
                   "logging:\n  level: [INFO\nbuffer_size: 3000\n");
  auto st = wait_status(src, [](const source_status& x) {
    return x.state == source_state::degraded;
  });
  CAF_CHECK(names_position(st.last_error, path("config.yaml")));
  CAF_MESSAGE("last_error: " << st.last_error);
  CAF_CHECK_EQUAL(st.errors, 1u);
  CAF_CHECK_EQUAL(st.proposals, 1u);
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 1000);
  // Fixing the file recovers.
  write_and_rename(path("config.yaml"), config_yaml(3000, "DEBUG"));
  auto v2 = wait_for_buffer_size(3000);
  CAF_CHECK_EQUAL(v2->version, 2u);
  CAF_CHECK_EQUAL((*v2->effective)["logging"]["level"], "DEBUG");
  st = wait_status(src, [](const source_status& x) {
    return x.state == source_state::ok;
  });
  CAF_CHECK_EQUAL(st.committed, 2u);
}

CAF_TEST(a toml file is read and its edits and broken edits are handled) {
  auto toml = [](int buffer_size, const std::string& level) {
    return "buffer_size = " + std::to_string(buffer_size)
           + "\n[logging]\nlevel = " + level + "\nformat = \"text\"\n";
  };
  write_file(path("config.toml"), toml(1000, "\"INFO\""));
  auto src = start(options({{path("config.toml")}}));
  auto v1 = wait_for_buffer_size(1000);
  CAF_CHECK_EQUAL((*v1->effective)["logging"]["level"], "INFO");
  write_and_rename(path("config.toml"), toml(2000, "\"DEBUG\""));
  auto v2 = wait_for_buffer_size(2000);
  CAF_CHECK_EQUAL(v2->version, v1->version + 1);
  CAF_CHECK_EQUAL((*v2->effective)["logging"]["level"], "DEBUG");
  CAF_CHECK((*v2->effective)["buffer_size"].is_number_integer());
  // An unquoted string: refused at its line and column, config kept.
  write_and_rename(path("config.toml"), toml(3000, "DEBUG"));
  auto st = wait_status(src, [](const source_status& x) {
    return x.state == source_state::degraded;
  });
  CAF_MESSAGE("last_error: " << st.last_error);
  CAF_CHECK_NOT_EQUAL(st.last_error.find(path("config.toml") + ":3:9: "),
                      std::string::npos);
  CAF_CHECK_EQUAL(current()->version, v2->version);
  CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 2000);
}

CAF_TEST(content the validator refuses keeps the config and degrades) {
  auto src = start_single();
  write_and_rename(path("config.yaml"), config_yaml(1000, "LOUD"));
  auto st = wait_status(src, [](const source_status& x) {
    return x.rejected > 0;
  });
  CAF_CHECK_EQUAL(st.rejected, 1u);
  CAF_CHECK_EQUAL(to_string(st.state), "degraded");
  CAF_CHECK_NOT_EQUAL(st.last_error.find("logging.level"), std::string::npos);
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL((*current()->effective)["logging"]["level"], "INFO");
  // Reading the refused bytes again proposes nothing; it stays degraded.
  st = reload(src);
  CAF_CHECK_EQUAL(st.proposals, 2u);
  CAF_CHECK_EQUAL(to_string(st.state), "degraded");
  // A good file recovers.
  write_and_rename(path("config.yaml"), config_yaml(1000, "WARNING"));
  auto v2 = wait_for([](const snapshot& s) {
    return (*s.effective)["logging"]["level"] == "WARNING";
  });
  CAF_CHECK_EQUAL(v2->version, 2u);
  CAF_CHECK_EQUAL(to_string(wait_status(src, [](const source_status& x) {
                                return x.state == source_state::ok;
                              }).state),
                  "ok");
}

CAF_TEST(a refused first write is proposed whole once the file is fixed) {
  write_file(path("base.yaml"), config_yaml(1000));
  write_file(path("override.yaml"), "logging:\n  level: LOUD\n");
  auto src = start(options({{path("base.yaml")}, {path("override.yaml")}}));
  auto st = wait_status(src, [](const source_status& x) {
    return x.rejected > 0;
  });
  CAF_CHECK_EQUAL(to_string(st.state), "degraded");
  CAF_CHECK_EQUAL(current()->version, 0u);
  // Only override.yaml changes, yet base.yaml's layer comes along, first.
  write_and_rename(path("override.yaml"), "logging:\n  level: DEBUG\n");
  auto v1 = wait_for([](const snapshot& s) { return s.version >= 1; });
  CAF_CHECK_EQUAL(v1->version, 1u);
  CAF_CHECK_EQUAL(layer_names(*v1),
                  (std::vector<std::string>{"file:" + path("base.yaml"),
                                            "file:" + path("override.yaml")}));
  CAF_CHECK_EQUAL((*v1->effective)["logging"]["level"], "DEBUG");
  CAF_CHECK_EQUAL((*v1->effective)["buffer_size"], 1000);
  wait_status(src, [](const source_status& x) {
    return x.state == source_state::ok;
  });
}

CAF_TEST(later files override earlier ones and keep the given layer order) {
  write_file(path("base.yaml"), config_yaml(1000) + "database:\n  host: db\n");
  write_file(path("override.json"), R"({"buffer_size": 2000})");
  auto src = start(options({{path("base.yaml")}, {path("override.json")}}));
  auto v1 = wait_for([](const snapshot& s) { return s.version >= 1; });
  CAF_CHECK_EQUAL(v1->version, 1u); // both files in one write
  CAF_CHECK_EQUAL(layer_names(*v1),
                  (std::vector<std::string>{"file:" + path("base.yaml"),
                                            "file:" + path("override.json")}));
  CAF_CHECK_EQUAL((*v1->effective)["buffer_size"], 2000);
  CAF_CHECK_EQUAL((*v1->effective)["database"]["host"], "db");
  CAF_CHECK_EQUAL(status(src).layer, "file:" + path("base.yaml"));
  // Only the file that changed is proposed; the override still wins.
  write_and_rename(path("base.yaml"), config_yaml(5000, "DEBUG"));
  auto v2 = wait_for([](const snapshot& s) {
    return (*s.effective)["logging"]["level"] == "DEBUG";
  });
  CAF_CHECK_EQUAL(v2->version, 2u);
  CAF_CHECK_EQUAL(v2->origin, "file:" + path("base.yaml"));
  CAF_CHECK_EQUAL((*v2->effective)["buffer_size"], 2000);
  CAF_CHECK_EQUAL(layer_names(*v2), layer_names(*v1));
}

CAF_TEST(a missing required file is an error at start naming it) {
  auto res = spawn_file_source(sys, pipe.validator,
                               options({{path("absent.yaml")}}));
  CAF_REQUIRE(!res);
  auto text = sys.render(res.error());
  CAF_MESSAGE("error: " << text);
  CAF_CHECK_NOT_EQUAL(text.find(path("absent.yaml")), std::string::npos);
  CAF_CHECK_EQUAL(current()->version, 0u);
}

CAF_TEST(unknown extensions and broken files are errors at start) {
  write_file(path("config.ini"), "buffer_size = 1000\n");
  auto ini = spawn_file_source(sys, pipe.validator,
                               options({{path("config.ini")}}));
  CAF_REQUIRE(!ini);
  CAF_CHECK_NOT_EQUAL(sys.render(ini.error()).find(path("config.ini")),
                      std::string::npos);
  write_file(path("broken.json"), "{\"buffer_size\": 1000,\n  oops}\n");
  auto broken = spawn_file_source(sys, pipe.validator,
                                  options({{path("broken.json")}}));
  CAF_REQUIRE(!broken);
  auto text = sys.render(broken.error());
  CAF_MESSAGE("error: " << text);
  CAF_CHECK_NOT_EQUAL(text.find(path("broken.json") + ":2:"),
                      std::string::npos);
  CAF_CHECK_EQUAL(current()->version, 0u);
}

CAF_TEST(a missing optional file is an empty layer in its place until it
           appears) {
  write_file(path("base.yaml"), config_yaml(1000));
  write_file(path("last.json"), R"({"logging": {"format": "json"}})");
  auto src = start(options({{path("base.yaml")},
                            {path("local.yaml"), true},
                            {path("last.json")}}));
  auto v1 = wait_for([](const snapshot& s) { return s.version >= 1; });
  auto order = std::vector<std::string>{"file:" + path("base.yaml"),
                                        "file:" + path("local.yaml"),
                                        "file:" + path("last.json")};
  CAF_CHECK_EQUAL(layer_names(*v1), order);
  auto local = v1->layers.get("file:" + path("local.yaml"));
  CAF_REQUIRE(local != nullptr);
  CAF_CHECK_EQUAL(*local, json::object());
  wait_status(src, [](const source_status& x) {
    return x.state == source_state::ok;
  });
  write_and_rename(path("local.yaml"), "buffer_size: 4000\n");
  auto v2 = wait_for_buffer_size(4000);
  CAF_CHECK_EQUAL(v2->version, 2u);
  CAF_CHECK_EQUAL(layer_names(*v2), order);
  CAF_CHECK_EQUAL((*v2->effective)["logging"]["format"], "json");
}

CAF_TEST(a required file that disappears degrades and keeps its layer) {
  auto src = start_single();
  CAF_REQUIRE_EQUAL(::unlink(path("config.yaml").c_str()), 0);
  auto st = wait_status(src, [](const source_status& x) {
    return x.state == source_state::degraded;
  });
  CAF_CHECK_NOT_EQUAL(st.last_error.find(path("config.yaml")),
                      std::string::npos);
  CAF_CHECK_EQUAL(st.proposals, 1u);
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 1000);
  write_file(path("config.yaml"), config_yaml(6000));
  auto v2 = wait_for_buffer_size(6000);
  CAF_CHECK_EQUAL(v2->version, 2u);
  wait_status(src, [](const source_status& x) {
    return x.state == source_state::ok;
  });
}

CAF_TEST(polling alone picks up a rewrite) {
  auto opts = options({});
  opts.watch = false;
  opts.poll_interval = 50ms;
  auto src = start_single(opts);
  write_and_rename(path("config.yaml"), config_yaml(2000));
  expect_one_new_version(src, 2000);
}

CAF_TEST(a directory that cannot be watched falls back to polling) {
  write_file(path("base.yaml"), config_yaml(1000));
  // inotify cannot watch a directory that does not exist yet.
  auto src = start(options({{path("base.yaml")},
                            {path("later/local.yaml"), true}}));
  wait_for_buffer_size(1000);
  fs::create_directory(path("later"));
  write_and_rename(path("later/local.yaml"), "buffer_size: 8000\n");
  auto v2 = wait_for_buffer_size(8000); // polled every second by default
  CAF_CHECK_EQUAL(v2->version, 2u);
  CAF_CHECK_EQUAL(v2->origin, "file:" + path("later/local.yaml"));
}

CAF_TEST(reload reads now and answers after the proposal was answered) {
  auto opts = options({});
  opts.watch = false; // nothing but reload reads the file
  auto src = start_single(opts);
  write_and_rename(path("config.yaml"), config_yaml(7000));
  auto st = reload(src);
  CAF_CHECK_EQUAL(st.committed, 2u);
  CAF_CHECK_EQUAL(st.version, 2u);
  CAF_CHECK_EQUAL(to_string(st.state), "ok");
  CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 7000);
  st = reload(src);
  CAF_CHECK_EQUAL(st.proposals, 2u);
  CAF_CHECK_EQUAL(current()->version, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace file_source_suite

#define CAF_SUITE env_source
// The env source: how variables become a layer (plain functions), then the
// source itself on the real scheduler, polling this process's environment
// and proposing to the example pipeline.
#include "cfgactors_test.hpp"
#include "temp_dir.hpp"

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "cfgactors/env.hpp"
#include "cfgactors/env_source.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"
#include "sources/env_vars.hpp"

namespace env_source_suite {

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

using env_vars = std::map<std::string, std::string>;
using strings = std::vector<std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

json_schema_ptr example_schema() {
  std::string err;
  auto schema = json_schema::from_file(
    test::source_path("examples/schema.json"), &err);
  if (!schema)
    CAF_FAIL("examples/schema.json: " << err);
  return schema;
}

struct built {
  bool ok = false;
  json layer;
  strings secrets;
  std::string error;
};

built build(const env_vars& vars, json_schema_ptr schema = nullptr) {
  env_source_options opts;
  opts.schema = std::move(schema);
  built result;
  result.ok = env_layer(vars, opts, result.layer, result.secrets,
                        result.error);
  return result;
}

// A private directory for secret files. Files are replaced by rename, as
// Kubernetes does, so a polling reader never sees one half written.
struct secret_dir : test::temp_dir {
  secret_dir() : test::temp_dir("env-test") {
    // nop
  }

  std::string url(const std::string& path) const {
    return "file://" + path;
  }
};

// Variables of this process set for one test and removed after it, through
// cfgactors::env: the source may be reading `environ`.
struct scoped_env {
  using change = env::change;

  strings names;

  /// Sets (or, for nullopt, unsets) several variables at once: a poll sees
  /// all of the changes or none.
  void update(const std::vector<change>& changes) {
    CAF_REQUIRE(env::update(changes));
    for (auto& [name, value] : changes)
      if (value)
        names.push_back(name);
  }

  void set(const std::string& name, const std::string& value) {
    update({{name, value}});
  }

  void unset(const std::string& name) {
    update({{name, std::nullopt}});
  }

  ~scoped_env() {
    for (auto& name : names)
      unset(name);
  }
};

} // namespace

// -- from variables to a layer ------------------------------------------------

CAF_TEST(names nest on double underscores and keep single ones) {
  auto r = build({{"CFG_LOGGING__LEVEL", "DEBUG"},
                  {"CFG_BUFFER_SIZE", "2048"},
                  {"CFG_Database__Pool_Size", "5"}});
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.layer, json::parse(R"({"logging": {"level": "DEBUG"},
                                           "buffer_size": 2048,
                                           "database": {"pool_size": 5}})"));
  CAF_CHECK(r.secrets.empty());
}

CAF_TEST(values that are JSON become JSON and others stay text) {
  auto r = build({{"CFG_A", "true"},
                  {"CFG_B", "10000"},
                  {"CFG_C", "0.5"},
                  {"CFG_D", "[1,2]"},
                  {"CFG_E", R"({"a":1})"},
                  {"CFG_F", "null"},
                  {"CFG_G", "DEBUG"},
                  {"CFG_H", ""},
                  {"CFG_I", "1.10"},
                  {"CFG_J", "[1,"},
                  {"CFG_K", R"("quoted")"}});
  CAF_REQUIRE(r.ok);
  CAF_CHECK_EQUAL(r.layer, json::parse(R"({"a": true, "b": 10000, "c": 0.5,
    "d": [1, 2], "e": {"a": 1}, "f": null, "g": "DEBUG", "h": "",
    "i": 1.1, "j": "[1,", "k": "quoted"})"));
  CAF_CHECK(r.layer["b"].is_number_integer());
}

CAF_TEST(the schema types the values) {
  auto r = build({{"CFG_SCHEMA_VERSION", "1.10"},
                  {"CFG_DATABASE__HOST", "true"},
                  {"CFG_DATABASE__PORT", "+5433"},
                  {"CFG_DATABASE__POOL_SIZE", "null"},
                  {"CFG_BUFFER_SIZE", "2e3"},
                  {"CFG_SAMPLE_RATE", ".25"},
                  {"CFG_TIMEOUTS__CONNECT_MS", " 250 "},
                  {"CFG_FEATURES__BETA_UI", "On"},
                  {"CFG_FEATURES__NEW_ALGORITHM", "no"},
                  {"CFG_FEATURES__DARK_MODE", "1"},
                  {"CFG_FEATURES__ROLLOUT", R"({"enabled": true})"},
                  {"CFG_LOGGING__LEVEL", "DEBUG"}},
                 example_schema());
  CAF_REQUIRE_EQUAL(r.error, "");
  CAF_CHECK_EQUAL(r.layer, json::parse(R"({
    "schema_version": "1.10",
    "database": {"host": "true", "port": 5433, "pool_size": null},
    "buffer_size": 2000, "sample_rate": 0.25,
    "timeouts": {"connect_ms": 250},
    "features": {"beta_ui": true, "new_algorithm": false, "dark_mode": true,
                 "rollout": {"enabled": true}},
    "logging": {"level": "DEBUG"}})"));
  CAF_CHECK(r.layer["buffer_size"].is_number_integer());
  CAF_CHECK(r.layer["database"]["port"].is_number_integer());
}

CAF_TEST(a value the declared type cannot take names variable path and type) {
  auto r = build({{"CFG_DATABASE__PORT", "eighty"},
                  {"CFG_FEATURES__BETA_UI", "maybe"},
                  {"CFG_SAMPLE_RATE", "1.5x"}},
                 example_schema());
  CAF_REQUIRE(!r.ok);
  CAF_MESSAGE(r.error);
  CAF_CHECK(contains(r.error, "CFG_DATABASE__PORT"));
  CAF_CHECK(contains(r.error, "'database.port'"));
  CAF_CHECK(contains(r.error, "integer"));
  CAF_CHECK(contains(r.error, "CFG_FEATURES__BETA_UI"));
  CAF_CHECK(contains(r.error, "boolean or object"));
  CAF_CHECK(contains(r.error, "CFG_SAMPLE_RATE"));
  CAF_CHECK(contains(r.error, "number"));
  CAF_CHECK(!contains(r.error, "eighty"));
  CAF_CHECK(!contains(r.error, "maybe"));
}

CAF_TEST(types_at follows properties additionalProperties items and refs) {
  auto schema = example_schema();
  auto types = [&](const char* text) {
    return schema->types_at(*config_path::parse(text));
  };
  CAF_CHECK_EQUAL(types("buffer_size"), strings{"integer"});
  CAF_CHECK_EQUAL(types("logging"), strings{"object"});
  CAF_CHECK_EQUAL(types("logging.level"), strings{}); // an enum, no type
  CAF_CHECK_EQUAL(types("timeouts.anything"), strings{"integer"});
  CAF_CHECK_EQUAL(types("features.x"), (strings{"boolean", "object"}));
  CAF_CHECK_EQUAL(types("features.x.rollout"), strings{"number"});
  CAF_CHECK_EQUAL(types("database.unknown"), strings{});
  CAF_CHECK_EQUAL(types("unknown"), strings{});
  std::string err;
  auto small = json_schema::compile(json::parse(R"({
    "properties": {"list": {"type": "array", "items": {"type": "integer"}},
                   "pair": {"items": [{"type": "string"}],
                            "additionalItems": {"type": "boolean"}}},
    "patternProperties": {"^x_": {"$ref": "#/definitions/flag"}},
    "definitions": {"flag": {"type": "boolean"}}})"),
                                    &err);
  CAF_REQUIRE(small != nullptr);
  auto small_types = [&](const char* text) {
    return small->types_at(*config_path::parse(text));
  };
  CAF_CHECK_EQUAL(small_types("list[3]"), strings{"integer"});
  CAF_CHECK_EQUAL(small_types("pair[0]"), strings{"string"});
  CAF_CHECK_EQUAL(small_types("pair[1]"), strings{"boolean"});
  CAF_CHECK_EQUAL(small_types("x_dark"), strings{"boolean"});
  CAF_CHECK_EQUAL(small_types("y_dark"), strings{});
}

CAF_TEST(an empty key is an error naming the variable) {
  for (auto name : {"CFG_A____B", "CFG_", "CFG___A", "CFG_A__"}) {
    auto r = build({{name, "1"}, {"CFG_OK", "2"}});
    CAF_CHECK(!r.ok);
    CAF_CHECK(contains(r.error, std::string{name} + ": "));
    CAF_CHECK(contains(r.error, "empty key"));
  }
  auto other = build({{"APP_A", "1"}});
  CAF_CHECK(contains(other.error, "APP_A: the name does not start with"));
}

// -- names to paths: prefix, separator, case, mappings ------------------------

CAF_TEST(names map to paths by prefix separator case and explicit mappings) {
  env_source_options plain;
  env_source_options seed;
  seed.prefix = "PROVIDE_";
  seed.map = {{"PROVIDE_LOG_LEVEL", "logging.level"},
              {"LOG_FORMAT", "logging.format"},
              {"PROVIDE_DB", "database.Host"}};
  env_source_options single;
  single.prefix = "APP_";
  single.separator = "_";
  single.key_case = env_key_case::preserve;
  struct row {
    const env_source_options* options;
    const char* name;
    const char* path; // "" when the name maps to no path
  };
  // The golden table.
  std::vector<row> rows{
    {&plain, "CFG_LOGGING__LEVEL", "logging.level"},
    {&plain, "CFG_Database__Pool_Size", "database.pool_size"},
    {&plain, "CFG_A.B__C", "a\\.b.c"},
    {&plain, "CFG_A____B", ""},
    {&plain, "CFG_A__", ""},
    {&plain, "PROVIDE_LOG_LEVEL", ""},
    {&seed, "PROVIDE_LOG_LEVEL", "logging.level"},
    {&seed, "LOG_FORMAT", "logging.format"},
    {&seed, "PROVIDE_DB", "database.Host"},
    {&seed, "PROVIDE_LOGGING__LEVEL", "logging.level"},
    {&seed, "PROVIDE_SERVICE_NAME", "service_name"},
    {&seed, "LOG_LEVEL", ""},
    {&single, "APP_Logging_Level", "Logging.Level"},
    {&single, "APP_BUFFER_SIZE", "BUFFER.SIZE"},
    {&single, "APP_A__B", ""},
    {&single, "CFG_A", ""},
  };
  for (auto& r : rows) {
    std::string why;
    auto path = env_path(r.name, *r.options, &why);
    CAF_CHECK_EQUAL(path ? path->str() : "", r.path);
    if (!path) {
      CAF_CHECK(!why.empty());
      CAF_MESSAGE(r.name << ": " << why);
    }
  }
}

CAF_TEST(malformed or ambiguous env options are refused naming the setting) {
  auto check = [](auto set) {
    env_source_options opts;
    set(opts);
    return check_env_options(opts);
  };
  // Pairs of the same shape: the first is refused, the second accepted.
  CAF_CHECK_EQUAL(check([](auto& o) { o.separator = ""; }),
                  "the separator is empty");
  CAF_CHECK_EQUAL(check([](auto& o) { o.separator = "="; }),
                  "the separator holds '=' or a NUL");
  CAF_CHECK_EQUAL(check([](auto& o) { o.separator = "_"; }), "");
  CAF_CHECK_EQUAL(check([](auto& o) { o.prefix = "A=_"; }),
                  "the prefix holds '=' or a NUL");
  CAF_CHECK_EQUAL(check([](auto& o) { o.prefix = "A__"; }), "");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A", "a.b"}, {"B", "a.b"}}; }),
                  "A and B both map to 'a.b'");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A", "a.b"}, {"B", "a.c"}}; }),
                  "");
  auto dots = check([](auto& o) { o.map = {{"A", "x..y"}}; });
  CAF_CHECK(contains(dots, "A maps to 'x..y' is not a path"));
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A", "x.yy"}}; }), "");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A", "a[0]"}}; }),
                  "A maps to 'a[0]' names an index or '*' (the environment "
                  "sets object keys only)");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A", "a.*"}}; }),
                  "A maps to 'a.*' names an index or '*' (the environment "
                  "sets object keys only)");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A", "a.b"}}; }), "");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A", ""}}; }),
                  "A maps to '' is not a path (it is empty)");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A=B", "a"}}; }),
                  "the mapped name 'A=B' is empty or holds '=' or a NUL");
  CAF_CHECK_EQUAL(check([](auto& o) { o.map = {{"A_B", "a"}}; }), "");
  // Every problem at once, and the layer refused with them.
  env_source_options bad;
  bad.separator = "";
  bad.map = {{"A", "x"}, {"B", "x"}};
  CAF_CHECK_EQUAL(check_env_options(bad),
                  "the separator is empty; A and B both map to 'x'");
  json layer;
  strings secrets;
  std::string error;
  CAF_CHECK(!env_layer({{"A", "1"}}, bad, layer, secrets, error));
  CAF_CHECK_EQUAL(error, "the env source's options: the separator is empty; "
                         "A and B both map to 'x'");
}

CAF_TEST(mapped and prefixed variables build one layer and may collide) {
  env_source_options opts;
  opts.prefix = "PROVIDE_";
  opts.map = {{"PROVIDE_LOG_LEVEL", "logging.level"}};
  opts.schema = example_schema();
  json layer;
  strings secrets;
  std::string error;
  CAF_REQUIRE(env_layer({{"PROVIDE_LOG_LEVEL", "DEBUG"},
                         {"PROVIDE_BUFFER_SIZE", "4096"},
                         {"PROVIDE_LOGGING__FORMAT", "json"}},
                        opts, layer, secrets, error));
  CAF_CHECK_EQUAL(layer, json::parse(R"({"buffer_size": 4096,
    "logging": {"level": "DEBUG", "format": "json"}})"));
  CAF_CHECK(!env_layer({{"PROVIDE_LOG_LEVEL", "DEBUG"},
                        {"PROVIDE_LOGGING__LEVEL", "INFO"}},
                       opts, layer, secrets, error));
  CAF_CHECK_EQUAL(error, "PROVIDE_LOGGING__LEVEL and PROVIDE_LOG_LEVEL both "
                         "set 'logging.level'");
}

CAF_TEST(env set and unset wait for the lock the source reads under) {
  auto name = "CFGT_ENVLOCK_" + std::to_string(::getpid());
  CAF_REQUIRE(env::set(name, "before"));
  std::thread writer;
  {
    std::unique_lock<std::mutex> held{detail::env_mutex()};
    writer = std::thread{[&] { env::set(name, "after"); }};
    std::this_thread::sleep_for(200ms);
    // getenv itself, not env::get: that would wait for the lock we hold.
    CAF_CHECK_EQUAL(std::string{::getenv(name.c_str())}, "before");
  }
  writer.join();
  CAF_CHECK_EQUAL(env::get(name), std::optional<std::string>{"after"});
  CAF_CHECK(env::unset(name));
  CAF_CHECK(!env::get(name));
  // Names setenv refuses change nothing, even in a batch.
  CAF_CHECK(!env::set("", "x"));
  CAF_CHECK(!env::set("A=B", "x"));
  CAF_CHECK(!env::update({{name, "x"}, {"A=B", std::nullopt}}));
  CAF_CHECK(!env::get(name));
}

CAF_TEST(capture_env takes the prefixed and the mapped variables) {
  scoped_env env;
  env.update({{"CFGT_CAPT_A", "1"}, {"CFGT_OTHER_B", "2"},
              {"CFGT_OTHER_C", "3"}});
  env_source_options opts;
  opts.prefix = "CFGT_CAPT_";
  opts.map = {{"CFGT_OTHER_B", "b"}, {"CFGT_UNSET_D", "d"}};
  CAF_CHECK_EQUAL(capture_env(opts),
                  (env_vars{{"CFGT_CAPT_A", "1"}, {"CFGT_OTHER_B", "2"}}));
}

CAF_TEST(variables on one path or below a scalar collide naming both) {
  auto scalar = build({{"CFG_A", "1"}, {"CFG_A__B", "2"}});
  CAF_REQUIRE(!scalar.ok);
  CAF_MESSAGE(scalar.error);
  CAF_CHECK(contains(scalar.error, "CFG_A "));
  CAF_CHECK(contains(scalar.error, "CFG_A__B"));
  CAF_CHECK(contains(scalar.error, "'a.b'"));
  auto same = build({{"CFG_LEVEL", "1"}, {"CFG_level", "2"}});
  CAF_REQUIRE(!same.ok);
  CAF_CHECK(contains(same.error, "CFG_LEVEL"));
  CAF_CHECK(contains(same.error, "CFG_level"));
  CAF_CHECK(!contains(same.error, "1"));
  // An object may take more keys from deeper variables, not the same key.
  auto merged = build({{"CFG_DB", R"({"host": "h"})"}, {"CFG_DB__PORT", "5"}});
  CAF_REQUIRE(merged.ok);
  CAF_CHECK_EQUAL(merged.layer,
                  json::parse(R"({"db": {"host": "h", "port": 5}})"));
  auto twice = build({{"CFG_DB", R"({"port": 1})"}, {"CFG_DB__PORT", "5"}});
  CAF_REQUIRE(!twice.ok);
  CAF_CHECK(contains(twice.error, "CFG_DB "));
  CAF_CHECK(contains(twice.error, "CFG_DB__PORT"));
}

CAF_TEST(a file url value is a secret read from the file) {
  secret_dir dir;
  auto token = dir.write("token", "s3cr3t-token\n\n");
  auto port = dir.write("port", "5433\n");
  auto r = build({{"CFG_DATABASE__PASSWORD", dir.url(token)},
                  {"CFG_DATABASE__PORT", dir.url(port)},
                  {"CFG_DATABASE__HOST", "db"}},
                 example_schema());
  CAF_REQUIRE_EQUAL(r.error, "");
  // One trailing newline is the file's, the other one the secret's.
  CAF_CHECK_EQUAL(r.layer["database"]["password"], "s3cr3t-token\n");
  CAF_CHECK_EQUAL(r.layer["database"]["port"], 5433);
  CAF_CHECK_EQUAL(r.secrets,
                  (strings{"database.password", "database.port"}));
}

CAF_TEST(a bad secret file is an error naming variable and file only) {
  secret_dir dir;
  auto empty = dir.write("empty", "");
  auto newline = dir.write("newline", "\n");
  auto port = dir.write("port", "not-a-port-XYZZY\n");
  auto missing = (dir.path / "missing").string();
  struct bad_case {
    std::string value;
    std::string path;
    std::string why;
  };
  std::vector<bad_case> cases{
    {dir.url(empty), empty, "is empty"},
    {dir.url(newline), newline, "is empty"},
    {dir.url(missing), missing, "No such file"},
    {dir.url(dir.path.string()), dir.path.string(), "not a regular file"},
    {"file://relative/token", "relative/token", "absolute path"},
    {dir.url(port), port, "integer"},
  };
  for (auto& c : cases) {
    auto r = build({{"CFG_DATABASE__PORT", c.value}}, example_schema());
    CAF_CHECK(!r.ok);
    CAF_MESSAGE(r.error);
    CAF_CHECK(contains(r.error, "CFG_DATABASE__PORT: "));
    CAF_CHECK(contains(r.error, c.path));
    CAF_CHECK(contains(r.error, c.why));
    CAF_CHECK(!contains(r.error, "XYZZY"));
  }
}

CAF_TEST(compare_env lists added removed and modified names sorted) {
  auto changes = compare_env({{"CFG_A", "1"}, {"CFG_B", "2"}, {"CFG_D", "4"},
                              {"CFG_E", "5"}},
                             {{"CFG_B", "2"}, {"CFG_C", "3"}, {"CFG_D", "x"},
                              {"CFG_E", "y"}, {"CFG_F", "6"}});
  CAF_CHECK_EQUAL(changes.added, (strings{"CFG_C", "CFG_F"}));
  CAF_CHECK_EQUAL(changes.removed, strings{"CFG_A"});
  CAF_CHECK_EQUAL(changes.modified, (strings{"CFG_D", "CFG_E"}));
  CAF_CHECK(!changes.empty());
  CAF_CHECK(compare_env({{"CFG_A", "1"}}, {{"CFG_A", "1"}}).empty());
}

CAF_TEST(capture_env returns exactly the prefixed variables) {
  scoped_env env;
  env.set("CFGT_ENVC_B", "x=y");
  env.set("CFGT_ENVC_A", "1");
  env.set("CFGT_ENVCX", "other prefix");
  CAF_CHECK_EQUAL(capture_env("CFGT_ENVC_"),
                  (env_vars{{"CFGT_ENVC_A", "1"}, {"CFGT_ENVC_B", "x=y"}}));
  env.unset("CFGT_ENVC_A");
  CAF_CHECK_EQUAL(capture_env("CFGT_ENVC_"),
                  (env_vars{{"CFGT_ENVC_B", "x=y"}}));
}

// -- the source on the real scheduler -----------------------------------------

namespace {

// Makes spdlog's default logger one that keeps its lines, for the lifetime of
// the fixture (declared before the actor system, so it outlives every actor).
struct log_capture {
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink
    = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);

  log_capture() {
    auto logger = std::make_shared<spdlog::logger>("env_source_test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }

  ~log_capture() {
    spdlog::set_default_logger(previous);
  }

  std::string text() const {
    std::string result;
    for (auto& line : sink->last_formatted())
      result += line;
    return result;
  }
};

system_config& threads(system_config& cfg) {
  cfg.set("scheduler.max-threads", 4);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

struct fixture {
  log_capture logs;
  system_config cfg;
  caf::actor_system sys{threads(cfg)};
  caf::scoped_actor self{sys};
  json_schema_ptr schema = example_schema();
  pipeline pipe;
  std::vector<source_actor> sources;

  fixture() {
    pipeline_options opts;
    opts.validation.schema = schema;
    pipe = spawn_pipeline(sys, opts);
    auto path = test::source_path("examples/config.yaml");
    auto doc = parse_file(path);
    if (!doc)
      CAF_FAIL(doc.error->str());
    self
      ->request(pipe.validator, 30s, write_atom::value,
                write_request{{operation::replace_layer("file:" + path,
                                                        doc.value)},
                              "test",
                              0,
                              {}})
      .receive(
        [](write_result& r) {
          CAF_REQUIRE(r.status == write_status::committed);
        },
        [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
  }

  ~fixture() {
    for (auto& src : sources)
      self->send_exit(src, caf::exit_reason::user_shutdown);
    shutdown(pipe);
  }

  /// Stops the sources spawned so far and waits until they are gone.
  void stop_sources() {
    for (auto& src : sources)
      self->send_exit(src, caf::exit_reason::user_shutdown);
    for (auto& src : sources)
      self->wait_for(src);
    sources.clear();
  }

  /// A test whose on_change captures its locals declares one after them:
  /// the sources poll every 30 ms and would otherwise call on_change after
  /// those locals are gone (scoped_env restoring the environment is a
  /// change they report).
  struct sources_stopped_at_exit {
    fixture& owner;

    ~sources_stopped_at_exit() {
      owner.stop_sources();
    }
  };

  source_actor spawn(std::string prefix,
                     std::chrono::milliseconds interval = 30ms) {
    env_source_options opts;
    opts.prefix = std::move(prefix);
    opts.poll_interval = interval;
    opts.schema = schema;
    return spawn(std::move(opts));
  }

  source_actor spawn(env_source_options opts) {
    sources.push_back(spawn_env_source(sys, pipe.validator, std::move(opts)));
    return sources.back();
  }

  source_status status(const source_actor& src) {
    source_status result;
    self->request(src, 30s, status_atom::value)
      .receive([&](source_status& x) { result = std::move(x); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  snapshot_ptr current() {
    snapshot_ptr result;
    self->request(pipe.store, 30s, get_atom::value)
      .receive([&](snapshot_ptr& x) { result = std::move(x); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  /// The effective value at `path` (null when absent).
  json value_at(const std::string& path) {
    auto snap = current();
    auto found = find(*snap->effective, *config_path::parse(path));
    return found ? *found : json{};
  }

  /// Polls `pred` until it holds, for at most 20 s.
  bool eventually(const std::function<bool()>& pred) {
    for (int i = 0; i < 2000; ++i) {
      if (pred())
        return true;
      std::this_thread::sleep_for(10ms);
    }
    return pred();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(env_source_tests, fixture)

CAF_TEST(a variable set in the process becomes a version and unset reverts) {
  scoped_env env;
  auto src = spawn("CFGT_ENVR1_");
  CAF_REQUIRE(eventually([&] { return status(src).committed == 1; }));
  env.update({{"CFGT_ENVR1_BUFFER_SIZE", "2048"},
              {"CFGT_ENVR1_GREETING", "hello-from-env-4711"}});
  CAF_REQUIRE(eventually([&] {
    return value_at("buffer_size") == 2048
           && value_at("greeting") == "hello-from-env-4711";
  }));
  auto version = current()->version;
  CAF_CHECK_EQUAL(current()->origin, "env:CFGT_ENVR1_");
  // The source books the validator's answer after the store has the version.
  CAF_REQUIRE(eventually([&] { return status(src).version == version; }));
  // Nothing changes while the environment stays as it is.
  auto before = status(src);
  CAF_REQUIRE(
    eventually([&] { return status(src).reads >= before.reads + 3; }));
  CAF_CHECK_EQUAL(status(src).proposals, before.proposals);
  CAF_CHECK_EQUAL(current()->version, version);
  env.update({{"CFGT_ENVR1_BUFFER_SIZE", "4096"},
              {"CFGT_ENVR1_GREETING", std::nullopt}});
  CAF_REQUIRE(eventually([&] { return value_at("buffer_size") == 4096; }));
  CAF_CHECK_EQUAL(value_at("greeting"), json{});
  env.unset("CFGT_ENVR1_BUFFER_SIZE");
  CAF_REQUIRE(eventually([&] { return value_at("buffer_size") == 1024; }));
  auto st = status(src);
  CAF_CHECK_EQUAL(st.kind, "env");
  CAF_CHECK_EQUAL(st.layer, "env");
  CAF_CHECK_EQUAL(st.state, source_state::ok);
  CAF_CHECK_EQUAL(st.rejected, 0u);
  auto log = logs.text();
  CAF_CHECK(contains(log, "event=env_changed prefix=CFGT_ENVR1_ "
                          "added=[CFGT_ENVR1_BUFFER_SIZE,CFGT_ENVR1_GREETING]"
                          " removed=[] modified=[]"));
  CAF_CHECK(contains(log, "added=[] removed=[CFGT_ENVR1_GREETING] "
                          "modified=[CFGT_ENVR1_BUFFER_SIZE]"));
  CAF_CHECK(!contains(log, "hello-from-env-4711"));
}

CAF_TEST(a file url secret is read and its rotation is a change) {
  scoped_env env;
  secret_dir dir;
  auto host = dir.write("host", "secret-host.internal\n");
  env.set("CFGT_ENVR2_DATABASE__HOST", dir.url(host));
  auto src = spawn("CFGT_ENVR2_");
  CAF_REQUIRE(eventually(
    [&] { return value_at("database.host") == "secret-host.internal"; }));
  dir.write("host", "rotated-host.internal\n");
  CAF_REQUIRE(eventually(
    [&] { return value_at("database.host") == "rotated-host.internal"; }));
  CAF_CHECK_EQUAL(status(src).state, source_state::ok);
  CAF_CHECK(contains(logs.text(),
                     "modified=[CFGT_ENVR2_DATABASE__HOST]"));
  CAF_CHECK(!contains(logs.text(), "host.internal"));
}

CAF_TEST(an empty secret file degrades the source and keeps the last layer) {
  scoped_env env;
  secret_dir dir;
  auto host = dir.write("host", "good-host\n");
  env.set("CFGT_ENVR3_DATABASE__HOST", dir.url(host));
  auto src = spawn("CFGT_ENVR3_");
  CAF_REQUIRE(
    eventually([&] { return value_at("database.host") == "good-host"; }));
  auto version = current()->version;
  dir.write("host", "");
  CAF_REQUIRE(eventually(
    [&] { return status(src).state == source_state::degraded; }));
  auto st = status(src);
  CAF_MESSAGE(st.last_error);
  CAF_CHECK(contains(st.last_error, "CFGT_ENVR3_DATABASE__HOST"));
  CAF_CHECK(contains(st.last_error, host));
  CAF_CHECK(contains(st.last_error, "is empty"));
  CAF_CHECK_GREATER(st.errors, 0u);
  CAF_CHECK_EQUAL(value_at("database.host"), "good-host");
  CAF_CHECK_EQUAL(current()->version, version);
  CAF_CHECK(contains(logs.text(), "event=env_read_failed"));
  // A good secret again: the source recovers.
  dir.write("host", "next-host\n");
  CAF_REQUIRE(
    eventually([&] { return value_at("database.host") == "next-host"; }));
  CAF_CHECK(eventually([&] { return status(src).state == source_state::ok; }));
}

CAF_TEST(a rejected secret never appears in the log or the status) {
  scoped_env env;
  secret_dir dir;
  auto level = dir.write("level", "LOUD-secret-value\n");
  // Long enough that the schema's message quotes it cut short.
  auto format = dir.write("format",
                          "LONG-secret-value-" + std::string(100, 'z'));
  env.set("CFGT_ENVR4_LOGGING__LEVEL", dir.url(level));
  env.set("CFGT_ENVR4_LOGGING__FORMAT", dir.url(format));
  auto src = spawn("CFGT_ENVR4_");
  // The validator refuses both (not in the enums) and masks them.
  CAF_REQUIRE(eventually([&] { return status(src).rejected == 1; }));
  auto st = status(src);
  CAF_MESSAGE(st.last_error);
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CAF_CHECK(contains(st.last_error, "logging.level"));
  CAF_CHECK(contains(st.last_error, "logging.format"));
  CAF_CHECK(!contains(st.last_error, "LOUD-secret-value"));
  CAF_CHECK(!contains(st.last_error, "LONG-secret-value"));
  CAF_CHECK_EQUAL(value_at("logging.level"), "INFO");
  // A secret the schema type refuses never reaches the validator.
  auto port = dir.write("port", "LOUD-port-value\n");
  env.set("CFGT_ENVR4_DATABASE__PORT", dir.url(port));
  CAF_REQUIRE(eventually([&] {
    return contains(status(src).last_error, "CFGT_ENVR4_DATABASE__PORT");
  }));
  st = status(src);
  CAF_MESSAGE(st.last_error);
  CAF_CHECK(!contains(st.last_error, "LOUD-port-value"));
  auto log = logs.text();
  CAF_CHECK(contains(log, "CFGT_ENVR4_LOGGING__LEVEL"));
  CAF_CHECK(contains(log, "CFGT_ENVR4_DATABASE__PORT"));
  CAF_CHECK(contains(log, "event=config_rejected"));
  CAF_CHECK(!contains(log, "LOUD-secret-value"));
  CAF_CHECK(!contains(log, "LONG-secret-value"));
  CAF_CHECK(!contains(log, "LOUD-port-value"));
}

CAF_TEST(without polling the source reads at start and on reload) {
  scoped_env env;
  env.set("CFGT_ENVR5_SAMPLE_RATE", "0.5");
  auto src = spawn("CFGT_ENVR5_", 0ms);
  CAF_REQUIRE(eventually([&] { return status(src).committed == 1; }));
  CAF_CHECK_EQUAL(value_at("sample_rate"), 0.5);
  env.set("CFGT_ENVR5_SAMPLE_RATE", "0.75");
  CAF_CHECK_EQUAL(status(src).reads, 1u);
  // reload answers once the validator has answered its proposal.
  source_status st;
  self->request(src, 30s, reload_atom::value)
    .receive([&](source_status& x) { st = std::move(x); },
             [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
  CAF_CHECK_EQUAL(st.reads, 2u);
  CAF_CHECK_EQUAL(st.committed, 2u);
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(value_at("sample_rate"), 0.75);
}

CAF_TEST(the change set reaches on_change with values old values and paths) {
  scoped_env env;
  env.update({{"CFGT_ENVR6_BUFFER_SIZE", "2048"},
              {"CFGT_ENVR6_SAMPLE_RATE", "0.5"}});
  std::mutex mx;
  std::vector<env_change_set> heard;
  sources_stopped_at_exit stop{*this};
  env_source_options opts;
  opts.prefix = "CFGT_ENVR6_";
  opts.map = {{"CFGT_MAPPED6_LOG_LEVEL", "logging.level"}};
  opts.poll_interval = 30ms;
  opts.schema = schema;
  opts.on_change = [&](const env_change_set& x) {
    std::lock_guard<std::mutex> guard{mx};
    heard.push_back(x);
  };
  auto count = [&] {
    std::lock_guard<std::mutex> guard{mx};
    return heard.size();
  };
  auto src = spawn(opts);
  CAF_REQUIRE(eventually([&] { return status(src).committed == 1; }));
  // The first read is no change.
  CAF_CHECK_EQUAL(count(), 0u);
  env.update({{"CFGT_MAPPED6_LOG_LEVEL", "DEBUG"},
              {"CFGT_ENVR6_BUFFER_SIZE", "4096"},
              {"CFGT_ENVR6_SAMPLE_RATE", std::nullopt}});
  CAF_REQUIRE(eventually([&] { return count() == 1; }));
  CAF_CHECK_EQUAL(value_at("logging.level"), "DEBUG");
  auto nth = [&](std::size_t i) {
    std::lock_guard<std::mutex> guard{mx};
    return heard.at(i);
  };
  auto first = nth(0);
  using values = std::map<std::string, std::string>;
  CAF_CHECK_EQUAL(first.added, (values{{"CFGT_MAPPED6_LOG_LEVEL", "DEBUG"}}));
  CAF_CHECK_EQUAL(first.removed, (values{{"CFGT_ENVR6_SAMPLE_RATE", "0.5"}}));
  CAF_CHECK_EQUAL(first.modified.size(), 1u);
  CAF_CHECK(first.modified["CFGT_ENVR6_BUFFER_SIZE"]
            == std::make_pair(std::string{"2048"}, std::string{"4096"}));
  CAF_CHECK_EQUAL(first.paths,
                  (values{{"CFGT_ENVR6_BUFFER_SIZE", "buffer_size"},
                          {"CFGT_ENVR6_SAMPLE_RATE", "sample_rate"},
                          {"CFGT_MAPPED6_LOG_LEVEL", "logging.level"}}));
  CAF_CHECK_EQUAL(first.version, current()->version);
  CAF_CHECK_EQUAL(first.error, "");
  // Polls that find nothing new say nothing.
  auto reads = status(src).reads;
  CAF_REQUIRE(eventually([&] { return status(src).reads >= reads + 3; }));
  CAF_CHECK_EQUAL(count(), 1u);
  // A change that makes no layer is still a change: told, with the reason.
  env.set("CFGT_ENVR6_BUFFER_SIZE", "eighty");
  CAF_REQUIRE(eventually([&] { return count() == 2; }));
  auto second = nth(1);
  CAF_CHECK(second.modified["CFGT_ENVR6_BUFFER_SIZE"]
            == std::make_pair(std::string{"4096"}, std::string{"eighty"}));
  CAF_CHECK_EQUAL(second.version, 0u);
  CAF_CHECK(contains(second.error, "CFGT_ENVR6_BUFFER_SIZE"));
  CAF_CHECK(!contains(second.error, "eighty"));
  CAF_CHECK_EQUAL(value_at("buffer_size"), 4096);
}

CAF_TEST(values on secret paths reach on_change masked unless asked for) {
  auto doc = schema->document();
  doc["properties"]["database"]["properties"]["password"]
    = json::parse(R"({"type": "string", "x-secret": true})");
  std::string err;
  auto secret_schema = json_schema::compile(doc, &err);
  CAF_REQUIRE(secret_schema != nullptr);
  scoped_env env;
  std::mutex mx;
  std::map<std::string, env_change_set> heard; // by prefix
  sources_stopped_at_exit stop{*this};
  auto listen = [&](std::string prefix, bool secrets) {
    env_source_options opts;
    opts.prefix = prefix;
    opts.poll_interval = 30ms;
    opts.schema = secret_schema;
    opts.on_change_secrets = secrets;
    opts.on_change = [&mx, &heard, prefix](const env_change_set& x) {
      std::lock_guard<std::mutex> guard{mx};
      heard[prefix] = x;
    };
    return spawn(opts);
  };
  auto masked = listen("CFGT_ENVR7_", false);
  auto shown = listen("CFGT_ENVR8_", true);
  CAF_REQUIRE(eventually([&] {
    return status(masked).reads > 0 && status(shown).reads > 0;
  }));
  env.update({{"CFGT_ENVR7_DATABASE__PASSWORD", "hunter2-XYZZY"},
              {"CFGT_ENVR7_DATABASE__HOST", "db-7"},
              {"CFGT_ENVR8_DATABASE__PASSWORD", "hunter2-XYZZY"},
              {"CFGT_ENVR8_DATABASE__HOST", "db-8"}});
  CAF_REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> guard{mx};
    return heard.size() == 2;
  }));
  using values = std::map<std::string, std::string>;
  auto got = [&](const std::string& prefix) {
    std::lock_guard<std::mutex> guard{mx};
    return heard[prefix];
  };
  CAF_CHECK_EQUAL(got("CFGT_ENVR7_").added,
                  (values{{"CFGT_ENVR7_DATABASE__HOST", "db-7"},
                          {"CFGT_ENVR7_DATABASE__PASSWORD", "***"}}));
  CAF_CHECK_EQUAL(got("CFGT_ENVR8_").added,
                  (values{{"CFGT_ENVR8_DATABASE__HOST", "db-8"},
                          {"CFGT_ENVR8_DATABASE__PASSWORD", "hunter2-XYZZY"}}));
  // Removed and modified values are masked too.
  env.set("CFGT_ENVR7_DATABASE__PASSWORD", "hunter3-XYZZY");
  CAF_REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> guard{mx};
    return !heard["CFGT_ENVR7_"].modified.empty();
  }));
  CAF_CHECK(got("CFGT_ENVR7_").modified["CFGT_ENVR7_DATABASE__PASSWORD"]
            == std::make_pair(std::string{"***"}, std::string{"***"}));
  env.unset("CFGT_ENVR7_DATABASE__PASSWORD");
  CAF_REQUIRE(eventually([&] {
    std::lock_guard<std::mutex> guard{mx};
    return !heard["CFGT_ENVR7_"].removed.empty();
  }));
  CAF_CHECK_EQUAL(got("CFGT_ENVR7_").removed,
                  (values{{"CFGT_ENVR7_DATABASE__PASSWORD", "***"}}));
}

CAF_TEST(options the check refuses leave the source degraded saying why) {
  scoped_env env;
  env.set("CFGT_ENVR9_BUFFER_SIZE", "2048");
  env_source_options opts;
  opts.prefix = "CFGT_ENVR9_";
  opts.separator = "";
  opts.poll_interval = 0ms;
  auto src = spawn(opts);
  CAF_REQUIRE(eventually([&] { return status(src).reads == 1; }));
  auto st = status(src);
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CAF_CHECK_EQUAL(st.last_error,
                  "the env source's options: the separator is empty");
  CAF_CHECK_EQUAL(st.proposals, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace env_source_suite

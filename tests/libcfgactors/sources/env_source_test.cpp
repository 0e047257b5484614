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
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

#include "cfgactors/env_source.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"

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

// Variables of this process set for one test and removed after it. Holds
// env_mutex() around each change: the source may be reading `environ`.
struct scoped_env {
  using change = std::pair<std::string, std::optional<std::string>>;

  strings names;

  /// Sets (or, for nullopt, unsets) several variables at once: a poll sees
  /// all of the changes or none.
  void update(const std::vector<change>& changes) {
    std::lock_guard<std::mutex> guard{env_mutex()};
    for (auto& [name, value] : changes) {
      if (value) {
        setenv(name.c_str(), value->c_str(), 1);
        names.push_back(name);
      } else {
        unsetenv(name.c_str());
      }
    }
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

  source_actor spawn(std::string prefix,
                     std::chrono::milliseconds interval = 30ms) {
    env_source_options opts;
    opts.prefix = std::move(prefix);
    opts.poll_interval = interval;
    opts.schema = schema;
    sources.push_back(spawn_env_source(sys, pipe.validator, opts));
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
    auto found = find(snap->effective, *config_path::parse(path));
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

CAF_TEST_FIXTURE_SCOPE_END()

#define CAF_SUITE journal_secrets
// Secret values in the journal: sealed on disk (the database and its WAL),
// opened on restore, bound to one key, and refused when changed.
#include "cfgactors_test.hpp"
#include "error_text.hpp"
#include "journal_dir.hpp"
#include "raw_sql.hpp"

#include <sys/stat.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <sqlite3.h>

#include <caf/all.hpp>

#include "cfgactors/hash.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/system_config.hpp"

#include "pipeline/journal.hpp"
#include "pipeline/secret_box.hpp"

namespace journal_secrets_suite {

using namespace cfgactors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using detail::journal;
using detail::secret_box;

using cfgactors::test::raw_sql;

using cfgactors::test::contains;
using cfgactors::test::message_of;

namespace {

// Distinctive values: none of them can turn up in a file by chance.
const std::string db_secret = "Zq7VtK2mXw9LrB4nJd8sHc3PfG6yTa1eUo5iRb0N";
const std::string tenant_secret = "tK9wQ2zLm4Xv8Rb1Jn6Hd3Fs7Gc0Ya5PeUoIiTrE";
const std::string newer_secret = "Nw4Rt8Yu2Io6Pa1Sd5Fg9Hj3Kl7Zx0Cv4Bn8MqWe";
const std::string visible = "svc-visible-marker-4711";

struct temp_dir : test::journal_dir {
  temp_dir() : journal_dir("journal-secrets") {
    // nop
  }

  /// A key file (0600) holding `key` as hex digits.
  std::string key_file(const std::string& name, const std::string& key) const {
    static constexpr char digits[] = "0123456789abcdef";
    std::string hex;
    for (unsigned char c : key) {
      hex += digits[c >> 4];
      hex += digits[c & 0xf];
    }
    auto file = write(name, hex + "\n");
    ::chmod(file.c_str(), 0600);
    return file;
  }
};

std::string key_a() {
  return std::string(32, 'A');
}

std::string key_b() {
  return std::string(32, 'B');
}

/// The bytes of `file`; empty if there is none.
std::string bytes_of(const std::string& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

/// One text column of one row, read directly; nullopt for NULL.
std::optional<std::string> raw_text(const std::string& file,
                                    const std::string& sql) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  std::optional<std::string> result;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK
      || sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) != SQLITE_OK)
    CAF_FAIL("raw read failed: " << sqlite3_errmsg(db));
  if (sqlite3_step(stmt) == SQLITE_ROW
      && sqlite3_column_type(stmt, 0) != SQLITE_NULL)
    result = std::string{
      reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0)),
      static_cast<std::size_t>(sqlite3_column_bytes(stmt, 0))};
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  return result;
}

json stored_layers(const std::string& file, uint64_t version) {
  auto text = raw_text(file, "SELECT layers FROM versions WHERE version = "
                               + std::to_string(version));
  CAF_REQUIRE(text);
  return json::parse(*text);
}

/// Replaces the layers column of one row, as another program could.
void store_layers(const std::string& file, uint64_t version,
                  const json& layers) {
  sqlite3* db = nullptr;
  sqlite3_stmt* stmt = nullptr;
  if (sqlite3_open(file.c_str(), &db) != SQLITE_OK
      || sqlite3_prepare_v2(db,
                            "UPDATE versions SET layers = ? WHERE version = ?",
                            -1, &stmt, nullptr)
           != SQLITE_OK)
    CAF_FAIL("raw update failed: " << sqlite3_errmsg(db));
  auto text = layers.dump();
  sqlite3_bind_text(stmt, 1, text.data(), static_cast<int>(text.size()),
                    SQLITE_TRANSIENT);
  sqlite3_bind_int64(stmt, 2, static_cast<sqlite3_int64>(version));
  auto rc = sqlite3_step(stmt);
  auto changes = sqlite3_changes(db);
  sqlite3_finalize(stmt);
  sqlite3_close(db);
  if (rc != SQLITE_DONE || changes != 1)
    CAF_FAIL("raw update changed no row");
}

/// The stored data of `layer` in a stored row's layer list.
json& data_of(json& layers, const std::string& layer) {
  for (auto& x : layers)
    if (x["name"] == layer)
      return x["data"];
  CAF_FAIL("no layer " << layer);
  return layers;
}

/// The stored value at `path` of `layer` in a row's layer list: inside the
/// layer's data in a whole row, among its changes in one built on another.
json& stored_at(json& layers, const std::string& layer,
                const std::string& path) {
  for (auto& x : layers) {
    if (x["name"] != layer)
      continue;
    if (!x.contains("data"))
      return x.at("set").at(path);
    auto at = config_path::parse(path);
    CAF_REQUIRE(at);
    auto found = find(x["data"], *at);
    CAF_REQUIRE(found != nullptr);
    return *found;
  }
  CAF_FAIL("no layer " << layer);
  return layers;
}

const std::vector<std::string> secret_list{"db.password", "tenants.*.key"};

/// A version with a file layer and a runtime layer, the secrets in both
/// (a tenant key in clear when it has no secret paths).
snapshot_ptr make_version(uint64_t version, const std::string& db_password,
                          json runtime = json::object(),
                          const std::vector<std::string>& secrets
                          = secret_list) {
  auto tenant_key = secrets.empty() ? std::string{"clear-tenant-key"}
                                    : tenant_secret;
  layer_stack layers;
  layers.put("file:a.yaml", json{{"name", visible},
                                 {"db", {{"host", "db1"},
                                         {"password", db_password}}}});
  if (!runtime.contains("tenants"))
    runtime["tenants"] = {{"acme", {{"key", tenant_key}, {"plan", "gold"}}},
                          {"beta", {{"plan", "free"}}}};
  layers.put(std::string{runtime_layer}, std::move(runtime));
  auto effective = layers.effective();
  return snapshot::make(version, "test:" + std::to_string(version),
                        std::move(layers), std::move(effective),
                        1700000000000 + static_cast<int64_t>(version),
                        secret_paths::with(nullptr, secrets));
}

detail::journal_ptr must_open(const temp_dir& dir,
                              const std::string& key_file = {}) {
  auto db = journal::open(dir.str(), 0, key_file);
  if (!db)
    CAF_FAIL("cannot open the journal: " << to_string(db.error()));
  return *db;
}

/// Checks that the files of the journal in `dir` hold no secret value but
/// do hold the visible one (so the search itself works).
void check_files(const temp_dir& dir, const char* when) {
  auto db = bytes_of(dir.db());
  auto wal = bytes_of(dir.wal());
  CAF_MESSAGE(when << ": journal.db " << db.size() << " bytes, -wal "
                   << wal.size() << " bytes");
  CAF_CHECK(contains(db + wal, visible));
  for (auto& secret : {db_secret, tenant_secret, newer_secret}) {
    CAF_CHECK(!contains(db, secret));
    CAF_CHECK(!contains(wal, secret));
    // Nor any long part of one.
    CAF_CHECK(!contains(db + wal, secret.substr(0, 12)));
    CAF_CHECK(!contains(db + wal, secret.substr(20, 12)));
  }
}

} // namespace

CAF_TEST(secret values never reach the journal files) {
  temp_dir dir;
  auto v1 = make_version(1, db_secret);
  auto v2 = make_version(2, newer_secret);
  {
    auto db = must_open(dir);
    CAF_REQUIRE(!db->append(*v1));
    CAF_REQUIRE(!db->append(*v2));
    // While open, the new rows are in the WAL.
    CAF_CHECK(fs::exists(dir.wal()));
    check_files(dir, "open");
  }
  check_files(dir, "closed");
  CAF_CHECK(contains(bytes_of(dir.db()), visible));
  // Sealed in place; the paths are stored as they are.
  auto layers = stored_layers(dir.db(), 1);
  auto& file = data_of(layers, "file:a.yaml");
  CAF_CHECK_EQUAL(file["db"]["host"], "db1");
  CAF_CHECK_EQUAL(file["name"], visible);
  auto sealed = file["db"]["password"].get<std::string>();
  CAF_CHECK_EQUAL(sealed.rfind(secret_box::prefix, 0), 0u);
  auto& runtime = data_of(layers, "runtime");
  CAF_CHECK_EQUAL(runtime["tenants"]["acme"]["key"].get<std::string>().rfind(
                    secret_box::prefix, 0),
                  0u);
  CAF_CHECK_EQUAL(runtime["tenants"]["acme"]["plan"], "gold");
  CAF_CHECK_EQUAL(raw_text(dir.db(),
                           "SELECT secrets FROM versions WHERE version = 1"),
                  std::optional<std::string>{
                    R"(["db.password","tenants.*.key"])"});
  // A version without secrets stores no paths.
  {
    auto db = must_open(dir);
    CAF_REQUIRE(!db->append(*make_version(3, "plain-pw", json::object(), {})));
  }
  CAF_CHECK(
    !raw_text(dir.db(), "SELECT secrets FROM versions WHERE version = 3"));
  CAF_CHECK_EQUAL(data_of(layers = stored_layers(dir.db(), 3),
                          "file:a.yaml")["db"]["password"],
                  "plain-pw");
  check_files(dir, "after a version without secrets");
}

CAF_TEST(a reopened journal restores the secrets in clear) {
  temp_dir dir;
  auto v1 = make_version(1, db_secret);
  auto v2 = make_version(2, newer_secret, json{{"extra", 1}});
  auto v3 = make_version(3, newer_secret, json{{"extra", 2}}, {});
  {
    auto db = must_open(dir);
    for (auto& v : {v1, v2, v3})
      CAF_REQUIRE(!db->append(*v));
  }
  auto db = must_open(dir);
  auto newest = db->newest(3);
  CAF_REQUIRE(newest);
  CAF_REQUIRE_EQUAL(newest->size(), 3u);
  std::vector<snapshot_ptr> written{v1, v2, v3};
  for (std::size_t i = 0; i < 3; ++i) {
    auto& got = (*newest)[i];
    auto& want = written[i];
    CAF_CHECK_EQUAL(got->version, want->version);
    CAF_CHECK_EQUAL(got->hash, want->hash);
    CAF_CHECK_EQUAL(*got->effective, *want->effective);
    CAF_CHECK(got->layers == want->layers);
  }
  auto& r1 = (*newest)[0];
  auto& r2 = (*newest)[1];
  auto& r3 = (*newest)[2];
  CAF_CHECK_EQUAL((*r1->effective)["db"]["password"], db_secret);
  CAF_CHECK_EQUAL((*r2->effective)["db"]["password"], newer_secret);
  CAF_CHECK_EQUAL((*r1->effective)["tenants"]["acme"]["key"], tenant_secret);
  CAF_REQUIRE(r1->secrets != nullptr);
  CAF_CHECK_EQUAL(r1->secrets->patterns(), secret_list);
  // Successive versions with the same paths share one set.
  CAF_CHECK_EQUAL(r2->secrets, r1->secrets);
  CAF_CHECK(r3->secrets == nullptr);
  auto shown = r1->shown(false);
  CAF_CHECK_EQUAL(shown["db"]["password"], "***");
  // One version read alone.
  auto one = db->read(1);
  CAF_REQUIRE(one);
  CAF_CHECK_EQUAL((*one)->hash, v1->hash);
  CAF_CHECK_EQUAL((*(*one)->effective)["db"]["password"], db_secret);
  CAF_REQUIRE((*one)->secrets != nullptr);
  CAF_CHECK_EQUAL((*one)->secrets->patterns(), secret_list);
}

CAF_TEST(a journal is bound to the key that sealed it) {
  temp_dir dir;
  temp_dir keys;
  auto a = keys.key_file("a.key", key_a());
  auto b = keys.key_file("b.key", key_b());
  auto id_a = secret_box{key_a()}.key_id();
  auto id_b = secret_box{key_b()}.key_id();
  {
    auto db = must_open(dir, a);
    CAF_REQUIRE(!db->append(*make_version(1, db_secret)));
  }
  CAF_CHECK_EQUAL(raw_text(dir.db(),
                           "SELECT value FROM meta WHERE key = 'secrets_key'"),
                  std::optional<std::string>{id_a});
  // A key file was given: none was made in the data dir.
  CAF_CHECK(!fs::exists(dir.path / "secrets.key"));
  auto refused = journal::open(dir.str(), 0, b);
  CAF_REQUIRE(!refused);
  CAF_CHECK_EQUAL(refused.error().code(),
                  static_cast<uint8_t>(errc::store_failed));
  auto msg = message_of(refused.error());
  CAF_MESSAGE("error: " << msg);
  CAF_CHECK(contains(msg, dir.db()));
  CAF_CHECK(contains(msg, id_a));
  CAF_CHECK(contains(msg, id_b));
  // Without a key file the data dir's own (new) key is just as wrong.
  refused = journal::open(dir.str(), 0);
  CAF_REQUIRE(!refused);
  CAF_CHECK(contains(message_of(refused.error()), id_a));
  // A missing key file is named.
  auto missing = (keys.path / "missing.key").string();
  refused = journal::open(dir.str(), 0, missing);
  CAF_REQUIRE(!refused);
  CAF_CHECK(contains(message_of(refused.error()), missing));
  // The right key, in another file, opens it.
  auto copy = keys.key_file("copy.key", key_a());
  auto db = must_open(dir, copy);
  auto one = db->read(1);
  CAF_REQUIRE(one);
  CAF_CHECK_EQUAL((*(*one)->effective)["db"]["password"], db_secret);
}

CAF_TEST(a journal on the data dir key keeps using it) {
  temp_dir dir;
  {
    auto db = must_open(dir);
    CAF_REQUIRE(!db->append(*make_version(1, db_secret)));
  }
  auto key_file = (dir.path / "secrets.key").string();
  CAF_REQUIRE(fs::exists(key_file));
  auto key = detail::read_key_file(key_file);
  CAF_REQUIRE(key);
  CAF_CHECK_EQUAL(raw_text(dir.db(),
                           "SELECT value FROM meta WHERE key = 'secrets_key'"),
                  std::optional<std::string>{secret_box{*key}.key_id()});
  auto db = must_open(dir);
  auto one = db->read(1);
  CAF_REQUIRE(one);
  CAF_CHECK_EQUAL((*(*one)->effective)["db"]["password"], db_secret);
  // The same key named explicitly is the same key.
  db.reset();
  CAF_CHECK(journal::open(dir.str(), 0, key_file));
}

namespace {

/// Writes v1 and v2 (other secrets), then changes v2's stored secrets as
/// another program could: each change stops the restore and names its place.
void check_sealed_values(const snapshot_ptr& v1, const snapshot_ptr& v2,
                         bool whole) {
  temp_dir dir;
  {
    auto db = must_open(dir);
    CAF_REQUIRE(!db->append(*v1));
    CAF_REQUIRE(!db->append(*v2));
  }
  CAF_CHECK_EQUAL(raw_text(dir.db(), "SELECT base FROM versions WHERE "
                                     "version = 2"),
                  whole ? std::nullopt : std::optional<std::string>{"1"});
  auto original = stored_layers(dir.db(), 2);
  auto key_id = [&] {
    auto key = detail::read_key_file((dir.path / "secrets.key").string());
    CAF_REQUIRE(key);
    return secret_box{*key}.key_id();
  }();
  auto expect_refused = [&](const char* what, const std::string& place,
                            const std::string& layer) {
    CAF_MESSAGE(what);
    auto db = must_open(dir);
    auto newest = db->newest(2);
    CAF_REQUIRE(!newest);
    auto msg = message_of(newest.error());
    CAF_MESSAGE("error: " << msg);
    CAF_CHECK_EQUAL(newest.error().code(),
                    static_cast<uint8_t>(errc::store_failed));
    CAF_CHECK(contains(msg, dir.db()));
    CAF_CHECK(contains(msg, "version 2"));
    CAF_CHECK(contains(msg, "the secret at " + place));
    CAF_CHECK(contains(msg, "layer " + layer));
    CAF_CHECK(contains(msg, key_id));
    for (auto& secret : {db_secret, tenant_secret, newer_secret})
      CAF_CHECK(!contains(msg, secret));
    CAF_CHECK(!db->read(2));
    // The other version is untouched.
    auto one = db->read(1);
    CAF_REQUIRE(one);
    CAF_CHECK_EQUAL((*(*one)->effective)["db"]["password"], db_secret);
  };
  // One character of the sealed text changed.
  auto layers = original;
  auto& pw = stored_at(layers, "file:a.yaml", "db.password");
  auto text = pw.get<std::string>();
  auto i = secret_box::prefix.size() + 20;
  text[i] = text[i] == 'A' ? 'B' : 'A';
  pw = text;
  store_layers(dir.db(), 2, layers);
  expect_refused("a changed character", "db.password", "file:a.yaml");
  // The sealed value of the same place in another version.
  layers = original;
  auto first = stored_layers(dir.db(), 1);
  stored_at(layers, "file:a.yaml", "db.password")
    = stored_at(first, "file:a.yaml", "db.password");
  store_layers(dir.db(), 2, layers);
  expect_refused("a value from version 1", "db.password", "file:a.yaml");
  // The sealed value of another place in the same version.
  layers = original;
  stored_at(layers, "file:a.yaml", "db.password")
    = stored_at(layers, "runtime", "tenants.acme.key");
  store_layers(dir.db(), 2, layers);
  expect_refused("a value from another place", "db.password", "file:a.yaml");
  // A value in clear where a sealed one belongs.
  layers = original;
  stored_at(layers, "runtime", "tenants.acme.key") = tenant_secret;
  store_layers(dir.db(), 2, layers);
  expect_refused("a value in clear", "tenants.acme.key", "runtime");
  // Not a string at all.
  layers = original;
  stored_at(layers, "runtime", "tenants.acme.key") = 42;
  store_layers(dir.db(), 2, layers);
  expect_refused("a number", "tenants.acme.key", "runtime");
  // Back as it was: it opens again.
  store_layers(dir.db(), 2, original);
  auto db = must_open(dir);
  auto two = db->read(2);
  CAF_REQUIRE(two);
  CAF_CHECK_EQUAL((*(*two)->effective)["db"]["password"], newer_secret);
  CAF_CHECK_EQUAL((*(*two)->effective)["tenants"]["acme"]["key"], tenant_secret);
}

} // namespace

CAF_TEST(a changed sealed value stops the restore and names its place) {
  // Version 1 has another tenant key, so that version 2 changes both
  // secrets: its row holds those two changes, sealed, and builds on row 1.
  auto tenants = json{{"tenants",
                       {{"acme", {{"key", "an-older-tenant-key-0000000000"},
                                  {"plan", "gold"}}},
                        {"beta", {{"plan", "free"}}}}}};
  auto v1 = make_version(1, db_secret, tenants);
  CAF_MESSAGE("a row of changes");
  check_sealed_values(v1, make_version(2, newer_secret), false);
  // Other secret paths: the row is whole.
  CAF_MESSAGE("a whole row");
  auto more = secret_list;
  more.push_back("other.key");
  check_sealed_values(v1, make_version(2, newer_secret, json::object(), more),
                      true);
}

CAF_TEST(a row whose secret paths were removed does not match its hash) {
  temp_dir dir;
  {
    auto db = must_open(dir);
    CAF_REQUIRE(!db->append(*make_version(1, db_secret)));
  }
  raw_sql(dir.db(), "UPDATE versions SET secrets = NULL");
  auto db = must_open(dir);
  auto one = db->read(1);
  CAF_REQUIRE(!one);
  auto msg = message_of(one.error());
  CAF_MESSAGE("error: " << msg);
  CAF_CHECK(contains(msg, "does not match"));
  db.reset();
  raw_sql(dir.db(), "UPDATE versions SET secrets = '{\"a\":1}'");
  one = must_open(dir)->read(1);
  CAF_REQUIRE(!one);
  CAF_CHECK(contains(message_of(one.error()), "secret paths"));
}

CAF_TEST(a format 1 journal is upgraded in place and stays readable) {
  temp_dir dir;
  auto v1 = make_version(1, "old-clear-pw", json::object(), {});
  auto v2 = make_version(2, "old-clear-pw-2", json{{"n", 2}}, {});
  raw_sql(dir.db(),
          "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
          "INSERT INTO meta VALUES('format', 1);"
          "CREATE TABLE versions(version INTEGER PRIMARY KEY, "
          "hash TEXT NOT NULL, timestamp_ms INTEGER NOT NULL, "
          "origin TEXT NOT NULL, layers TEXT NOT NULL);");
  for (auto& v : {v1, v2}) {
    auto layers = v->layers.to_json().dump();
    // Only quotes in these values: doubled for SQL.
    std::string quoted;
    for (auto c : layers)
      quoted += c == '\'' ? std::string{"''"} : std::string{c};
    // That build's hash: the SHA-256 of the compact dump.
    raw_sql(dir.db(), "INSERT INTO versions VALUES(" + std::to_string(v->version)
                        + ", '" + sha256_hex(v->effective->dump()) + "', "
                        + std::to_string(v->timestamp_ms) + ", '" + v->origin
                        + "', '" + quoted + "')");
  }
  auto v3 = make_version(3, db_secret);
  {
    auto db = must_open(dir);
    CAF_CHECK_EQUAL(db->last_version(), 2u);
    auto old = db->newest(2);
    CAF_REQUIRE(old);
    CAF_REQUIRE_EQUAL(old->size(), 2u);
    CAF_CHECK_EQUAL((*old)[0]->hash, v1->hash);
    CAF_CHECK_EQUAL((*old)[1]->hash, v2->hash);
    CAF_CHECK_EQUAL(*(*old)[1]->effective, *v2->effective);
    CAF_CHECK((*old)[1]->secrets == nullptr);
    CAF_REQUIRE(!db->append(*v3));
  }
  CAF_CHECK_EQUAL(raw_text(dir.db(),
                           "SELECT value FROM meta WHERE key = 'format'"),
                  std::optional<std::string>{"6"}); // 1 → 6 at once
  CAF_CHECK(raw_text(dir.db(),
                     "SELECT value FROM meta WHERE key = 'secrets_key'"));
  CAF_CHECK_EQUAL(raw_text(dir.db(), "SELECT count(*) FROM "
                                     "pragma_table_info('versions') "
                                     "WHERE name = 'secrets'"),
                  std::optional<std::string>{"1"});
  check_files(dir, "upgraded");
  // Reopened as a format 6 journal: old and new rows.
  auto db = must_open(dir);
  auto all = db->newest(10);
  CAF_REQUIRE(all);
  CAF_REQUIRE_EQUAL(all->size(), 3u);
  CAF_CHECK_EQUAL((*(*all)[0]->effective)["db"]["password"], "old-clear-pw");
  CAF_CHECK_EQUAL((*all)[2]->hash, v3->hash);
  CAF_CHECK_EQUAL((*(*all)[2]->effective)["db"]["password"], db_secret);
  CAF_REQUIRE((*all)[2]->secrets != nullptr);
  CAF_CHECK_EQUAL((*all)[2]->secrets->patterns(), secret_list);
}

// -- the store on a journal ---------------------------------------------------

namespace {

system_config& sharing(system_config& cfg) {
  cfg.set("scheduler.max-threads", 2);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

struct fixture {
  temp_dir dir;
  temp_dir keys;
  std::string key_file = keys.key_file("secrets.key", key_a());
  system_config cfg;
  caf::actor_system sys{sharing(cfg)};
  caf::scoped_actor self{sys};
  std::optional<pipeline> pipe;

  ~fixture() {
    if (pipe)
      stop();
  }

  void start() {
    pipeline_options opts;
    opts.storage.history_size = 5;
    opts.storage.data_dir = dir.str();
    opts.storage.secrets_key_file = key_file;
    auto p = open_pipeline(sys, std::move(opts));
    if (!p)
      CAF_FAIL("open_pipeline: " << sys.render(p.error()));
    pipe = std::move(*p);
  }

  void stop() {
    self->monitor(pipe->store);
    shutdown(*pipe);
    pipe.reset();
    self->receive([](const caf::down_msg&) {},
                  caf::after(30s) >> [] { CAF_FAIL("the store did not stop"); });
  }

  write_result write(write_request req) {
    write_result result;
    self->request(pipe->validator, 30s, write_atom::value, std::move(req))
      .receive([&](write_result& r) { result = std::move(r); },
               [&](caf::error& err) {
                 CAF_FAIL("write failed: " << sys.render(err));
               });
    return result;
  }

  snapshot_ptr current() {
    snapshot_ptr result;
    self->request(pipe->store, 30s, get_atom::value)
      .receive([&](snapshot_ptr& x) { result = std::move(x); },
               [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(journaled_store_secret_tests, fixture)

CAF_TEST(a restarted store keeps its secrets sealed and their paths) {
  start();
  auto res = write(write_request{
    {operation::replace_layer("env", json{{"db", {{"password", db_secret}}},
                                          {"name", visible}})},
    "env:CFG_", 0, {"db.password"}});
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  auto before = current();
  CAF_REQUIRE(before->secrets != nullptr);
  CAF_CHECK_EQUAL(before->secrets->patterns(),
                  std::vector<std::string>{"db.password"});
  check_files(dir, "running");
  stop();
  check_files(dir, "stopped");
  start();
  auto after = current();
  CAF_CHECK_EQUAL(after->version, before->version);
  CAF_CHECK_EQUAL(after->hash, before->hash);
  CAF_CHECK_EQUAL((*after->effective)["db"]["password"], db_secret);
  CAF_REQUIRE(after->secrets != nullptr);
  CAF_CHECK_EQUAL(after->secrets->patterns(),
                  std::vector<std::string>{"db.password"});
  // The validator took the paths from the restored version: a later write
  // that names no secret still carries them, and seals the new value.
  res = write(write_request{{operation::set("db.password", newer_secret)},
                            "api:alice", 0, {}});
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  auto next = current();
  CAF_REQUIRE(next->secrets != nullptr);
  CAF_CHECK_EQUAL(next->secrets->patterns(),
                  std::vector<std::string>{"db.password"});
  stop();
  check_files(dir, "after a write in the runtime layer");
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace journal_secrets_suite

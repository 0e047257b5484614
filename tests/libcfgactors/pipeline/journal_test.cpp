#define CAF_SUITE journal
// The store's SQLite journal: the journal class on real files, and the store
// restarted on the same data dir (real scheduler: a journaled store runs on
// a thread of its own).
#include "cfgactors_test.hpp"
#include "error_text.hpp"
#include "journal_dir.hpp"
#include "raw_sql.hpp"

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <future>
#include <initializer_list>
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <sqlite3.h>

#include <caf/all.hpp>

#include "cfgactors/hash.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"

#include "model/hash_tree.hpp"
#include "pipeline/journal.hpp"

namespace journal_suite {

using namespace cfgactors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

using detail::journal;

using cfgactors::test::raw_sql;

using cfgactors::test::contains;
using cfgactors::test::message_of;

namespace {

struct temp_dir : test::journal_dir {
  temp_dir() : journal_dir("journal") {
    // nop
  }
};

void write_file(const std::string& file, const std::string& bytes) {
  std::ofstream out{file, std::ios::binary | std::ios::trunc};
  out << bytes;
}

snapshot_ptr make_version(uint64_t version, json runtime,
                          json file = json{{"name", "svc"}}) {
  layer_stack layers;
  layers.put("file:a.yaml", std::move(file));
  layers.put(std::string{runtime_layer}, std::move(runtime));
  auto effective = layers.effective();
  return snapshot::make(version, "test:" + std::to_string(version),
                        std::move(layers), std::move(effective),
                        1700000000000 + static_cast<int64_t>(version));
}

/// make_version with who wrote it and why.
snapshot_ptr make_version_by(uint64_t version, json runtime,
                             std::string author, std::string reason) {
  auto plain = make_version(version, std::move(runtime));
  return snapshot::make(version, plain->origin, plain->layers,
                        *plain->effective, plain->timestamp_ms, nullptr,
                        std::move(author), std::move(reason));
}

/// The first column of the first row of `sql`, as text ("" if none).
std::string sql_text(const std::string& file, const std::string& sql) {
  sqlite3* db = nullptr;
  std::string out;
  if (sqlite3_open(file.c_str(), &db) == SQLITE_OK) {
    sqlite3_stmt* stmt = nullptr;
    if (sqlite3_prepare_v2(db, sql.c_str(), -1, &stmt, nullptr) == SQLITE_OK
        && sqlite3_step(stmt) == SQLITE_ROW && sqlite3_column_text(stmt, 0))
      out = reinterpret_cast<const char*>(sqlite3_column_text(stmt, 0));
    sqlite3_finalize(stmt);
  }
  sqlite3_close(db);
  return out;
}

/// SQL text literal of `text` (quotes doubled).
std::string sql_quoted(const std::string& text) {
  std::string out = "'";
  for (auto c : text)
    out += c == '\'' ? std::string{"''"} : std::string{c};
  return out + "'";
}

/// Opens a journal that must open.
detail::journal_ptr must_open(const temp_dir& dir, std::size_t retention = 0) {
  auto db = journal::open(dir.str(), retention);
  if (!db)
    CAF_FAIL("cannot open the journal: " << to_string(db.error()));
  return *db;
}

} // namespace

CAF_TEST(a journal reads back every version written to it after a reopen) {
  temp_dir dir;
  {
    auto db = must_open(dir);
    CAF_CHECK_EQUAL(db->last_version(), 0u);
    for (uint64_t v = 1; v <= 3; ++v)
      CAF_REQUIRE(!db->append(*make_version(v, json{{"n", v}})));
    CAF_CHECK_EQUAL(db->last_version(), 3u);
  }
  auto db = must_open(dir);
  CAF_CHECK_EQUAL(db->path(), dir.db());
  CAF_CHECK_EQUAL(db->last_version(), 3u);
  auto two = db->read(2);
  CAF_REQUIRE(two);
  auto expected = make_version(2, json{{"n", 2}});
  CAF_CHECK_EQUAL((*two)->hash, expected->hash);
  CAF_CHECK_EQUAL((*two)->origin, "test:2");
  CAF_CHECK_EQUAL((*two)->timestamp_ms, expected->timestamp_ms);
  CAF_CHECK((*two)->layers == expected->layers);
  CAF_CHECK_EQUAL(*(*two)->effective, *expected->effective);
  auto missing = db->read(7);
  CAF_REQUIRE(!missing);
  CAF_CHECK_EQUAL(missing.error().code(),
                  static_cast<uint8_t>(errc::not_found));
  auto rows = db->history(0, 10);
  CAF_REQUIRE(rows);
  CAF_REQUIRE_EQUAL(rows->size(), 3u);
  CAF_CHECK_EQUAL((*rows)[0].version, 3u);
  CAF_CHECK_EQUAL((*rows)[2].origin, "test:1");
  rows = db->history(3, 1);
  CAF_REQUIRE(rows);
  CAF_REQUIRE_EQUAL(rows->size(), 1u);
  CAF_CHECK_EQUAL((*rows)[0].version, 2u);
  auto newest = db->newest(2);
  CAF_REQUIRE(newest);
  CAF_REQUIRE_EQUAL(newest->size(), 2u);
  CAF_CHECK_EQUAL(newest->front()->version, 2u);
  CAF_CHECK_EQUAL(newest->back()->version, 3u);
  CAF_CHECK_EQUAL((*newest->back()->effective)["n"], 3);
}

CAF_TEST(the author and reason of a version are kept across a reopen) {
  temp_dir dir;
  auto why = std::string{"OPS-42: pool too small \u2014 'undo'"};
  {
    auto db = must_open(dir);
    CAF_REQUIRE(!db->append(*make_version(1, json{{"n", 1}})));
    CAF_REQUIRE(!db->append(*make_version_by(2, json{{"n", 2}}, "alice", why)));
  }
  auto db = must_open(dir);
  auto two = db->read(2);
  CAF_REQUIRE(two);
  CAF_CHECK_EQUAL((*two)->author, "alice");
  CAF_CHECK_EQUAL((*two)->reason, why);
  CAF_CHECK_EQUAL((*two)->origin, "test:2");
  auto newest = db->newest(2);
  CAF_REQUIRE(newest);
  CAF_REQUIRE_EQUAL(newest->size(), 2u);
  CAF_CHECK_EQUAL(newest->back()->reason, why);
  CAF_CHECK_EQUAL(newest->front()->author, "");
  auto rows = db->history(0, 10);
  CAF_REQUIRE(rows);
  CAF_REQUIRE_EQUAL(rows->size(), 2u);
  CAF_CHECK_EQUAL((*rows)[0], (version_info{2, (*two)->hash,
                                            (*two)->timestamp_ms, "test:2",
                                            "alice", why}));
  CAF_CHECK_EQUAL((*rows)[1].author, "");
  CAF_CHECK_EQUAL((*rows)[1].reason, "");
}

CAF_TEST(a format 2 journal gains authors and reasons and keeps its history) {
  temp_dir dir;
  // The layout a data dir of the previous build has (format 2: secrets,
  // no author or reason), with its meta rows, written as that build did.
  raw_sql(dir.db(),
          "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
          "INSERT INTO meta VALUES('format', 2);"
          "INSERT INTO meta VALUES('cluster_id', 'c0ffee');"
          "INSERT INTO meta VALUES('epoch', 4);"
          "CREATE TABLE versions(version INTEGER PRIMARY KEY, "
          "hash TEXT NOT NULL, timestamp_ms INTEGER NOT NULL, "
          "origin TEXT NOT NULL, layers TEXT NOT NULL, secrets TEXT);");
  auto v1 = make_version(1, json{{"n", 1}});
  auto v2 = make_version(2, json{{"n", 2}});
  for (auto& v : {v1, v2})
    raw_sql(dir.db(), "INSERT INTO versions VALUES("
                        + std::to_string(v->version) + ", "
                        + sql_quoted(v->hash) + ", "
                        + std::to_string(v->timestamp_ms) + ", "
                        + sql_quoted(v->origin) + ", "
                        + sql_quoted(v->layers.to_json().dump()) + ", NULL)");
  {
    auto db = must_open(dir);
    CAF_CHECK_EQUAL(db->last_version(), 2u);
    CAF_CHECK_EQUAL(db->cluster_id(), "c0ffee");
    CAF_CHECK_EQUAL(db->epoch(), 5u);
    auto old = db->newest(2);
    CAF_REQUIRE(old);
    CAF_REQUIRE_EQUAL(old->size(), 2u);
    CAF_CHECK_EQUAL((*old)[0]->hash, v1->hash);
    CAF_CHECK_EQUAL((*old)[1]->hash, v2->hash);
    CAF_CHECK_EQUAL((*old)[1]->origin, "test:2");
    CAF_CHECK_EQUAL((*old)[1]->author, "");
    CAF_CHECK_EQUAL((*old)[1]->reason, "");
    CAF_REQUIRE(!db->append(*make_version_by(3, json{{"n", 3}}, "bob",
                                             "after the upgrade")));
  }
  CAF_CHECK_EQUAL(sql_text(dir.db(),
                           "SELECT value FROM meta WHERE key = 'format'"),
                  "6");
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT count(*) FROM "
                                     "pragma_table_info('versions') WHERE "
                                     "name IN ('author', 'reason')"),
                  "2");
  // Reopened as format 6: the old rows and the new one, newest first.
  auto db = must_open(dir);
  auto rows = db->history(0, 10);
  CAF_REQUIRE(rows);
  CAF_REQUIRE_EQUAL(rows->size(), 3u);
  CAF_CHECK_EQUAL((*rows)[0].author, "bob");
  CAF_CHECK_EQUAL((*rows)[0].reason, "after the upgrade");
  CAF_CHECK_EQUAL((*rows)[1].origin, "test:2");
  CAF_CHECK_EQUAL((*rows)[1].author, "");
  CAF_CHECK_EQUAL((*rows)[2].version, 1u);
  auto one = db->read(1);
  CAF_REQUIRE(one);
  CAF_CHECK_EQUAL(*(*one)->effective, *v1->effective);
}

namespace {

/// A journal as a build of `format` (3 to 5: author and reason columns)
/// left it, holding `versions`, each row with `stored_hash` of it.
void write_old_journal(
  const temp_dir& dir, int format, std::initializer_list<snapshot_ptr> versions,
  const std::function<std::string(const snapshot&)>& stored_hash) {
  raw_sql(dir.db(),
          "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
          "INSERT INTO meta VALUES('format', "
            + std::to_string(format)
            + ");"
              "INSERT INTO meta VALUES('cluster_id', 'c0ffee');"
              "INSERT INTO meta VALUES('epoch', 1);"
              "CREATE TABLE versions(version INTEGER PRIMARY KEY, "
              "hash TEXT NOT NULL, timestamp_ms INTEGER NOT NULL, "
              "origin TEXT NOT NULL, layers TEXT NOT NULL, secrets TEXT, "
              "author TEXT NOT NULL DEFAULT '', "
              "reason TEXT NOT NULL DEFAULT '');");
  for (auto& v : versions)
    raw_sql(dir.db(), "INSERT INTO versions VALUES("
                        + std::to_string(v->version) + ", "
                        + sql_quoted(stored_hash(*v)) + ", "
                        + std::to_string(v->timestamp_ms) + ", "
                        + sql_quoted(v->origin) + ", "
                        + sql_quoted(v->layers.to_json().dump())
                        + ", NULL, '', '')");
}

/// Opens the old journal in `dir` (v1 and v2, stored with an older hash),
/// appends v3, and checks what an upgrade gives: the old rows served with
/// today's hash, format 6, `below` marking the old rows, v3 stored with
/// today's hash, the old rows still checked with theirs (a row whose
/// layers changed is refused).
void check_upgrade(const temp_dir& dir, const snapshot_ptr& v1,
                   const snapshot_ptr& v2, const snapshot_ptr& v3,
                   const std::string& below) {
  {
    auto db = must_open(dir);
    auto old = db->newest(2);
    CAF_REQUIRE(old);
    CAF_REQUIRE_EQUAL(old->size(), 2u);
    CAF_CHECK_EQUAL((*old)[0]->hash, v1->hash);
    CAF_CHECK_EQUAL((*old)[1]->hash, v2->hash);
    CAF_REQUIRE(!db->append(*v3));
  }
  CAF_CHECK_EQUAL(sql_text(dir.db(),
                           "SELECT value FROM meta WHERE key = 'format'"),
                  "6");
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT value FROM meta WHERE key = '"
                                       + below + "'"),
                  "3");
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT hash FROM versions WHERE "
                                     "version = 3"),
                  v3->hash);
  {
    auto db = must_open(dir);
    auto three = db->read(3);
    CAF_REQUIRE(three);
    auto one = db->read(1);
    CAF_REQUIRE(one);
    CAF_CHECK_EQUAL((*one)->hash, v1->hash);
  }
  raw_sql(dir.db(), "UPDATE versions SET layers = "
                      + sql_quoted(v2->layers.to_json().dump())
                      + " WHERE version = 1");
  auto db = must_open(dir);
  CAF_CHECK(!db->read(1));
}

} // namespace

CAF_TEST(a format 3 journal keeps its dump hashes and serves merkle hashes) {
  temp_dir dir;
  // Format 3 stored the SHA-256 of the compact dump; with a nested tree
  // that differs from the Merkle hash (docs/HASH.md).
  auto v1 = make_version(1, json{{"db", {{"port", 1}}}});
  auto v2 = make_version(2, json{{"db", {{"port", 2}}}});
  auto dump_hash = [](const snapshot& v) {
    return sha256_hex(v.effective->dump());
  };
  CAF_REQUIRE_NOT_EQUAL(dump_hash(*v1), v1->hash);
  write_old_journal(dir, 3, {v1, v2}, dump_hash);
  check_upgrade(dir, v1, v2, make_version(3, json{{"db", {{"port", 3}}}}),
                "dump_hashes_below");
}

CAF_TEST(a format 4 journal keeps its unpieced hashes and serves pieced ones) {
  temp_dir dir;
  // Format 4 hashed every container whole; an object of more than 32
  // members is hashed in pieces today (docs/HASH.md), so its hash differs.
  auto wide = [](int salt) {
    json tree = json::object();
    for (int i = 0; i < 40; ++i)
      tree["k" + std::to_string(i)] = i + salt;
    return json{{"limits", tree}};
  };
  auto v1 = make_version(1, wide(1));
  auto v2 = make_version(2, wide(2));
  auto unpieced = [](const snapshot& v) {
    return detail::unpieced_hash(*v.effective);
  };
  CAF_REQUIRE_NOT_EQUAL(unpieced(*v1), v1->hash);
  write_old_journal(dir, 4, {v1, v2}, unpieced);
  check_upgrade(dir, v1, v2, make_version(3, wide(3)),
                "unpieced_hashes_below");
  // Format 4 had no dump hashes left to mark.
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT count(*) FROM meta WHERE key = "
                                     "'dump_hashes_below'"),
                  "0");
}

CAF_TEST(a journal keeps its cluster id and counts its openings) {
  temp_dir dir;
  std::string id;
  {
    auto db = must_open(dir);
    id = db->cluster_id();
    CAF_CHECK_EQUAL(id.size(), 32u);
    CAF_CHECK_EQUAL(id.find_first_not_of("0123456789abcdef"), std::string::npos);
    CAF_CHECK_EQUAL(db->epoch(), 1u);
  }
  {
    auto db = must_open(dir);
    CAF_CHECK_EQUAL(db->cluster_id(), id);
    CAF_CHECK_EQUAL(db->epoch(), 2u);
  }
  // A journal of this format from before cluster ids gets one on open.
  raw_sql(dir.db(), "DELETE FROM meta WHERE key IN ('cluster_id', 'epoch')");
  auto db = must_open(dir);
  CAF_CHECK_EQUAL(db->cluster_id().size(), 32u);
  CAF_CHECK_NOT_EQUAL(db->cluster_id(), id);
  CAF_CHECK_EQUAL(db->epoch(), 1u);
  // Another data dir is another cluster.
  temp_dir other;
  auto other_db = must_open(other); // CAF's macro would keep a dangling ref
  CAF_CHECK_NOT_EQUAL(other_db->cluster_id(), db->cluster_id());
}

CAF_TEST(a value with invalid UTF-8 is restored under the hash it had) {
  temp_dir dir;
  auto snap = make_version(1, json{{"secret", std::string{"ab\xff"}}});
  {
    auto db = must_open(dir);
    CAF_REQUIRE(!db->append(*snap));
  }
  auto newest = must_open(dir)->newest(1);
  CAF_REQUIRE(newest);
  CAF_REQUIRE_EQUAL(newest->size(), 1u);
  CAF_CHECK_EQUAL(newest->front()->hash, snap->hash);
}

CAF_TEST(restored versions share the layers they have in common) {
  temp_dir dir;
  auto big = json{{"items", json::array()}};
  for (int i = 0; i < 100; ++i)
    big["items"].push_back(i);
  {
    auto db = must_open(dir);
    for (uint64_t v = 1; v <= 3; ++v)
      CAF_REQUIRE(!db->append(*make_version(v, json{{"n", v}}, big)));
  }
  auto newest = must_open(dir)->newest(3);
  CAF_REQUIRE(newest);
  CAF_REQUIRE_EQUAL(newest->size(), 3u);
  auto data = [&](std::size_t i, const std::string& name) {
    for (auto& x : (*newest)[i]->layers)
      if (x.name == name)
        return x.data.get();
    return static_cast<const json*>(nullptr);
  };
  CAF_CHECK(data(0, "file:a.yaml") != nullptr);
  CAF_CHECK_EQUAL(data(0, "file:a.yaml"), data(1, "file:a.yaml"));
  CAF_CHECK_EQUAL(data(1, "file:a.yaml"), data(2, "file:a.yaml"));
  CAF_CHECK_NOT_EQUAL(data(1, "runtime"), data(2, "runtime"));
  CAF_CHECK_EQUAL((*data(2, "runtime"))["n"], 3);
}

CAF_TEST(retention keeps only the newest versions on disk) {
  temp_dir dir;
  {
    auto db = must_open(dir, 3);
    for (uint64_t v = 1; v <= 10; ++v)
      CAF_REQUIRE(!db->append(*make_version(v, json{{"n", v}})));
  }
  auto db = must_open(dir, 3);
  CAF_CHECK_EQUAL(db->last_version(), 10u);
  auto rows = db->history(0, 100);
  CAF_REQUIRE(rows);
  CAF_REQUIRE_EQUAL(rows->size(), 3u);
  CAF_CHECK_EQUAL(rows->front().version, 10u);
  CAF_CHECK_EQUAL(rows->back().version, 8u);
  CAF_CHECK(!db->read(7));
  CAF_CHECK(db->read(8));
}

CAF_TEST(a version number is never written twice) {
  temp_dir dir;
  auto db = must_open(dir);
  CAF_REQUIRE(!db->append(*make_version(1, json{{"n", 1}})));
  auto err = db->append(*make_version(1, json{{"n", 2}}));
  CAF_REQUIRE(err);
  CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(errc::store_failed));
  CAF_CHECK(contains(message_of(err), dir.db()));
  CAF_CHECK_EQUAL(db->last_version(), 1u);
  auto one = db->read(1);
  CAF_REQUIRE(one);
  CAF_CHECK_EQUAL((*(*one)->effective)["n"], 1);
  // The failed transaction was rolled back: the next one goes through.
  CAF_CHECK(!db->append(*make_version(2, json{{"n", 2}})));
}

CAF_TEST(a file that is not an SQLite database is refused with its path) {
  temp_dir dir;
  write_file(dir.db(), std::string(8192, 'x') + "not a database at all");
  auto db = journal::open(dir.str(), 0);
  CAF_REQUIRE(!db);
  CAF_CHECK_EQUAL(db.error().code(), static_cast<uint8_t>(errc::store_failed));
  auto msg = message_of(db.error());
  CAF_MESSAGE("error: " << msg);
  CAF_CHECK(contains(msg, dir.db()));
  CAF_CHECK(contains(msg, "not a database"));
  // Nothing replaced the file.
  std::ifstream in{dir.db(), std::ios::binary};
  std::string first(4, '\0');
  in.read(first.data(), 4);
  CAF_CHECK_EQUAL(first, "xxxx");
}

CAF_TEST(a database with damaged pages is refused with its path) {
  temp_dir dir;
  {
    auto db = must_open(dir);
    // A large value that changes in every version: rows hold what changed.
    for (uint64_t v = 1; v <= 40; ++v) {
      auto big = json{{"text", std::string(3000, static_cast<char>('a' + v % 26))}};
      CAF_REQUIRE(!db->append(*make_version(v, json{{"n", v}}, big)));
    }
  }
  auto size = fs::file_size(dir.db());
  CAF_REQUIRE(size > 8 * 4096);
  {
    // Overwrite the third page and the ones after it, keeping the header.
    std::fstream f{dir.db(), std::ios::in | std::ios::out | std::ios::binary};
    f.seekp(2 * 4096);
    std::string junk(4 * 4096, '\x5a');
    f.write(junk.data(), static_cast<std::streamsize>(junk.size()));
  }
  auto db = journal::open(dir.str(), 0);
  CAF_REQUIRE(!db);
  auto msg = message_of(db.error());
  CAF_MESSAGE("error: " << msg);
  CAF_CHECK(contains(msg, dir.db()));
  CAF_CHECK(contains(msg, "corrupt") || contains(msg, "malformed"));
}

CAF_TEST(an SQLite database of another program is refused) {
  temp_dir dir;
  raw_sql(dir.db(), "CREATE TABLE accounts(id INTEGER, owner TEXT)");
  auto db = journal::open(dir.str(), 0);
  CAF_REQUIRE(!db);
  auto msg = message_of(db.error());
  CAF_CHECK(contains(msg, dir.db()));
  CAF_CHECK(contains(msg, "not a cfgactors journal"));
}

CAF_TEST(a journal of another format is refused) {
  temp_dir dir;
  must_open(dir).reset();
  raw_sql(dir.db(), "UPDATE meta SET value = 99 WHERE key = 'format'");
  auto db = journal::open(dir.str(), 0);
  CAF_REQUIRE(!db);
  auto msg = message_of(db.error());
  CAF_CHECK(contains(msg, dir.db()));
  CAF_CHECK(contains(msg, "format 99"));
}

CAF_TEST(a data dir that cannot be created is refused) {
  temp_dir dir;
  auto file = (dir.path / "plain-file").string();
  write_file(file, "x");
  auto db = journal::open(file, 0);
  CAF_REQUIRE(!db);
  auto msg = message_of(db.error());
  CAF_CHECK(contains(msg, file));
  db = journal::open(file + "/below", 0);
  CAF_REQUIRE(!db);
  CAF_CHECK(contains(message_of(db.error()), file + "/below"));
}

CAF_TEST(a database path that cannot be opened is refused) {
  temp_dir dir;
  fs::create_directory(dir.db()); // a directory where the file belongs
  auto db = journal::open(dir.str(), 0);
  CAF_REQUIRE(!db);
  auto msg = message_of(db.error());
  CAF_MESSAGE("error: " << msg);
  CAF_CHECK(contains(msg, dir.db()));
}

CAF_TEST(a journal is held by one owner at a time) {
  temp_dir dir;
  auto first = must_open(dir);
  auto second = journal::open(dir.str(), 0);
  CAF_REQUIRE(!second);
  auto msg = message_of(second.error());
  CAF_MESSAGE("error: " << msg);
  CAF_CHECK(contains(msg, dir.db()));
  CAF_CHECK(contains(msg, "locked"));
  first.reset();
  CAF_CHECK(journal::open(dir.str(), 0));
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
  system_config cfg;
  caf::actor_system sys{sharing(cfg)};
  caf::scoped_actor self{sys};
  std::optional<pipeline> pipe;
  json_schema_ptr schema; ///< the validator's on the next start

  ~fixture() {
    if (pipe)
      stop();
  }

  pipeline_options options(std::size_t history, std::size_t retention) {
    pipeline_options opts;
    opts.storage.history_size = history;
    opts.storage.retention = retention;
    opts.storage.data_dir = dir.str();
    opts.validation.schema = schema;
    return opts;
  }

  void start(std::size_t history = 5, std::size_t retention = 0) {
    auto p = open_pipeline(sys, options(history, retention));
    if (!p)
      CAF_FAIL("open_pipeline: " << sys.render(p.error()));
    pipe = std::move(*p);
  }

  /// Stops the pipeline and waits until the store (and its journal) is gone.
  void stop() {
    self->monitor(pipe->store);
    shutdown(*pipe);
    pipe.reset();
    self->receive([](const caf::down_msg&) {},
                  caf::after(30s) >> [] { CAF_FAIL("the store did not stop"); });
  }

  write_result write(operation op, std::string origin = "test") {
    write_result result;
    self
      ->request(pipe->validator, 30s, write_atom::value,
                write_request{{std::move(op)}, std::move(origin), 0, {}})
      .receive([&](write_result& r) { result = std::move(r); },
               [&](caf::error& err) {
                 CAF_FAIL("write failed: " << sys.render(err));
               });
    return result;
  }

  write_result set(std::string path, json value, std::string origin = "test") {
    return write(operation::set(std::move(path), std::move(value)),
                 std::move(origin));
  }

  template <class T, class... Ts>
  caf::expected<T> ask(Ts&&... xs) {
    caf::expected<T> result{caf::sec::bad_function_call};
    self->request(pipe->store, 30s, std::forward<Ts>(xs)...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  snapshot_ptr current() {
    auto snap = ask<snapshot_ptr>(get_atom::value);
    CAF_REQUIRE(snap);
    return *snap;
  }

  std::vector<uint64_t> versions(uint64_t before, uint32_t limit) {
    auto rows = ask<std::vector<version_info>>(history_atom::value, before,
                                               limit);
    CAF_REQUIRE(rows);
    std::vector<uint64_t> result;
    for (auto& row : *rows)
      result.push_back(row.version);
    return result;
  }
};

using ids = std::vector<uint64_t>;

} // namespace

CAF_TEST_FIXTURE_SCOPE(journaled_store_tests, fixture)

CAF_TEST(a restarted store continues from the journal) {
  start(5);
  CAF_CHECK_EQUAL(set("database.host", "db1").version, 1u);
  for (int i = 1; i <= 11; ++i)
    CAF_CHECK_EQUAL(set("n", i).version, static_cast<uint64_t>(i + 1));
  auto before = current();
  CAF_REQUIRE_EQUAL(before->version, 12u);
  stop();
  start(5);
  auto after = current();
  CAF_CHECK_EQUAL(after->version, 12u);
  CAF_CHECK_EQUAL(after->hash, before->hash);
  CAF_CHECK(after->layers == before->layers);
  CAF_CHECK_EQUAL(*after->effective, *before->effective);
  CAF_CHECK_EQUAL(after->origin, "test");
  // The validator starts from the restored runtime layer: the same value is
  // no change, and the next change gets the next number.
  auto same = set("n", 11);
  CAF_CHECK_EQUAL(same.status, write_status::unchanged);
  CAF_CHECK_EQUAL(same.version, 12u);
  auto next = set("n", 12);
  CAF_CHECK_EQUAL(next.status, write_status::committed);
  CAF_CHECK_EQUAL(next.version, 13u);
  CAF_CHECK_EQUAL((*current()->effective)["database"]["host"], "db1");
}

CAF_TEST(a write on a version restored from before the schema is judged in full) {
  start();
  CAF_REQUIRE_EQUAL(set("limits.max", -5).status, write_status::committed);
  CAF_REQUIRE_EQUAL(set("other.x", 1).status, write_status::committed);
  stop();
  std::string error;
  schema = json_schema::compile(json::parse(R"({
    "properties": {"limits": {"properties": {"max": {"minimum": 0}}},
                   "other": {"properties": {"x": {"type": "integer"}}}}
  })"), &error);
  CAF_REQUIRE(schema != nullptr);
  start();
  // The restored version breaks the schema where this write does not look:
  // refused all the same, with the full pass's reason.
  auto res = set("other.x", 2);
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_CHECK_EQUAL(res.code, errc::validation_failed);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].path, "limits.max");
  CAF_CHECK_EQUAL(res.errors[0].rule, "schema.minimum");
  // Repaired, the version is one the schema accepted: the writes on it are
  // judged along what they change, and still refused where they break it.
  CAF_CHECK_EQUAL(set("limits.max", 5).status, write_status::committed);
  CAF_CHECK_EQUAL(set("other.x", 3).status, write_status::committed);
  auto bad = set("other.x", "three");
  CAF_CHECK_EQUAL(bad.status, write_status::rejected);
  CAF_REQUIRE_EQUAL(bad.errors.size(), 1u);
  CAF_CHECK_EQUAL(bad.errors[0].path, "other.x");
  CAF_CHECK_EQUAL(set("other.x", 4).status, write_status::committed);
  CAF_CHECK_EQUAL((*current()->effective)["other"]["x"], 4);
}

CAF_TEST(history beyond the ring is served from the journal) {
  start(4);
  for (int i = 1; i <= 12; ++i)
    set("n", i);
  CAF_CHECK_EQUAL(versions(0, 100),
                  (ids{12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1}));
  CAF_CHECK_EQUAL(versions(0, 6), (ids{12, 11, 10, 9, 8, 7}));
  CAF_CHECK_EQUAL(versions(7, 3), (ids{6, 5, 4}));
  CAF_CHECK_EQUAL(versions(11, 4), (ids{10, 9, 8, 7}));
  auto old = ask<snapshot_ptr>(get_atom::value, uint64_t{2});
  CAF_REQUIRE(old);
  CAF_CHECK_EQUAL((*(*old)->effective)["n"], 2);
  auto diff = ask<diff_result>(diff_atom::value, uint64_t{1}, uint64_t{12});
  CAF_REQUIRE(diff);
  CAF_CHECK_EQUAL(diff->view, (json{{"n", {{"old", 1}, {"new", 12}}}}));
  // After a restart the ring holds only what was restored.
  stop();
  start(4);
  CAF_CHECK_EQUAL(versions(0, 5), (ids{12, 11, 10, 9, 8}));
  CAF_CHECK_EQUAL(versions(3, 100), (ids{2, 1}));
  // A rollback to a version only the journal holds.
  auto res = write(operation::rollback(3));
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(res.version, 13u);
  CAF_CHECK_EQUAL((*current()->effective)["n"], 3);
}

CAF_TEST(retention drops old versions but never reuses their numbers) {
  start(2, 3);
  for (int i = 1; i <= 10; ++i)
    set("n", i);
  CAF_CHECK_EQUAL(versions(0, 100), (ids{10, 9, 8}));
  stop();
  start(2, 3);
  CAF_CHECK_EQUAL(versions(0, 100), (ids{10, 9, 8}));
  auto gone = ask<snapshot_ptr>(get_atom::value, uint64_t{5});
  CAF_REQUIRE(!gone);
  CAF_CHECK_EQUAL(gone.error().code(), static_cast<uint8_t>(errc::not_found));
  CAF_CHECK_EQUAL(set("n", 11).version, 11u);
}

CAF_TEST(a version the journal refused is not used and its number is free) {
  start();
  CAF_CHECK_EQUAL(set("n", 1).version, 1u);
  stop();
  // Stands in for a full disk: the database refuses one kind of row.
  raw_sql(dir.db(), "CREATE TRIGGER refuse BEFORE INSERT ON versions "
                    "WHEN NEW.origin = 'doomed' "
                    "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
  start();
  auto refused = set("n", 2, "doomed");
  CAF_CHECK_EQUAL(refused.status, write_status::rejected);
  CAF_CHECK_EQUAL(refused.code, errc::store_failed);
  CAF_CHECK_EQUAL(refused.version, 1u);
  CAF_REQUIRE_EQUAL(refused.errors.size(), 1u);
  CAF_CHECK(contains(refused.errors[0].message, "refused by the test"));
  CAF_CHECK(contains(refused.errors[0].message, dir.db()));
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL((*current()->effective)["n"], 1);
  auto next = set("n", 3);
  CAF_CHECK_EQUAL(next.status, write_status::committed);
  CAF_CHECK_EQUAL(next.version, 2u);
  stop();
  start();
  CAF_CHECK_EQUAL(current()->version, 2u);
  CAF_CHECK_EQUAL((*current()->effective)["n"], 3);
  CAF_CHECK_EQUAL(versions(0, 100), (ids{2, 1}));
}

CAF_TEST(a row that does not match its hash stops the start) {
  start();
  for (int i = 1; i <= 3; ++i)
    set("n", i);
  stop();
  raw_sql(dir.db(), "UPDATE versions SET layers = "
                    "'[{\"name\":\"runtime\",\"data\":{\"n\":99}}]' "
                    "WHERE version = 3");
  auto p = open_pipeline(sys, options(5, 0));
  CAF_REQUIRE(!p);
  CAF_CHECK_EQUAL(p.error().code(), static_cast<uint8_t>(errc::store_failed));
  auto msg = message_of(p.error());
  CAF_MESSAGE("error: " << msg);
  CAF_CHECK(contains(msg, dir.db()));
  CAF_CHECK(contains(msg, "version 3"));
  CAF_CHECK(contains(msg, "does not match"));
}

CAF_TEST(subscribers of a restarted store see changes from the restored version) {
  start();
  set("n", 1);
  set("n", 2);
  stop();
  start();
  auto seen = std::make_shared<std::promise<change>>();
  auto future = seen->get_future();
  // The promise is a spawn argument: CAF 0.17 mishandles zero-argument spawns.
  auto first_change = [](caf::event_based_actor*,
                         std::shared_ptr<std::promise<change>> out)
    -> caf::behavior {
    return {[out, done = false](const change& c) mutable {
      if (!std::exchange(done, true))
        out->set_value(c);
    }};
  };
  auto sub = caf::actor_cast<subscriber_actor>(sys.spawn(first_change, seen));
  auto id = ask<uint64_t>(subscribe_atom::value, std::string{"n"}, sub);
  CAF_REQUIRE(id);
  set("n", 3);
  CAF_REQUIRE(future.wait_for(30s) == std::future_status::ready);
  auto c = future.get();
  CAF_CHECK_EQUAL(c.version, 3u);
  CAF_CHECK_EQUAL(c.prev_version, 2u);
  CAF_CHECK_EQUAL(c.old_value(), 2);
  CAF_CHECK_EQUAL(c.new_value(), 3);
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

CAF_TEST(spawn_pipeline refuses a data dir) {
  auto refused = false;
  try {
    spawn_pipeline(sys, options(5, 0));
  } catch (const std::invalid_argument&) {
    refused = true;
  }
  CAF_CHECK(refused);
  CAF_CHECK(!fs::exists(dir.db()));
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace journal_suite

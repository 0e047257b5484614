#define CAF_SUITE journal_changes
// Journal rows that hold what their version changed (format 6): their size,
// every version read back as written after random histories (group commit,
// reopening, retention, secrets), damage named, and format 5 upgraded.
#include "cfgactors_test.hpp"
#include "error_text.hpp"
#include "journal_dir.hpp"
#include "raw_sql.hpp"

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <optional>
#include <random>
#include <string>
#include <vector>

#include <sqlite3.h>

#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/secrets.hpp"
#include "cfgactors/snapshot.hpp"

#include "model/config_tree.hpp"
#include "pipeline/journal.hpp"

namespace journal_changes_suite {

using namespace cfgactors;
namespace fs = std::filesystem;

using detail::journal;

using cfgactors::test::raw_sql;

using cfgactors::test::contains;
using cfgactors::test::message_of;

namespace {

struct temp_dir : test::journal_dir {
  temp_dir() : journal_dir("journal-changes") {
    // nop
  }
};

detail::journal_ptr must_open(const temp_dir& dir, std::size_t retention = 0) {
  auto db = journal::open(dir.str(), retention);
  if (!db)
    CAF_FAIL("cannot open the journal: " << to_string(db.error()));
  return *db;
}

/// The first column of the first row of `sql`; nullopt for NULL or none.
std::optional<std::string> sql_text(const std::string& file,
                                    const std::string& sql) {
  sqlite3* db = nullptr;
  std::optional<std::string> out;
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

/// A number `sql` must give (the journal must be closed: it holds its
/// file exclusively while open).
std::size_t sql_number(const std::string& file, const std::string& sql) {
  auto n = sql_text(file, sql);
  CAF_REQUIRE(n);
  return std::stoul(*n);
}

std::size_t row_bytes(const temp_dir& dir, uint64_t version) {
  return sql_number(dir.db(), "SELECT length(CAST(layers AS BLOB)) FROM "
                              "versions WHERE version = "
                                + std::to_string(version));
}

snapshot_ptr make(uint64_t version, const layer_stack& layers,
                  secret_paths_ptr secrets = nullptr) {
  return snapshot::make(version, "test:" + std::to_string(version), layers,
                        layers.effective(),
                        1700000000000 + static_cast<int64_t>(version),
                        std::move(secrets));
}

/// A layer of `n` keys in sections of 100, as a tree (as writes make).
detail::config_tree big_tree(int n) {
  auto doc = json::object();
  for (int i = 0; i < n; ++i)
    doc["s" + std::to_string(i / 100)]["k" + std::to_string(i)] = i;
  return detail::config_tree{doc};
}

/// Text of every layer, in order: equal only if read back exactly (1.5 is
/// not 1, 1 is not "1").
std::string layers_text(const snapshot& snap) {
  std::string out;
  for (auto& x : snap.layers)
    out += x.name + "=" + x.data->dump() + "\n";
  return out;
}

void check_same(const snapshot& read, const snapshot& written) {
  CAF_CHECK_EQUAL(read.version, written.version);
  CAF_CHECK_EQUAL(read.hash, written.hash);
  CAF_CHECK_EQUAL(layers_text(read), layers_text(written));
  auto patterns = [](const snapshot& s) {
    return s.secrets ? s.secrets->patterns() : std::vector<std::string>{};
  };
  CAF_CHECK_EQUAL(patterns(read), patterns(written));
}

} // namespace

CAF_TEST(a one-key change writes a row of what it changed) {
  // A file layer (JSON, as a source reads it) and the runtime layer (a tree,
  // as writes edit it), 10,000 keys each.
  temp_dir dir;
  auto file = big_tree(10000).to_json();
  auto runtime = big_tree(10000);
  layer_stack layers;
  layers.put("file:big.yaml", file);
  layers.put(std::string{runtime_layer}, layer_data{runtime.root_ptr()});
  std::vector<snapshot_ptr> written{make(1, layers)};
  // One key set, one removed, one added in the runtime layer.
  CAF_REQUIRE(runtime.assign(*config_path::parse("s7.k777"), json("seven")));
  layers.put(std::string{runtime_layer}, layer_data{runtime.root_ptr()});
  written.push_back(make(2, layers));
  CAF_REQUIRE(runtime.erase(*config_path::parse("s8.k801")));
  CAF_REQUIRE(runtime.assign(*config_path::parse("s8.new"), json{{"x", 1}}));
  layers.put(std::string{runtime_layer}, layer_data{runtime.root_ptr()});
  written.push_back(make(3, layers));
  // The file read again with one value changed: a new JSON document.
  file["s1"]["k150"] = 1.5;
  layers.put("file:big.yaml", file);
  written.push_back(make(4, layers));
  {
    auto db = must_open(dir);
    for (auto& v : written)
      CAF_REQUIRE(!db->append(*v));
    CAF_CHECK_EQUAL(db->whole_rows(), 1u);
  }
  auto whole = row_bytes(dir, 1);
  auto sizes = std::to_string(row_bytes(dir, 2)) + ", "
               + std::to_string(row_bytes(dir, 3)) + ", "
               + std::to_string(row_bytes(dir, 4));
  CAF_MESSAGE("row 1 (whole): " << whole << " bytes; rows 2-4: " << sizes);
  CAF_CHECK_GREATER(whole, 200000u);
  for (uint64_t v = 2; v <= 4; ++v) {
    CAF_CHECK_LESS(row_bytes(dir, v), 200u);
    CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT base FROM versions WHERE "
                                       "version = "
                                         + std::to_string(v)),
                    std::to_string(v - 1));
  }
  CAF_CHECK_EQUAL(
    sql_text(dir.db(), "SELECT layers FROM versions WHERE version = 3"),
    R"([{"name":"file:big.yaml","same":true},{"name":"runtime",)"
    R"("set":{"s8.new":{"x":1}},"unset":["s8.k801"]}])");
  auto db = must_open(dir);
  for (uint64_t v = 1; v <= 4; ++v) {
    auto one = db->read(v);
    CAF_REQUIRE(one);
    check_same(**one, *written[v - 1]);
  }
  auto newest = db->newest(4);
  CAF_REQUIRE(newest);
  CAF_REQUIRE_EQUAL(newest->size(), 4u);
  for (std::size_t i = 0; i < 4; ++i)
    check_same(*(*newest)[i], *written[i]);
  // Restored versions share the layers they did not change.
  CAF_CHECK((*newest)[0]->layers.data("file:big.yaml")->get()
            == (*newest)[2]->layers.data("file:big.yaml")->get());
  // The next row builds on the restored newest.
  CAF_REQUIRE(runtime.assign(*config_path::parse("s9.k999"), json(false)));
  layers.put(std::string{runtime_layer}, layer_data{runtime.root_ptr()});
  CAF_REQUIRE(!db->append(*make(5, layers)));
  db = nullptr; // the journal holds its file exclusively while open
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT base FROM versions WHERE "
                                     "version = 5"),
                  "4");
  CAF_CHECK_LESS(row_bytes(dir, 5), 200u);
}

namespace {

/// Random histories: layers edited as trees, a file layer replaced as JSON,
/// layers added and removed, odd keys, secrets (values under `s.*.pw`
/// always secret, the patterns list changing now and then).
struct history_maker {
  std::mt19937 rng;
  detail::config_tree runtime{json::object()};
  json file = json::object();
  bool extra = false;
  bool more_secrets = false;
  int secret_count = 0;
  std::vector<snapshot_ptr> written;

  explicit history_maker(unsigned seed) : rng(seed) {
    // nop
  }

  int pick(int n) {
    return std::uniform_int_distribution<int>{0, n - 1}(rng);
  }

  std::string key() {
    static const char* keys[] = {"a", "b", "c", "d", "a.b", "x[1]",
                                 "back\\slash", "0", "12", "ü", "sp ace", "",
                                 "*"};
    return keys[pick(13)];
  }

  json value(int depth = 0) {
    switch (pick(depth > 2 ? 6 : 9)) {
      case 0: return pick(1000);
      case 1: return pick(100) + 0.5;
      case 2: return "v" + std::to_string(pick(50));
      case 3: return pick(2) == 0;
      case 4: return nullptr;
      case 5: return std::to_string(pick(10)); // "3" is not 3
      case 6: {
        auto x = json::array();
        for (int i = pick(4); i > 0; --i)
          x.push_back(value(depth + 1));
        return x;
      }
      default: {
        auto x = json::object();
        for (int i = pick(4); i > 0; --i)
          x[key()] = value(depth + 1);
        return x;
      }
    }
  }

  config_path path() {
    config_path p;
    for (int i = pick(3) + 1; i > 0; --i)
      p.segments.emplace_back(key());
    return p;
  }

  void edit() {
    switch (pick(10)) {
      case 0:
      case 1:
      case 2:
      case 3:
        runtime.assign(path(), value()); // may be refused: then no change
        break;
      case 4:
        runtime.erase(path());
        break;
      case 5: {
        // A secret, in clear in memory, sealed on disk.
        auto at = config_path::parse("s.n" + std::to_string(pick(5)) + ".pw");
        runtime.assign(*at, json("SECRET-" + std::to_string(++secret_count)
                                 + "-zq7VtK2mXw9L"));
        break;
      }
      case 6:
        file[key()] = value();
        break;
      case 7:
        extra = !extra;
        break;
      case 8:
        if (pick(4) == 0)
          more_secrets = !more_secrets;
        break;
      default:
        // Many values at once: the changes outgrow a whole row.
        for (int i = 0; i < 30; ++i)
          runtime.assign(path(), value());
    }
  }

  snapshot_ptr next() {
    edit();
    layer_stack layers;
    layers.put("file:a.yaml", file); // a new document each version
    if (extra)
      layers.put("file:b.yaml", json{{"b", written.size() % 3}});
    layers.put(std::string{runtime_layer}, layer_data{runtime.root_ptr()});
    std::vector<std::string> patterns{"s.*.pw"};
    if (more_secrets)
      patterns.push_back("t.key");
    auto snap = make(written.size() + 1, layers,
                     secret_paths::with(nullptr, patterns));
    written.push_back(snap);
    return snap;
  }

  /// Appends `count` versions in batches of 1 to 8 (group commit).
  void write(journal& db, int count) {
    while (count > 0) {
      std::vector<snapshot_ptr> batch;
      for (int n = std::min(count, pick(8) + 1); n > 0; --n, --count)
        batch.push_back(next());
      CAF_REQUIRE(!db.append(batch));
    }
  }
};

std::string bytes_of(const std::string& file) {
  std::ifstream in{file, std::ios::binary};
  return {std::istreambuf_iterator<char>{in}, {}};
}

} // namespace

CAF_TEST(every version of a random history reads back as written) {
  for (unsigned seed = 1; seed <= 4; ++seed) {
    CAF_MESSAGE("seed " << seed);
    temp_dir dir;
    history_maker h{seed};
    uint64_t whole = 0;
    {
      auto db = must_open(dir);
      h.write(*db, 150);
      whole = db->whole_rows();
      // Reopened: the next rows build on the restored newest.
      db = nullptr;
      db = must_open(dir);
      auto newest = db->newest(4);
      CAF_REQUIRE(newest);
      CAF_REQUIRE_EQUAL(newest->size(), 4u);
      for (std::size_t i = 0; i < 4; ++i)
        check_same(*(*newest)[i], *h.written[146 + i]);
      h.write(*db, 100);
      whole += db->whole_rows();
    }
    auto rows = sql_number(dir.db(), "SELECT count(*) FROM versions");
    auto changes = sql_number(dir.db(), "SELECT count(*) FROM versions "
                                        "WHERE base IS NOT NULL");
    CAF_MESSAGE(rows << " rows, " << whole << " whole, " << changes
                     << " of changes");
    CAF_CHECK_EQUAL(rows, 250u);
    CAF_CHECK_EQUAL(rows - changes, whole);
    // Both kinds occur, so that both are read back below.
    CAF_CHECK_GREATER(changes, 100u);
    CAF_CHECK_GREATER(whole, 3u);
    auto db = must_open(dir);
    for (auto& v : h.written) {
      auto one = db->read(v->version);
      CAF_REQUIRE(one);
      check_same(**one, *v);
    }
    // No secret in clear on disk: changes seal them at their full path.
    auto files = bytes_of(dir.db()) + bytes_of(dir.db() + "-wal");
    CAF_CHECK(!contains(files, "SECRET-"));
    CAF_CHECK(!contains(files, "zq7VtK2mXw9L"));
  }
}

namespace {

/// Version `v` of a layer padded to 2,000 bytes with one small value
/// changed: about 40 rows of changes to a whole row.
snapshot_ptr small_change(uint64_t v) {
  static detail::config_tree runtime{json{{"pad", std::string(2000, 'p')}}};
  runtime.assign(*config_path::parse("n" + std::to_string(v % 7)), json(v));
  layer_stack layers;
  layers.put(std::string{runtime_layer}, layer_data{runtime.root_ptr()});
  return make(v, layers);
}

} // namespace

CAF_TEST(retention keeps the rows its versions build on and shows no more) {
  temp_dir dir;
  std::vector<snapshot_ptr> written;
  {
    auto db = must_open(dir, 5);
    for (uint64_t v = 1; v <= 120; ++v) {
      written.push_back(small_change(v));
      CAF_REQUIRE(!db->append(*written.back()));
    }
  }
  auto db = must_open(dir, 5);
  auto rows = db->history(0, 1000);
  CAF_REQUIRE(rows);
  CAF_REQUIRE_EQUAL(rows->size(), 5u);
  CAF_CHECK_EQUAL(rows->front().version, 120u);
  CAF_CHECK_EQUAL(rows->back().version, 116u);
  for (uint64_t v = 1; v <= 115; ++v) {
    auto gone = db->read(v);
    CAF_REQUIRE(!gone);
    CAF_CHECK_EQUAL(gone.error().code(),
                    static_cast<uint8_t>(errc::not_found));
  }
  for (uint64_t v = 116; v <= 120; ++v) {
    auto one = db->read(v);
    CAF_REQUIRE(one);
    check_same(**one, *written[v - 1]);
  }
  // On disk: the kept versions and the rows back to the whole row the
  // oldest of them builds on, nothing below it.
  db = nullptr;
  auto lowest = sql_number(dir.db(), "SELECT min(version) FROM versions");
  auto chain = sql_number(dir.db(), "SELECT whole FROM versions "
                                    "WHERE version = 116");
  CAF_MESSAGE("rows from " << lowest << ", version 116 builds on the whole "
                           "row " << chain);
  CAF_CHECK_EQUAL(lowest, chain);
  CAF_CHECK_LESS(lowest, 110u);
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT base FROM versions WHERE "
                                     "version = "
                                       + std::to_string(lowest)),
                  std::nullopt);
  db = must_open(dir, 5);
  auto newest = db->newest(3);
  CAF_REQUIRE(newest);
  CAF_REQUIRE_EQUAL(newest->size(), 3u);
  check_same(*newest->back(), *written.back());
  for (uint64_t v = 121; v <= 200; ++v) {
    written.push_back(small_change(v));
    CAF_REQUIRE(!db->append(*written.back()));
  }
  for (uint64_t v = 196; v <= 200; ++v) {
    auto one = db->read(v);
    CAF_REQUIRE(one);
    check_same(**one, *written[v - 1]);
  }
  db = nullptr;
  // Rows below the chain the kept ones build on are gone.
  CAF_CHECK_LESS(sql_number(dir.db(), "SELECT count(*) FROM versions"), 60u);
}

CAF_TEST(a row that cannot build on the row below it stops the start) {
  auto write = [](const temp_dir& dir) {
    history_maker h{3};
    auto db = must_open(dir);
    // Small changes only: one whole row, then rows of changes.
    for (uint64_t v = 1; v <= 6; ++v) {
      h.runtime.assign(*config_path::parse("n"), json(v));
      layer_stack layers;
      layers.put("file:a.yaml", json{{"name", "svc"}, {"pad", std::string(400, 'p')}});
      layers.put(std::string{runtime_layer}, layer_data{h.runtime.root_ptr()});
      CAF_REQUIRE(!db->append(*make(v, layers)));
    }
  };
  auto refused = [](const temp_dir& dir, const std::string& part) {
    auto db = must_open(dir);
    auto newest = db->newest(2);
    CAF_REQUIRE(!newest);
    auto msg = message_of(newest.error());
    CAF_MESSAGE("error: " << msg);
    CAF_CHECK_EQUAL(newest.error().code(),
                    static_cast<uint8_t>(errc::store_failed));
    CAF_CHECK(contains(msg, dir.db()));
    CAF_CHECK(contains(msg, part));
  };
  {
    temp_dir dir;
    write(dir);
    CAF_REQUIRE_EQUAL(sql_text(dir.db(), "SELECT count(*) FROM versions "
                                         "WHERE base IS NULL"),
                      "1");
    raw_sql(dir.db(), "DELETE FROM versions WHERE version = 4");
    refused(dir, "version 5 builds on version 4, but the row below it is "
                 "version 3");
  }
  {
    temp_dir dir;
    write(dir);
    raw_sql(dir.db(), "DELETE FROM versions WHERE version = 1");
    refused(dir, "version 2: layer file:a.yaml builds on version 1, which "
                 "the journal does not hold");
  }
  {
    temp_dir dir;
    write(dir);
    raw_sql(dir.db(), "UPDATE versions SET layers = "
                      "'[{\"name\":\"file:a.yaml\",\"same\":true},"
                      "{\"name\":\"runtime\",\"set\":{},"
                      "\"unset\":[\"gone\"]}]' WHERE version = 6");
    refused(dir, "version 6: layer runtime: cannot remove \"gone\": nothing "
                 "there (on version 5)");
  }
  {
    temp_dir dir;
    write(dir);
    raw_sql(dir.db(), "UPDATE versions SET layers = "
                      "'[{\"name\":\"file:a.yaml\",\"same\":true},"
                      "{\"name\":\"runtime\",\"same\":false}]' "
                      "WHERE version = 6");
    refused(dir, "version 6: layer runtime holds neither data, nor "
                 "\"same\": true, nor changes");
  }
  {
    temp_dir dir;
    write(dir);
    // A change that applies but is not what was written: the hash says so.
    raw_sql(dir.db(), "UPDATE versions SET layers = "
                      "'[{\"name\":\"file:a.yaml\",\"same\":true},"
                      "{\"name\":\"runtime\",\"set\":{\"n\":99},"
                      "\"unset\":[]}]' WHERE version = 6");
    refused(dir, "version 6: the stored hash");
  }
}

CAF_TEST(a format 5 journal is upgraded and its next row builds on its last) {
  temp_dir dir;
  // Over 32 members: the hash of today's definition (with pieces) is what
  // format 5 stored, and must stay what the rows are checked with.
  auto wide = [](int salt) {
    auto x = json::object();
    for (int i = 0; i < 40; ++i)
      x["k" + std::to_string(i)] = i * salt;
    return x;
  };
  std::vector<snapshot_ptr> v;
  for (int i = 1; i <= 3; ++i) {
    layer_stack layers;
    layers.put("file:a.yaml", wide(1));
    layers.put(std::string{runtime_layer}, json{{"n", i}, {"w", wide(i)}});
    v.push_back(make(static_cast<uint64_t>(i), layers));
  }
  raw_sql(dir.db(),
          "CREATE TABLE meta(key TEXT PRIMARY KEY, value);"
          "INSERT INTO meta VALUES('format', 5);"
          "INSERT INTO meta VALUES('cluster_id', 'c0ffee');"
          "INSERT INTO meta VALUES('epoch', 1);"
          "CREATE TABLE versions(version INTEGER PRIMARY KEY, "
          "hash TEXT NOT NULL, timestamp_ms INTEGER NOT NULL, "
          "origin TEXT NOT NULL, layers TEXT NOT NULL, secrets TEXT, "
          "author TEXT NOT NULL DEFAULT '', "
          "reason TEXT NOT NULL DEFAULT '');");
  for (int i = 0; i < 2; ++i) {
    std::string layers = v[i]->layers.to_json().dump();
    std::string quoted;
    for (auto c : layers)
      quoted += c == '\'' ? std::string{"''"} : std::string{c};
    raw_sql(dir.db(), "INSERT INTO versions VALUES("
                        + std::to_string(v[i]->version) + ", '" + v[i]->hash
                        + "', " + std::to_string(v[i]->timestamp_ms)
                        + ", 'test', '" + quoted + "', NULL, '', '')");
  }
  {
    auto db = must_open(dir);
    auto old = db->newest(2);
    CAF_REQUIRE(old);
    CAF_REQUIRE_EQUAL(old->size(), 2u);
    check_same(*(*old)[0], *v[0]);
    check_same(*(*old)[1], *v[1]);
    CAF_REQUIRE(!db->append(*v[2]));
  }
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT value FROM meta WHERE key = "
                                     "'format'"),
                  "6");
  // Format 5 rows hold the hash of today's definition: none is marked old.
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT value FROM meta WHERE key = "
                                     "'unpieced_hashes_below'"),
                  std::nullopt);
  CAF_CHECK_EQUAL(sql_text(dir.db(), "SELECT group_concat(coalesce(base, "
                                     "'-') || '/' || whole) FROM versions"),
                  "-/1,-/2,2/2");
  auto db = must_open(dir);
  for (auto& x : v) {
    auto one = db->read(x->version);
    CAF_REQUIRE(one);
    check_same(**one, *x);
  }
}

} // namespace journal_changes_suite

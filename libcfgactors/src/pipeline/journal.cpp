// The journal on SQLite's C API. The connection holds an exclusive lock for
// its whole life (locking_mode=EXCLUSIVE): a second process on the same data
// dir would otherwise number versions of its own.
#include "pipeline/journal.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <limits>
#include <sstream>
#include <system_error>
#include <utility>

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <sqlite3.h>

#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/secrets.hpp"
#include "core/random_id.hpp"
#include "model/hash_tree.hpp"
#include "model/layer_changes.hpp"

namespace cfgactors::detail {

namespace {

/// A prepared statement, finalized when it goes out of scope.
class statement {
public:
  statement(sqlite3* db, const char* sql) {
    rc_ = sqlite3_prepare_v2(db, sql, -1, &ptr_, nullptr);
  }

  ~statement() {
    sqlite3_finalize(ptr_);
  }

  statement(const statement&) = delete;
  statement& operator=(const statement&) = delete;

  bool ok() const noexcept {
    return rc_ == SQLITE_OK;
  }

  void bind(int index, int64_t value) {
    sqlite3_bind_int64(ptr_, index, value);
  }

  /// `value` must outlive the statement's next step.
  void bind(int index, const std::string& value) {
    sqlite3_bind_text(ptr_, index, value.data(),
                      static_cast<int>(value.size()), SQLITE_STATIC);
  }

  void bind_null(int index) {
    sqlite3_bind_null(ptr_, index);
  }

  /// Ready for the next row: the bindings stay until rebound.
  void reset() {
    sqlite3_reset(ptr_);
  }

  int step() {
    return sqlite3_step(ptr_);
  }

  int64_t integer(int col) {
    return sqlite3_column_int64(ptr_, col);
  }

  bool is_null(int col) {
    return sqlite3_column_type(ptr_, col) == SQLITE_NULL;
  }

  std::string text(int col) {
    auto ptr = reinterpret_cast<const char*>(sqlite3_column_text(ptr_, col));
    return ptr ? std::string{ptr, static_cast<std::size_t>(
                                    sqlite3_column_bytes(ptr_, col))}
               : std::string{};
  }

private:
  sqlite3_stmt* ptr_ = nullptr;
  int rc_ = SQLITE_OK;
};

int64_t to_sql(uint64_t version) {
  return static_cast<int64_t>(
    std::min<uint64_t>(version, std::numeric_limits<int64_t>::max()));
}

/// `fresh` with the layer data it has in common with `prev` shared, as the
/// versions shared it in memory before they were written.
layer_stack share_layers(const layer_stack& prev, const layer_stack& fresh) {
  auto result = prev;
  for (auto& x : prev)
    if (!fresh.get(x.name))
      result.remove(x.name);
  for (auto& x : fresh) {
    auto old = prev.data(x.name);
    if (!old || !old->equals(x.data))
      result.put(x.name, x.data);
  }
  auto same_order = std::equal(result.begin(), result.end(), fresh.begin(),
                               fresh.end(),
                               [](const layer& x, const layer& y) {
                                 return x.name == y.name;
                               });
  return same_order ? result : fresh;
}

std::string dump(const json& x) {
  // `replace`: invalid UTF-8 is stored as U+FFFD, which is also how
  // canonical_hash saw it.
  return x.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// What a sealed value is bound to: it opens only in its own version,
/// layer and place.
std::string seal_context(uint64_t version, const std::string& layer,
                         const config_path& path) {
  return "cfgactors journal version " + std::to_string(version) + " layer "
         + layer + " path " + path.str();
}

constexpr const char* row_columns = "SELECT version, hash, timestamp_ms, "
                                    "origin, layers, secrets, author, reason, "
                                    "base FROM versions ";

bool same_secrets(const secret_paths_ptr& x, const secret_paths_ptr& y) {
  auto none = [](const secret_paths_ptr& s) { return !s || s->empty(); };
  if (none(x) || none(y))
    return none(x) && none(y);
  return x->patterns() == y->patterns();
}

} // namespace

/// One row of the versions table as read.
struct journal_row {
  uint64_t version = 0;
  std::string hash;
  int64_t timestamp_ms = 0;
  std::string origin;
  std::string layers;
  std::string secrets; ///< a JSON array of secret paths, or empty
  std::string author;  ///< empty in rows from before format 3
  std::string reason;
  uint64_t base = 0;   ///< the row it builds on; 0: every layer whole
};

namespace {

journal_row read_row(statement& stmt) {
  return journal_row{static_cast<uint64_t>(stmt.integer(0)), stmt.text(1),
                     stmt.integer(2), stmt.text(3), stmt.text(4),
                     stmt.is_null(5) ? std::string{} : stmt.text(5),
                     stmt.text(6), stmt.text(7),
                     stmt.is_null(8) ? 0
                                     : static_cast<uint64_t>(stmt.integer(8))};
}

} // namespace

std::string journal::row_layers(const snapshot& snap,
                                const layer_stack* below) const {
  // `[{"name": .., "data": ..}, ...]` as layer_stack::to_json, without
  // copying the layers that hold no secret.
  std::string out = "[";
  for (auto& x : snap.layers) {
    if (out.size() > 1)
      out += ',';
    out += "{\"name\":";
    out += dump(json(x.name));
    auto before = below ? below->data(x.name) : nullptr;
    if (before && *before == x.data)
      out += ",\"same\":true";
    else if (!before || !write_layer_changes(out, snap, x, *before))
      write_whole(out, snap, x);
    out += '}';
  }
  out += ']';
  return out;
}

void journal::write_whole(std::string& out, const snapshot& snap,
                          const layer& x) const {
  out += ",\"data\":";
  if (snap.secrets && snap.secrets->any_in(*x.data)) {
    auto data = *x.data;
    snap.secrets->for_each(data, [&](const config_path& at, json& value) {
      value = box_->seal(dump(value), seal_context(snap.version, x.name, at));
    });
    out += dump(data);
  } else {
    out += dump(*x.data);
  }
}

bool journal::write_layer_changes(std::string& out, const snapshot& snap,
                                  const layer& x,
                                  const layer_data& before) const {
  auto changes = changes_between(before, x.data);
  if (!changes)
    return false;
  if (changes->empty()) {
    out += ",\"same\":true";
    return true;
  }
  if (snap.secrets)
    for (auto& [at, value] : changes->set)
      snap.secrets->for_each(value, at, [&](const config_path& p, json& v) {
        v = box_->seal(dump(v), seal_context(snap.version, x.name, p));
      });
  auto entry = json::object();
  write_changes(entry, std::move(*changes));
  out += ",\"set\":";
  out += dump(entry["set"]);
  out += ",\"unset\":";
  out += dump(entry["unset"]);
  return true;
}

uint64_t journal::visible_from() const noexcept {
  return retention_ > 0 && last_version_ > retention_
           ? last_version_ - retention_ + 1
           : 0;
}

journal::journal(std::string path, std::size_t retention,
                 std::unique_ptr<secret_box> box)
  : box_(std::move(box)), path_(std::move(path)), retention_(retention) {
  // nop
}

journal::~journal() {
  // Closing the last connection checkpoints the WAL into the database.
  sqlite3_close_v2(db_);
}

caf::error journal::error(const std::string& what) const {
  auto msg = "journal " + path_ + ": " + what;
  if (db_ != nullptr) {
    msg += ": ";
    msg += sqlite3_errmsg(db_);
    if (auto code = sqlite3_system_errno(db_); code != 0)
      msg += " (" + std::error_code{code, std::generic_category()}.message()
             + ")";
    if ((sqlite3_errcode(db_) & 0xff) == SQLITE_BUSY)
      msg += " (another process holds this data dir)";
  }
  return make_error(errc::store_failed, std::move(msg));
}

namespace {

/// Refuses `path` (when it exists) unless this process's user owns it and
/// nobody else may write it; a file must not be a symbolic link (a planted
/// link would make us write where its author chose).
caf::error check_ours(const std::string& what, const std::string& path,
                      bool follow) {
  struct stat st {};
  auto rc = follow ? ::stat(path.c_str(), &st) : ::lstat(path.c_str(), &st);
  if (rc != 0)
    return errno == ENOENT
             ? caf::error{}
             : make_error(errc::store_failed, what + " " + path + ": "
                                                + std::strerror(errno));
  if (S_ISLNK(st.st_mode))
    return make_error(errc::store_failed,
                      what + " " + path
                        + ": is a symbolic link; refusing to follow it");
  if (st.st_uid != ::geteuid())
    return make_error(errc::store_failed,
                      what + " " + path + ": belongs to uid "
                        + std::to_string(st.st_uid)
                        + ", not to this process's user (uid "
                        + std::to_string(::geteuid()) + ")");
  if ((st.st_mode & (S_IWGRP | S_IWOTH)) != 0) {
    char mode[8];
    std::snprintf(mode, sizeof(mode), "%04o",
                  static_cast<unsigned>(st.st_mode & 07777));
    return make_error(errc::store_failed,
                      what + " " + path
                        + ": is writable by group or others (mode " + mode
                        + "); chmod go-w it");
  }
  return caf::error{};
}

} // namespace

caf::expected<std::shared_ptr<journal>>
journal::open(const std::string& dir, std::size_t retention,
              const std::string& key_file) {
  namespace fs = std::filesystem;
  std::error_code ec;
  auto fresh_dir = !fs::exists(dir, ec);
  fs::create_directories(dir, ec);
  if (ec || !fs::is_directory(dir))
    return make_error(errc::store_failed,
                      "data dir " + dir + ": cannot create the directory: "
                        + (ec ? ec.message() : "a file of that name exists"));
  // The history is ours alone: a directory we create is 0700, and one that
  // someone else owns or may write is refused (they could plant a journal).
  if (fresh_dir)
    ::chmod(dir.c_str(), 0700);
  if (auto err = check_ours("data dir", dir, true))
    return err;
  auto path = (fs::path{dir} / file_name).string();
  struct stat st {};
  if (::lstat(path.c_str(), &st) != 0) {
    // A new journal: 0600 from the start (SQLite gives its WAL file the
    // database file's mode).
    auto fd = ::open(path.c_str(), O_CREAT | O_EXCL | O_WRONLY | O_CLOEXEC,
                     0600);
    if (fd < 0)
      return make_error(errc::store_failed, "journal " + path
                                              + ": cannot create the file: "
                                              + std::strerror(errno));
    ::close(fd);
  }
  for (auto& file : {path, path + "-wal", path + "-shm"})
    if (auto err = check_ours("journal", file, false))
      return err;
  auto key = key_file.empty() ? data_dir_key(dir) : read_key_file(key_file);
  if (!key)
    return std::move(key.error());
  std::shared_ptr<journal> result{
    new journal(path, retention, std::make_unique<secret_box>(*key))};
  if (sqlite3_open_v2(path.c_str(), &result->db_,
                      SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE
                        | SQLITE_OPEN_NOFOLLOW, // a link planted after the check
                      nullptr)
      != SQLITE_OK)
    return result->error("cannot open");
  sqlite3_extended_result_codes(result->db_, 1);
  if (auto err = result->init())
    return err;
  if (auto err = result->check_key())
    return err;
  if (auto err = result->identify())
    return err;
  return result;
}

caf::error journal::init() {
  auto exec = [this](const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  };
  // The lock mode must be set before the first access: then WAL keeps its
  // index in process memory and the lock is held until close.
  if (!exec("PRAGMA locking_mode=EXCLUSIVE"))
    return error("cannot set the locking mode");
  {
    statement mode{db_, "PRAGMA journal_mode=WAL"};
    if (!mode.ok() || mode.step() != SQLITE_ROW)
      return error("cannot read the database");
    if (mode.text(0) != "wal")
      return make_error(errc::store_failed, "journal " + path_
                                              + ": cannot switch to WAL mode "
                                                "(got '"
                                              + mode.text(0) + "')");
  }
  if (!exec("BEGIN EXCLUSIVE") || !exec("COMMIT"))
    return error("cannot lock the database");
  if (sqlite3_db_readonly(db_, "main") == 1)
    return make_error(errc::store_failed,
                      "journal " + path_ + ": the file is not writable");
  if (!exec("PRAGMA synchronous=FULL"))
    return error("cannot set synchronous=FULL");
  {
    statement check{db_, "PRAGMA quick_check(5)"};
    if (!check.ok())
      return error("cannot check the database");
    auto corrupt = false;
    std::string problems;
    // One line for the log: quick_check's rows may hold several lines.
    int rc;
    while ((rc = check.step()) == SQLITE_ROW) {
      auto text = check.text(0);
      if (text == "ok")
        continue;
      corrupt = true;
      std::istringstream rows{text};
      for (std::string line; std::getline(rows, line);) {
        if (line.empty() || line.rfind("***", 0) == 0)
          continue;
        problems += problems.empty() ? "" : "; ";
        problems += line;
      }
    }
    if (rc != SQLITE_DONE)
      return error("cannot check the database");
    if (corrupt)
      return make_error(errc::store_failed,
                        "journal " + path_ + ": the database is corrupt: "
                          + problems);
  }
  int64_t tables = 0;
  bool has_meta = false;
  bool has_versions = false;
  {
    statement names{db_, "SELECT name FROM sqlite_master WHERE type='table'"};
    if (!names.ok())
      return error("cannot read the schema");
    int rc;
    while ((rc = names.step()) == SQLITE_ROW) {
      ++tables;
      auto name = names.text(0);
      has_meta = has_meta || name == "meta";
      has_versions = has_versions || name == "versions";
    }
    if (rc != SQLITE_DONE)
      return error("cannot read the schema");
  }
  if (tables == 0) {
    auto ok = exec("BEGIN")
              && exec("CREATE TABLE meta(key TEXT PRIMARY KEY, value)")
              && exec("INSERT INTO meta VALUES('format', 6)")
              // base: the row this one builds on (NULL: every layer whole);
              // whole: the row its chain starts at.
              && exec("CREATE TABLE versions("
                      "version INTEGER PRIMARY KEY, hash TEXT NOT NULL, "
                      "timestamp_ms INTEGER NOT NULL, origin TEXT NOT NULL, "
                      "layers TEXT NOT NULL, secrets TEXT, "
                      "author TEXT NOT NULL DEFAULT '', "
                      "reason TEXT NOT NULL DEFAULT '', "
                      "base INTEGER, whole INTEGER)")
              && exec("COMMIT");
    if (!ok) {
      auto err = error("cannot create the tables");
      exec("ROLLBACK");
      return err;
    }
    return caf::none;
  }
  if (!has_meta || !has_versions)
    return make_error(errc::store_failed,
                      "journal " + path_
                        + ": an SQLite database, but not a cfgactors journal "
                          "(no meta or versions table)");
  {
    statement format{db_, "SELECT value FROM meta WHERE key='format'"};
    if (!format.ok() || format.step() != SQLITE_ROW)
      return make_error(errc::store_failed,
                        "journal " + path_ + ": no format version in meta");
    auto format_found = format.integer(0);
    if (format_found >= 1 && format_found < format_version) {
      // Upgraded in place, in one transaction: a crash in between leaves
      // the old format, which the next start upgrades again. Format 1 had
      // no secret paths, format 2 no author and reason: their rows keep
      // what they held, with NULL secrets and empty authors and reasons.
      // Formats 1 to 3 stored the hash of the compact dump, format 4 the
      // Merkle hash without pieces: those rows keep it and are checked with
      // it (dump_hashes_below, unpieced_hashes_below), while their
      // snapshots get the hash of today's definition. Rows before format 6
      // hold every layer whole: each starts a chain of its own.
      auto ok = exec("BEGIN")
                && (format_found >= 2
                    || exec("ALTER TABLE versions ADD COLUMN secrets TEXT"))
                && (format_found >= 3
                    || (exec("ALTER TABLE versions ADD COLUMN author TEXT "
                             "NOT NULL DEFAULT ''")
                        && exec("ALTER TABLE versions ADD COLUMN reason TEXT "
                                "NOT NULL DEFAULT ''")))
                && (format_found >= 4
                    || exec("INSERT OR REPLACE INTO meta VALUES("
                            "'dump_hashes_below', (SELECT coalesce("
                            "max(version), 0) + 1 FROM versions))"))
                && (format_found >= 5
                    || exec("INSERT OR REPLACE INTO meta VALUES("
                            "'unpieced_hashes_below', (SELECT coalesce("
                            "max(version), 0) + 1 FROM versions))"))
                && exec("ALTER TABLE versions ADD COLUMN base INTEGER")
                && exec("ALTER TABLE versions ADD COLUMN whole INTEGER")
                && exec("UPDATE versions SET whole = version")
                && exec("UPDATE meta SET value = 6 WHERE key = 'format'")
                && exec("COMMIT");
      if (!ok) {
        auto err = error("cannot upgrade format " + format.text(0) + " to "
                         + std::to_string(format_version));
        exec("ROLLBACK");
        return err;
      }
    } else if (format_found != format_version) {
      return make_error(errc::store_failed,
                        "journal " + path_ + ": format " + format.text(0)
                          + ", this build reads format "
                          + std::to_string(format_version));
    }
  }
  // Where the rows of an older hash end (absent: none in this journal).
  for (auto [key, below] : {std::pair{"dump_hashes_below", &dump_hashes_below_},
                            std::pair{"unpieced_hashes_below",
                                      &unpieced_hashes_below_}}) {
    std::string name{key}; // bound SQLITE_STATIC: lives until the step
    statement row{db_, "SELECT value FROM meta WHERE key=?"};
    row.bind(1, name);
    if (row.ok() && row.step() == SQLITE_ROW)
      *below = static_cast<uint64_t>(row.integer(0));
  }
  statement last{db_, "SELECT max(version) FROM versions"};
  if (!last.ok() || last.step() != SQLITE_ROW)
    return error("cannot read the newest version");
  last_version_ = last.is_null(0) ? 0 : static_cast<uint64_t>(last.integer(0));
  return caf::none;
}

caf::error journal::check_key() {
  statement select{db_, "SELECT value FROM meta WHERE key = 'secrets_key'"};
  if (!select.ok())
    return error("cannot read the key id");
  auto rc = select.step();
  if (rc == SQLITE_ROW) {
    if (select.text(0) == box_->key_id())
      return caf::none;
    return make_error(errc::store_failed,
                      "journal " + path_ + ": its secrets are sealed with key "
                        + select.text(0) + ", but the key given is "
                        + box_->key_id()
                        + " (give the journal's key with --secrets-key-file, "
                          "or start on an empty data dir)");
  }
  if (rc != SQLITE_DONE)
    return error("cannot read the key id");
  statement insert{db_, "INSERT INTO meta VALUES('secrets_key', ?)"};
  auto id = box_->key_id();
  insert.bind(1, id);
  if (!insert.ok() || insert.step() != SQLITE_DONE)
    return error("cannot record the key id");
  return caf::none;
}

caf::error journal::identify() {
  auto exec = [this](const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  };
  auto fail = [&](const std::string& what) {
    auto err = error(what);
    if (sqlite3_get_autocommit(db_) == 0)
      exec("ROLLBACK");
    return err;
  };
  if (!exec("BEGIN"))
    return fail("cannot begin a transaction");
  {
    statement select{db_, "SELECT value FROM meta WHERE key = 'cluster_id'"};
    if (!select.ok())
      return fail("cannot read the cluster id");
    auto rc = select.step();
    if (rc == SQLITE_ROW) {
      cluster_id_ = select.text(0);
    } else if (rc == SQLITE_DONE) {
      // A journal of this format from before cluster ids: its history
      // starts a cluster here.
      cluster_id_ = random_id();
      if (cluster_id_.empty())
        return fail("no randomness for a cluster id");
      statement insert{db_, "INSERT INTO meta VALUES('cluster_id', ?)"};
      insert.bind(1, cluster_id_);
      if (!insert.ok() || insert.step() != SQLITE_DONE)
        return fail("cannot record the cluster id");
    } else {
      return fail("cannot read the cluster id");
    }
  }
  {
    statement select{db_, "SELECT value FROM meta WHERE key = 'epoch'"};
    if (!select.ok())
      return fail("cannot read the epoch");
    auto rc = select.step();
    if (rc != SQLITE_ROW && rc != SQLITE_DONE)
      return fail("cannot read the epoch");
    epoch_ = rc == SQLITE_ROW ? static_cast<uint64_t>(select.integer(0)) + 1
                              : 1;
  }
  {
    statement upsert{db_, "INSERT OR REPLACE INTO meta VALUES('epoch', ?)"};
    upsert.bind(1, to_sql(epoch_));
    if (!upsert.ok() || upsert.step() != SQLITE_DONE)
      return fail("cannot record the epoch");
  }
  if (!exec("COMMIT"))
    return fail("cannot record the epoch");
  return caf::none;
}

caf::error journal::append(const snapshot& snap) {
  // Not owned: the caller keeps `snap` alive for the call.
  return append(std::vector<snapshot_ptr>{
    snapshot_ptr{std::shared_ptr<const snapshot>{}, &snap}});
}

caf::error journal::append(const std::vector<snapshot_ptr>& batch) {
  if (batch.empty())
    return caf::none;
  auto exec = [this](const char* sql) {
    return sqlite3_exec(db_, sql, nullptr, nullptr, nullptr) == SQLITE_OK;
  };
  auto fail = [&](const std::string& what) {
    auto err = error(what);
    if (sqlite3_get_autocommit(db_) == 0)
      exec("ROLLBACK");
    // A failed COMMIT may still have reached the disk: never number a later
    // version below what the database holds, and build on no row we are
    // unsure of.
    statement last{db_, "SELECT max(version) FROM versions"};
    if (last.ok() && last.step() == SQLITE_ROW && !last.is_null(0))
      last_version_ = std::max(last_version_,
                               static_cast<uint64_t>(last.integer(0)));
    written_.reset();
    return err;
  };
  if (!exec("BEGIN"))
    return fail("cannot begin a transaction");
  // Taken over only when the transaction commits.
  auto below = written_;
  uint64_t whole_rows = 0;
  {
    statement insert{db_, "INSERT INTO versions(version, hash, timestamp_ms, "
                          "origin, layers, secrets, author, reason, base, "
                          "whole) VALUES(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"};
    for (auto& ptr : batch) {
      auto& snap = *ptr;
      if (!insert.ok())
        return fail("cannot write version " + std::to_string(snap.version));
      // Changes where they add up to less than a whole row; a row whose
      // secret paths changed is whole, so that every value the new paths
      // cover is sealed from there on.
      std::string layers;
      auto whole = true;
      if (below && below->version < snap.version
          && same_secrets(below->secrets, snap.secrets)) {
        layers = row_layers(snap, &below->layers);
        whole = below->change_bytes + layers.size() > below->whole_bytes;
      }
      if (whole) {
        layers = row_layers(snap, nullptr);
        ++whole_rows;
      }
      auto next = whole ? row_below::starting(snap.version, snap.layers,
                                              snap.secrets, layers.size())
                        : below->then(snap.version, snap.layers, snap.secrets,
                                      layers.size());
      // Bound as SQLITE_STATIC: these live through the step below.
      auto secrets = snap.secrets ? json(snap.secrets->patterns()).dump()
                                  : std::string{};
      insert.reset();
      insert.bind(1, to_sql(snap.version));
      insert.bind(2, snap.hash);
      insert.bind(3, snap.timestamp_ms);
      insert.bind(4, snap.origin);
      insert.bind(5, layers);
      if (!secrets.empty())
        insert.bind(6, secrets);
      else
        insert.bind_null(6);
      insert.bind(7, snap.author);
      insert.bind(8, snap.reason);
      if (whole)
        insert.bind_null(9);
      else
        insert.bind(9, to_sql(below->version));
      insert.bind(10, to_sql(next.whole_version));
      if (insert.step() != SQLITE_DONE)
        return fail("cannot write version " + std::to_string(snap.version));
      below = std::move(next);
    }
  }
  auto newest = batch.back()->version;
  if (retention_ > 0 && newest > retention_) {
    // Below the kept versions, and below the whole row the oldest of them
    // builds on.
    statement drop{db_, "DELETE FROM versions WHERE version < min(?1, "
                        "coalesce((SELECT coalesce(whole, version) FROM "
                        "versions WHERE version >= ?1 ORDER BY version "
                        "LIMIT 1), ?1))"};
    if (!drop.ok())
      return fail("cannot drop old versions");
    drop.bind(1, to_sql(newest - retention_ + 1));
    if (drop.step() != SQLITE_DONE)
      return fail("cannot drop old versions");
  }
  if (!exec("COMMIT"))
    return fail(batch.size() == 1
                  ? "cannot commit version " + std::to_string(newest)
                  : "cannot commit versions "
                      + std::to_string(batch.front()->version) + " to "
                      + std::to_string(newest));
  last_version_ = std::max(last_version_, newest);
  ++transactions_;
  whole_rows_ += whole_rows;
  written_ = std::move(below);
  return caf::none;
}

caf::expected<layer_stack>
journal::layers_of(journal_row& r, const row_below* below,
                   const secret_paths_ptr& secrets) const {
  auto fail = [&](const std::string& what) {
    return make_error(errc::store_failed, "journal " + path_ + ": version "
                                            + std::to_string(r.version)
                                            + ": " + what);
  };
  auto doc = json::parse(r.layers, nullptr, false);
  if (doc.is_discarded() || !doc.is_array())
    return fail("the layers are not a JSON array");
  std::string problem;
  auto unseal = [&](const std::string& name, const config_path& at,
                    json& value) {
    if (!secrets)
      return;
    secrets->for_each(value, at, [&](const config_path& p, json& x) {
      auto text = x.is_string() ? x.get<std::string>() : std::string{};
      auto plain = box_->open(text, seal_context(r.version, name, p));
      auto parsed = plain ? json::parse(*plain, nullptr, false) : json{};
      if (!plain || parsed.is_discarded()) {
        if (problem.empty())
          problem = "the secret at " + p.str() + " in layer " + name
                    + " does not open with key " + box_->key_id()
                    + ": the row was changed or is damaged";
        return;
      }
      x = std::move(parsed);
    });
  };
  auto base = "version " + std::to_string(r.base);
  layer_stack result;
  for (auto& entry : doc) {
    auto name_at = entry.is_object() ? entry.find("name") : doc.end();
    if (!entry.is_object() || name_at == entry.end() || !name_at->is_string()
        || result.data(name_at->get_ref<const std::string&>()) != nullptr)
      return fail("the layer list has malformed or repeated entries");
    auto name = name_at->get<std::string>();
    if (auto data = entry.find("data"); data != entry.end()) {
      unseal(name, config_path{}, *data);
      result.put(name, std::move(*data));
    } else {
      auto before = below ? below->layers.data(name) : nullptr;
      auto same = entry.find("same");
      if (same != entry.end() && (!same->is_boolean() || !same->get<bool>()))
        return fail("layer " + name
                    + " holds neither data, nor \"same\": true, nor "
                      "changes");
      if (below == nullptr)
        return fail("layer " + name + " builds on " + base
                    + ", which the journal does not hold");
      if (before == nullptr)
        return fail("layer " + name + " builds on " + base
                    + ", which has no such layer");
      if (same != entry.end()) {
        result.put(name, *before);
        continue;
      }
      std::string why;
      auto changes = read_changes(entry, why);
      if (!changes)
        return fail("layer " + name + ": " + why);
      for (auto& [at, value] : changes->set)
        unseal(name, at, value);
      if (!problem.empty())
        return fail(problem);
      auto changed = apply_changes(*before, *changes, why);
      if (!changed)
        return fail("layer " + name + ": " + why + " (on " + base + ")");
      result.put(name, std::move(*changed));
    }
    if (!problem.empty())
      return fail(problem);
  }
  return result;
}

caf::expected<snapshot_ptr> journal::to_snapshot(journal_row& r,
                                                 layer_stack layers,
                                                 secret_paths_ptr secrets)
  const {
  auto effective = layers.effective();
  auto snap = snapshot::make(r.version, std::move(r.origin), std::move(layers),
                             std::move(effective), r.timestamp_ms,
                             std::move(secrets), std::move(r.author),
                             std::move(r.reason));
  // A row written before format 4 holds the SHA-256 of the compact dump,
  // one written before format 5 the Merkle hash without pieces.
  auto computed = r.version < dump_hashes_below_
                    ? sha256_hex(snap->effective->dump(
                      -1, ' ', false, json::error_handler_t::replace))
                  : r.version < unpieced_hashes_below_
                    ? detail::unpieced_hash(*snap->effective)
                    : snap->hash;
  if (computed != r.hash)
    return make_error(errc::store_failed,
                      "journal " + path_ + ": version "
                        + std::to_string(r.version) + ": the stored hash "
                        + r.hash.substr(0, 12) + " does not match its layers ("
                        + computed.substr(0, 12) + ")");
  return snapshot_ptr{std::move(snap)};
}

caf::expected<std::vector<snapshot_ptr>>
journal::replay(uint64_t from, uint64_t first, uint64_t last,
                std::optional<row_below>* below) const {
  statement select{db_, (std::string{row_columns}
                         + "WHERE version >= ? AND version <= ? "
                           "ORDER BY version")
                          .c_str()};
  if (!select.ok())
    return error("cannot read versions " + std::to_string(from) + " to "
                 + std::to_string(last));
  select.bind(1, to_sql(from));
  select.bind(2, to_sql(last));
  std::vector<snapshot_ptr> result;
  std::optional<row_below> at;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW) {
    auto r = read_row(select);
    secret_paths_ptr secrets;
    if (!r.secrets.empty()) {
      auto list = json::parse(r.secrets, nullptr, false);
      if (!list.is_array()
          || !std::all_of(list.begin(), list.end(),
                          [](const json& x) { return x.is_string(); }))
        return make_error(errc::store_failed,
                          "journal " + path_ + ": version "
                            + std::to_string(r.version)
                            + ": the secret paths are not a JSON array of "
                              "strings");
      auto patterns = list.get<std::vector<std::string>>();
      secrets = at && at->secrets && at->secrets->patterns() == patterns
                  ? at->secrets
                  : std::make_shared<const secret_paths>(std::move(patterns));
    }
    // A row builds on the one right below it: any other is damage.
    const row_below* base = nullptr;
    if (r.base != 0) {
      if (at && at->version != r.base)
        return make_error(errc::store_failed,
                          "journal " + path_ + ": version "
                            + std::to_string(r.version) + " builds on version "
                            + std::to_string(r.base)
                            + ", but the row below it is version "
                            + std::to_string(at->version));
      base = at ? &*at : nullptr;
    }
    auto layers = layers_of(r, base, secrets);
    if (!layers)
      return std::move(layers.error());
    if (r.base == 0 && at)
      *layers = share_layers(at->layers, *layers);
    if (r.version >= first) {
      auto snap = to_snapshot(r, *layers, secrets);
      if (!snap)
        return std::move(snap.error());
      result.push_back(std::move(*snap));
    }
    // The chain's bytes as append counts them, for the next row written.
    at = r.base == 0 || !at
           ? row_below::starting(r.version, std::move(*layers),
                                 std::move(secrets), r.layers.size())
           : at->then(r.version, std::move(*layers), std::move(secrets),
                      r.layers.size());
  }
  if (rc != SQLITE_DONE)
    return error("cannot read versions " + std::to_string(from) + " to "
                 + std::to_string(last));
  if (below)
    *below = std::move(at);
  return result;
}

caf::expected<std::vector<snapshot_ptr>> journal::newest(std::size_t n) {
  // The oldest of the newest n rows, and the whole row its chain starts at.
  uint64_t first = 0;
  uint64_t from = 0;
  {
    statement select{db_, "SELECT version, coalesce(whole, version) FROM "
                          "versions WHERE version >= ? ORDER BY version DESC "
                          "LIMIT ?"};
    if (!select.ok())
      return error("cannot read the newest versions");
    select.bind(1, to_sql(visible_from()));
    select.bind(2, static_cast<int64_t>(std::min<std::size_t>(
                     n, std::numeric_limits<int64_t>::max())));
    int rc;
    while ((rc = select.step()) == SQLITE_ROW) {
      first = static_cast<uint64_t>(select.integer(0));
      from = static_cast<uint64_t>(select.integer(1));
    }
    if (rc != SQLITE_DONE)
      return error("cannot read the newest versions");
  }
  if (first == 0)
    return std::vector<snapshot_ptr>{};
  std::optional<row_below> below;
  auto result = replay(std::min(from, first), first, last_version_, &below);
  if (!result)
    return result;
  // The next row builds on the newest (replay counted its chain's bytes).
  if (!result->empty() && below && below->version == last_version_)
    written_ = std::move(below);
  return result;
}

caf::expected<snapshot_ptr> journal::read(uint64_t version) {
  auto gone = [&] {
    return make_error(errc::not_found, "version " + std::to_string(version)
                                         + " is not in the history");
  };
  if (version < visible_from())
    return gone();
  statement select{db_, "SELECT coalesce(whole, version) FROM versions "
                        "WHERE version = ?"};
  if (!select.ok())
    return error("cannot read version " + std::to_string(version));
  select.bind(1, to_sql(version));
  switch (select.step()) {
    case SQLITE_ROW: {
      auto from = std::min(static_cast<uint64_t>(select.integer(0)), version);
      auto result = replay(from, version, version);
      if (!result)
        return std::move(result.error());
      if (result->empty())
        return gone();
      return std::move(result->back());
    }
    case SQLITE_DONE:
      return gone();
    default:
      return error("cannot read version " + std::to_string(version));
  }
}

caf::expected<std::vector<version_info>> journal::history(uint64_t before,
                                                          uint32_t limit) {
  statement select{db_, "SELECT version, hash, timestamp_ms, origin, "
                        "author, reason FROM versions WHERE version < ? "
                        "AND version >= ? ORDER BY version DESC LIMIT ?"};
  if (!select.ok())
    return error("cannot read the history");
  select.bind(1, before == 0 ? std::numeric_limits<int64_t>::max()
                             : to_sql(before));
  select.bind(2, to_sql(visible_from()));
  select.bind(3, int64_t{limit});
  std::vector<version_info> result;
  int rc;
  while ((rc = select.step()) == SQLITE_ROW)
    result.push_back(version_info{static_cast<uint64_t>(select.integer(0)),
                                  select.text(1), select.integer(2),
                                  select.text(3), select.text(4),
                                  select.text(5)});
  if (rc != SQLITE_DONE)
    return error("cannot read the history");
  return result;
}

} // namespace cfgactors::detail

// Private: the store's durable history, one SQLite database per data dir
// (WAL mode, synchronous=FULL). Each committed version is one row, written
// before the store acknowledges it; versions that arrive together share one
// transaction (group commit: one fsync for all of them).
//
// A row holds what its version changed: per layer, unchanged, the values set
// and the paths removed, or the layer whole; it builds on the row below it.
// A row holding every layer whole starts a chain, written when the changes
// since the last one add up to its size: a commit writes O(change) bytes
// amortized, and reading a version back replays at most twice the config.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/error.hpp>
#include <caf/expected.hpp>

#include "cfgactors/actor_types.hpp"
#include "pipeline/secret_box.hpp"
#include "cfgactors/snapshot.hpp"
#include "pipeline/store_state.hpp"
#include "cfgactors/version_info.hpp"

struct sqlite3;

namespace cfgactors::detail {

struct journal_row;

class journal {
public:
  /// File name of the database inside the data dir.
  static constexpr const char* file_name = "journal.db";

  /// Layout of the tables; formats 1 (no secrets column), 2 (no author
  /// and reason columns), 3 (hashes of the compact dump, not the Merkle
  /// hash of docs/HASH.md), 4 (the Merkle hash without pieces) and 5 (every
  /// row holding every layer whole) are upgraded in place, another format is
  /// refused.
  static constexpr int64_t format_version = 6;

  /// Opens `dir/journal.db`, creating the directory and the database if
  /// missing, and checks it (quick_check, format, a writable file no other
  /// process holds). `retention` is the number of versions kept (0: all).
  /// Secret values are sealed with the key in `key_file`, or else in
  /// `dir/secrets.key` (created when missing); the journal records which
  /// key, and refuses another. Errors are errc::store_failed naming the file
  /// and the problem.
  static caf::expected<std::shared_ptr<journal>>
  open(const std::string& dir, std::size_t retention,
       const std::string& key_file = {});

  journal(const journal&) = delete;
  journal& operator=(const journal&) = delete;

  /// Closes the database (a clean close checkpoints the WAL).
  ~journal();

  const std::string& path() const noexcept {
    return path_;
  }

  /// The cluster this history belongs to: 128 random bits (hex) drawn when
  /// the journal was created (or first opened by a build that has them),
  /// kept in `meta`. Replicas follow one cluster id only.
  const std::string& cluster_id() const noexcept {
    return cluster_id_;
  }

  /// How many times the journal was opened, this time included: the
  /// primary's incarnation, also kept in `meta`.
  uint64_t epoch() const noexcept {
    return epoch_;
  }

  /// The highest version in the database, 0 if none. The store numbers the
  /// next version above it, so no number is ever used twice.
  uint64_t last_version() const noexcept {
    return last_version_;
  }

  /// Writes one version durably, then drops the versions retention no longer
  /// keeps (and no kept row builds on), in the same transaction. On error
  /// nothing was written.
  caf::error append(const snapshot& snap);

  /// Writes `batch` (ascending versions) durably in one transaction, then
  /// drops what retention no longer keeps: all of them or, on error, none.
  caf::error append(const std::vector<snapshot_ptr>& batch);

  /// Transactions that wrote versions and committed since the journal was
  /// opened: with group commit, fewer than the versions written.
  uint64_t transactions() const noexcept {
    return transactions_;
  }

  /// The newest `n` versions, oldest first, each checked against its hash.
  /// Successive versions share the layers they have in common. The next
  /// row written builds on the newest.
  caf::expected<std::vector<snapshot_ptr>> newest(std::size_t n);

  /// Rows written since the journal was opened that hold every layer whole
  /// (each starts a chain): few when commits change little of a config.
  uint64_t whole_rows() const noexcept {
    return whole_rows_;
  }

  /// One version; errc::not_found if the database does not hold it.
  caf::expected<snapshot_ptr> read(uint64_t version);

  /// Up to `limit` versions below `before` (0: no bound), newest first.
  caf::expected<std::vector<version_info>> history(uint64_t before,
                                                   uint32_t limit);

private:
  journal(std::string path, std::size_t retention,
          std::unique_ptr<secret_box> box);

  caf::error error(const std::string& what) const;

  caf::error init();

  caf::error check_key();

  /// Reads (or draws) the cluster id and counts this opening in the epoch.
  caf::error identify();

  /// What the next row builds on: the newest row written or read back.
  struct row_below {
    uint64_t version = 0;
    layer_stack layers;
    secret_paths_ptr secrets;
    /// The chain it ends: its whole row, that row's bytes, and the bytes of
    /// the rows of changes since (the next row is whole once they pass it).
    uint64_t whole_version = 0;
    std::size_t whole_bytes = 0;
    std::size_t change_bytes = 0;

    /// Whole row `r` of `bytes` bytes: a chain starts at it.
    static row_below starting(uint64_t r, layer_stack with,
                              secret_paths_ptr paths, std::size_t bytes) {
      return {r, std::move(with), std::move(paths), r, bytes, 0};
    }

    /// Row `r` of changes, of `bytes` bytes, on top of this one.
    row_below then(uint64_t r, layer_stack with, secret_paths_ptr paths,
                   std::size_t bytes) const {
      return {r,           std::move(with), std::move(paths),
              whole_version, whole_bytes,   change_bytes + bytes};
    }
  };

  /// The layers of `snap` as stored, every secret value sealed: each whole,
  /// or what changed since `below` where that is shorter.
  std::string row_layers(const snapshot& snap, const layer_stack* below) const;

  /// Appends `"data": ...` (secrets sealed) for layer `x` of `snap`.
  void write_whole(std::string& out, const snapshot& snap,
                   const layer& x) const;

  /// Appends `"set": {path: value}, "unset": [path]` (layer_changes, secrets
  /// sealed) for layer `x` of `snap` against `before` (`"same": true` if
  /// none); false if a change cannot be said by path (the root changed).
  bool write_layer_changes(std::string& out, const snapshot& snap,
                           const layer& x, const layer_data& before) const;

  /// The layers of row `r`, built on `below` (the row under it) where it
  /// holds changes, secret values opened.
  caf::expected<layer_stack> layers_of(journal_row& r, const row_below* below,
                                       const secret_paths_ptr& secrets) const;

  /// The snapshot of row `r` with its `layers`, checked against its hash.
  caf::expected<snapshot_ptr> to_snapshot(journal_row& r, layer_stack layers,
                                          secret_paths_ptr secrets) const;

  /// The versions `first` to `last` (rows that exist), read by replaying
  /// the rows from the whole row `from` on; `below` ends at `last`'s row.
  caf::expected<std::vector<snapshot_ptr>>
  replay(uint64_t from, uint64_t first, uint64_t last,
         std::optional<row_below>* below = nullptr) const;

  /// Versions below this are dropped by retention, even if a kept row still
  /// builds on their rows; 0 without retention.
  uint64_t visible_from() const noexcept;

  std::unique_ptr<secret_box> box_;

  sqlite3* db_ = nullptr;
  std::string path_;
  std::size_t retention_;
  uint64_t last_version_ = 0;
  /// Rows below this version (written before format 4) hold the SHA-256 of
  /// the compact dump as their hash.
  uint64_t dump_hashes_below_ = 0;
  /// Rows below this version (written before format 5) hold the Merkle
  /// hash without pieces (detail::unpieced_hash).
  uint64_t unpieced_hashes_below_ = 0;
  std::string cluster_id_;
  uint64_t epoch_ = 0;
  uint64_t transactions_ = 0;
  uint64_t whole_rows_ = 0;
  /// The newest row, for the next to build on; none after a failed write
  /// (the next row is whole).
  std::optional<row_below> written_;
};

using journal_ptr = std::shared_ptr<journal>;

/// The store of `open_pipeline`: starts from `restored` (the journal's newest
/// versions, oldest first; empty for a new journal) and writes every version
/// to `db` before acknowledging it.
store_backend_actor::behavior_type
journaled_store(store_backend_actor::stateful_pointer<store_state> self,
                store_options options, topic_router_actor router,
                journal_ptr db, std::vector<snapshot_ptr> restored);

} // namespace cfgactors::detail

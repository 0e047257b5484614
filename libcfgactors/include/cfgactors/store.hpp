// How the store keeps versions: it assigns them, keeps immutable snapshots
// and their history, answers diffs, and hands every committed version to the
// topic router (src/pipeline/store.cpp).
#pragma once

#include <cstddef>
#include <string>


namespace cfgactors {

struct store_options {
  /// Versions kept in memory (at least 1). The newest few keep their trees;
  /// an older one keeps only what the next version's write changed, and is
  /// rebuilt from the newer trees when read.
  std::size_t history_size = 100;
  /// Directory of the journal (an SQLite database, created if missing) that
  /// makes every version durable before it is acknowledged and restores the
  /// store on restart. Empty: memory only. Used by `open_pipeline`.
  std::string data_dir;
  std::size_t retention = 0; ///< versions kept in the journal (0: all)
  /// The key that seals secret values in the journal (32 bytes or 64 hex
  /// digits; a file only its owner may read). Empty: `data_dir/secrets.key`,
  /// created when missing. The journal refuses a key other than its own.
  std::string secrets_key_file;
  /// With a journal: commits that arrive while a transaction is written wait
  /// and share the next one (one fsync for all; each writer is answered
  /// once its own version is durable). False: one transaction per version.
  bool group_commit = true;
};

} // namespace cfgactors

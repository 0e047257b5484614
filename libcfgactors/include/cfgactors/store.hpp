// The store: assigns versions, keeps immutable snapshots and their history,
// answers diffs, and hands every committed version to the topic router.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "cfgactors/actor_types.hpp"

namespace cfgactors {

namespace detail {
class journal;
class tree_pool;
} // namespace detail

struct store_options {
  std::size_t history_size = 100; ///< snapshots kept in memory (at least 1)
  /// Directory of the journal (an SQLite database, created if missing) that
  /// makes every version durable before it is acknowledged and restores the
  /// store on restart. Empty: memory only. Used by `open_pipeline`.
  std::string data_dir;
  std::size_t retention = 0; ///< versions kept in the journal (0: all)
};

struct store_state {
  static inline const char* name = "cfgactors.store";

  store_options options;
  topic_router_actor router;
  replication_tap_actor tap; ///< null: no primary streams this store
  snapshot_ptr current;             ///< never null; version 0 is empty
  std::deque<snapshot_ptr> history; ///< oldest first, newest last
  /// Versions that left `history` are read back from here; null: memory only.
  std::shared_ptr<detail::journal> journal;
  /// Where committed snapshots leave their tree when the last reference to
  /// them goes (see src/tree_pool.hpp).
  std::shared_ptr<detail::tree_pool> trees;

  /// The snapshot of `version` if still in the history, else nullptr.
  snapshot_ptr find(uint64_t version) const;
};

/// A store in memory only (`options.data_dir` is not used).
store_actor::behavior_type store(store_actor::stateful_pointer<store_state> self,
                                 store_options options,
                                 topic_router_actor router);

} // namespace cfgactors

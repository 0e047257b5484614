// Private: the store's state and behavior (the interface is
// store_backend_actor; its options are cfgactors/store.hpp).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <string>

#include "cfgactors/store.hpp"
#include "core/internal_actor_types.hpp"

namespace cfgactors {

namespace detail {
class journal;
class tree_pool;
} // namespace detail

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
store_backend_actor::behavior_type
store(store_backend_actor::stateful_pointer<store_state> self,
      store_options options, topic_router_actor router);

} // namespace cfgactors

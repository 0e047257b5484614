// Private: the store's state and behavior (the interface is
// store_backend_actor; its options are cfgactors/store.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "cfgactors/store.hpp"
#include "core/internal_actor_types.hpp"
#include "pipeline/version_history.hpp"

namespace cfgactors {

namespace detail {
} // namespace detail

struct store_state {
  static inline const char* name = "cfgactors.store";

  topic_router_actor router;
  replication_tap_actor tap; ///< null: no primary streams this store
  /// Every version readers may ask for; the newest is current (version 0,
  /// empty, before the first commit). Its journal, if any, is where commits
  /// are written before they are acknowledged.
  detail::version_history versions;

  /// A numbered commit waiting for its transaction (journaled store).
  struct pending_commit {
    snapshot_ptr snap;
    caf::typed_response_promise<snapshot_ptr> promise;
  };

  /// Group commit: the commits taken since the last transaction, ascending;
  /// written together when the flush message this store sent itself after
  /// the first of them arrives.
  std::vector<pending_commit> batch;
  bool group_commit = true;
  /// Batches that failed: a commit built while fewer were known stands on a
  /// version that never became durable and is refused.
  uint64_t epoch = 0;
};

/// A store in memory only (`options.data_dir` is not used).
store_backend_actor::behavior_type
store(store_backend_actor::stateful_pointer<store_state> self,
      store_options options, topic_router_actor router);

} // namespace cfgactors

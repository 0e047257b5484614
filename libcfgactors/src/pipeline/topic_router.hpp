// Private: the topic router delivers each committed version to the
// subscribers whose prefix it touched, one change in flight per subscriber,
// conflating the rest (or, for an every-version subscription, queueing them
// up to a bound, then resyncing).
#pragma once

#include <cstdint>
#include <deque>
#include <string>
#include <unordered_map>
#include <vector>

#include "cfgactors/actor_types.hpp"

namespace cfgactors {

struct topic_router_state {
  static inline const char* name = "cfgactors.topic_router";

  struct subscription {
    std::string prefix;
    subscriber_actor handle;
    snapshot_ptr base;     ///< the last snapshot delivered (or current at subscribe)
    snapshot_ptr pending;  ///< newest undelivered snapshot, if busy
    uint64_t pending_versions = 0;
    std::vector<std::string> pending_paths; ///< union over the folded versions
    bool in_flight = false;
    bool notice = false; ///< owes a stale/fresh notice (sent when idle)
    bool every_version = false; ///< also versions that change no value
    /// delivery_mode::every_version: versions waiting, oldest first, at
    /// most `how.max_pending`; past it they are dropped for one resync to
    /// `pending` (then `resync_owed`, `pending_versions` counts the drop).
    delivery how;
    struct queued {
      snapshot_ptr after;
      std::vector<std::string> paths;
    };
    std::deque<queued> queue;
    bool resync_owed = false;
  };

  uint64_t next_id = 1;
  std::unordered_map<uint64_t, subscription> subscriptions;
  snapshot_ptr current;
  bool stale = false; ///< every change carries it
  router_stats stats;
};

/// Starts from `initial`, the store's current snapshot: subscribers that join
/// before the next publish see it as their base.
topic_router_actor::behavior_type
topic_router(topic_router_actor::stateful_pointer<topic_router_state> self,
             snapshot_ptr initial);

} // namespace cfgactors

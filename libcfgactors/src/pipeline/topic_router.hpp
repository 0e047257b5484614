// Private: the topic router delivers each committed version to the
// subscribers whose prefix it touched, one change in flight per subscriber,
// conflating the rest (or, for an every-version subscription, queueing them
// up to a bound, then resyncing). It keeps every subscription's state and
// hands the changes to couriers (courier.hpp), each serving a bounded share
// of the subscriptions: they hold the requests in flight and report the
// answers back in batches.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <unordered_set>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>

#include "cfgactors/actor_types.hpp"
#include "pipeline/courier.hpp"

namespace cfgactors {

/// Subscriptions one courier serves at most. A courier searches its
/// requests in flight linearly for every answer (CAF 0.17's response map),
/// so the share bounds that search; each courier is an actor (~1.3 KB, as
/// a plain actor in the same bench) and a batch per publish, so the share
/// also bounds their number (391 at 100,000 subscribers). bench/subscribers at 100,000, one run each on 2
/// busy cores: 1024 took 373 ms, 256 took 224 ms, 64 took 219 ms.
inline constexpr uint32_t default_courier_share = 256;

/// Values the versions in one every-version queue may hold together. A
/// queued version keeps its whole tree alive (versions share no subtrees),
/// so a large config's queue is shorter than `max_pending`: about 100 MiB
/// of trees (at 100,000 keys 10 versions, at 10,000 keys 103), where 1,024
/// versions of 100,000 keys would hold 9.6 GiB. At least one version waits.
inline constexpr std::size_t default_queued_values = std::size_t{1} << 20;

struct topic_router_state {
  static inline const char* name = "cfgactors.topic_router";

  /// A queued version of an every-version subscription.
  struct queued {
    snapshot_ptr after;
    std::vector<std::string> paths;
  };

  /// The versions an every-version subscription holds back, oldest first: a
  /// deque made on first use (libstdc++'s allocates its map and a 512-byte
  /// node up front, which a subscription that never falls behind, nearly
  /// all of them, would pay for nothing).
  class version_queue {
  public:
    std::size_t size() const {
      return items_ ? items_->size() : 0;
    }

    bool empty() const {
      return size() == 0;
    }

    queued& front() {
      return items_->front();
    }

    void pop_front() {
      items_->pop_front();
    }

    void push_back(queued x) {
      if (!items_)
        items_ = std::make_unique<std::deque<queued>>();
      items_->push_back(std::move(x));
    }

    /// Drops the versions and the deque with them (a resync).
    void clear() {
      items_.reset();
    }

  private:
    std::unique_ptr<std::deque<queued>> items_;
  };

  struct subscription {
    std::string prefix;
    subscriber_actor handle;
    /// The last snapshot delivered, while the subscriber is busy with it
    /// (the `before` of what piles up meanwhile); null once it is idle. An
    /// idle subscription holds no snapshot: one on a prefix that no longer
    /// changes would keep its version's whole tree alive, a tree per quiet
    /// prefix. Its next change's `before` is the version right before that
    /// change, which holds, under its prefix, what it saw last.
    snapshot_ptr base;
    uint64_t seen = 0; ///< the version last delivered (or current at subscribe)
    snapshot_ptr pending;  ///< newest undelivered snapshot, if busy
    uint64_t pending_versions = 0;
    std::vector<std::string> pending_paths; ///< union over the folded versions
    uint32_t courier = 0; ///< index into `couriers`
    std::size_t slot = 0; ///< its place in its prefix's `prefix_entry::ids`
    bool in_flight = false;
    bool notice = false; ///< owes a stale/fresh notice (sent when idle)
    bool every_version = false; ///< also versions that change no value
    bool resync_owed = false;
    /// delivery_mode::every_version: versions waiting, oldest first, at
    /// most `how.max_pending` (fewer for a large config: `queued_values`);
    /// past it they are dropped for one resync to `pending` (then
    /// `resync_owed`, `pending_versions` counts the drop).
    delivery how;
    version_queue queue;
  };

  /// The subscriptions at one prefix.
  struct prefix_entry {
    std::vector<uint64_t> ids;
    /// The publish that last touched the prefix, and the changed paths it
    /// had there (the `relevant` ones, in order).
    uint64_t touched_by = 0;
    std::vector<std::string> paths;
  };

  /// Sorted, so that the prefixes within a path (an object replaced whole)
  /// follow it; looked up by string_view.
  using prefix_map = std::map<std::string, prefix_entry, std::less<>>;

  /// A courier and the changes for it collected in the current message.
  struct courier_slot {
    caf::actor handle;
    uint32_t subscriptions = 0;
    std::vector<parcel> outbox;
  };

  uint64_t next_id = 1;
  std::unordered_map<uint64_t, subscription> subscriptions;
  /// The subscriptions by prefix: a publish finds the ones its changed
  /// paths touch (the prefixes they lie within, by lookup; those within
  /// them, by range) without visiting the others.
  prefix_map prefixes;
  /// The subscriptions that also take versions changing nothing under
  /// their prefix (`every_version_atom`): every publish visits them.
  std::unordered_set<uint64_t> always;
  uint64_t publishes = 0; ///< marks the prefixes a publish touched
  /// Each subscriber's subscriptions, for its down message.
  std::unordered_multimap<caf::actor_addr, uint64_t> by_address;
  std::vector<courier_slot> couriers;
  uint32_t courier_share = default_courier_share;
  std::size_t queued_values = default_queued_values;
  uint32_t open_courier = 0; ///< where the next subscription likely fits
  std::vector<uint32_t> to_flush; ///< couriers with a non-empty outbox
  snapshot_ptr current;
  bool stale = false; ///< every change carries it
  router_stats stats;
};

/// Starts from `initial`, the store's current snapshot: subscribers that join
/// before the next publish see it as their base.
topic_router_actor::behavior_type
topic_router(topic_router_actor::stateful_pointer<topic_router_state> self,
             snapshot_ptr initial);

/// As `topic_router`, with couriers of `courier_share` subscriptions each
/// (tests cross a courier boundary with a few subscribers).
topic_router_actor::behavior_type topic_router_with_share(
  topic_router_actor::stateful_pointer<topic_router_state> self,
  snapshot_ptr initial, uint32_t courier_share);

} // namespace cfgactors

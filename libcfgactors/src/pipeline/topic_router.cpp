#include "pipeline/topic_router.hpp"

#include <algorithm>
#include <iterator>
#include <string_view>
#include <utility>

#include <caf/event_based_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/diff.hpp"
#include "cfgactors/path.hpp"

#include "model/hash_tree.hpp"
#include "model/tree_diff.hpp"

namespace cfgactors {

namespace {

using router_ptr = topic_router_actor::stateful_pointer<topic_router_state>;
using subscription = topic_router_state::subscription;
using courier_slot = topic_router_state::courier_slot;

/// Whether a change at `path` concerns `prefix`: it lies below it, or is an
/// ancestor of it (an object replaced whole changes everything beneath).
bool concerns(const std::string& path, const std::string& prefix) {
  return path_within(path, prefix) || path_within(prefix, path);
}

/// Paths in `all` that concern `prefix`.
std::vector<std::string> relevant(const std::vector<std::string>& all,
                                  const std::string& prefix) {
  if (prefix.empty())
    return all;
  std::vector<std::string> result;
  for (auto& p : all)
    if (concerns(p, prefix))
      result.push_back(p);
  return result;
}

/// Adds `more` to the sorted set `paths` (both sorted, no duplicates).
void unite(std::vector<std::string>& paths,
           const std::vector<std::string>& more) {
  // Successive versions mostly touch the same paths: then there is nothing
  // to add, and no need to build a new vector per busy subscriber.
  if (std::includes(paths.begin(), paths.end(), more.begin(), more.end()))
    return;
  std::vector<std::string> result;
  result.reserve(paths.size() + more.size());
  std::set_union(paths.begin(), paths.end(), more.begin(), more.end(),
                 std::back_inserter(result));
  paths.swap(result);
}

void deliver(router_ptr self, uint64_t id, subscription& sub,
             snapshot_ptr before, snapshot_ptr after,
             std::vector<std::string> paths, uint64_t skipped,
             bool resync = false);

void drop(router_ptr self, uint64_t id);

/// Calls `fn` with each prefix `path` lies within: "", the path cut at each
/// key or index boundary (not one escaped inside a key), and the path.
template <class F>
void for_each_enclosing(std::string_view path, F&& fn) {
  fn(std::string_view{});
  for (std::size_t i = 1; i < path.size(); ++i)
    if ((path[i] == '.' || path[i] == '[')
        && path_within(path, path.substr(0, i)))
      fn(path.substr(0, i));
  if (!path.empty())
    fn(path);
}

/// Up to this many prefixes, a publish tests each against every path; past
/// it, it looks the prefixes up from the paths. Testing costs prefixes ×
/// paths, looking up paths × depth × log(prefixes): for a whole layer's
/// 100,000 paths and 1,000 prefixes, 10^8 tests against ~10^7 compares.
constexpr std::size_t few_prefixes = 8;

/// The prefixes `all` touches, each with its share of `all` (in order), as
/// `relevant` would give it: every prefix a path lies within or that lies
/// within a path. From the paths, never visiting a prefix they do not
/// touch, so a publish costs what it changed.
std::vector<topic_router_state::prefix_map::iterator>
touched_prefixes(topic_router_state& st, const std::vector<std::string>& all) {
  using iterator = topic_router_state::prefix_map::iterator;
  std::vector<iterator> result;
  auto mark = ++st.publishes;
  auto touch = [&](iterator i, const std::string& path) {
    auto& entry = i->second;
    if (entry.touched_by != mark) {
      entry.touched_by = mark;
      entry.paths.clear();
      result.push_back(i);
    }
    entry.paths.push_back(path);
  };
  if (st.prefixes.size() <= few_prefixes) {
    for (auto i = st.prefixes.begin(); i != st.prefixes.end(); ++i)
      for (auto& path : all)
        if (concerns(path, i->first))
          touch(i, path);
    return result;
  }
  for (auto& path : all) {
    for_each_enclosing(path, [&](std::string_view prefix) {
      if (auto i = st.prefixes.find(prefix); i != st.prefixes.end())
        touch(i, path);
    });
    // Those within the path share its text as theirs begins: they sort
    // right after it.
    for (auto i = st.prefixes.upper_bound(path);
         i != st.prefixes.end()
         && std::string_view{i->first}.substr(0, path.size()) == path;
         ++i)
      if (path_within(i->first, path))
        touch(i, path);
  }
  return result;
}

bool every_version(const subscription& sub) {
  return sub.how.mode == delivery_mode::every_version;
}

/// An every-version subscriber is free again: the oldest queued version, or
/// the resync it is owed. False when nothing waits.
bool deliver_next_in_order(router_ptr self, uint64_t id, subscription& sub) {
  if (!sub.queue.empty()) {
    auto next = std::move(sub.queue.front());
    sub.queue.pop_front();
    deliver(self, id, sub, sub.base, std::move(next.after),
            std::move(next.paths), 0);
    return true;
  }
  if (!sub.resync_owed)
    return false;
  auto after = std::move(sub.pending);
  auto dropped = sub.pending_versions;
  sub.pending = nullptr;
  sub.pending_versions = 0;
  sub.resync_owed = false;
  --self->state.stats.pending;
  // One step from what it saw last to now: the net change under its prefix.
  auto paths = relevant(detail::changed_paths(sub.base->effective, after->effective),
                        sub.prefix);
  // As a fold counts: the versions before the one delivered.
  deliver(self, id, sub, sub.base, std::move(after), std::move(paths),
          dropped - 1, true);
  return true;
}

/// A version for an every-version subscriber that is busy: queued, or past
/// the bound the queue is dropped and a resync is owed (never silently).
void enqueue(router_ptr self, subscription& sub, const snapshot_ptr& after,
             const std::vector<std::string>& paths) {
  auto& st = self->state;
  if (sub.resync_owed) {
    sub.pending = after; // the resync goes to the newest
    ++sub.pending_versions;
    return;
  }
  // Each queued version holds its whole tree: the queue is as long as
  // `max_pending`, or as `queued_values` allows for trees of this size.
  std::size_t values = after->hashes ? after->hashes->values + 1 : 1;
  std::size_t limit = std::max<uint32_t>(sub.how.max_pending, 1);
  limit = std::min(limit, std::max<std::size_t>(st.queued_values / values, 1));
  if (sub.queue.size() < limit) {
    sub.queue.push_back({after, paths});
    return;
  }
  sub.pending_versions = sub.queue.size() + 1;
  sub.queue.clear();
  sub.pending = after;
  sub.resync_owed = true;
  ++st.stats.pending;
  ++st.stats.resyncs;
}

/// A version for one subscription: delivered now when it is idle, else
/// queued (every-version delivery) or folded into its pending change.
void offer(router_ptr self, uint64_t id, subscription& sub,
           const snapshot_ptr& before, const snapshot_ptr& after,
           const std::vector<std::string>& paths) {
  auto& st = self->state;
  if (every_version(sub) && (sub.in_flight || sub.resync_owed)) {
    enqueue(self, sub, after, paths);
    return;
  }
  if (sub.in_flight) {
    if (!sub.pending)
      ++st.stats.pending;
    sub.pending = after;
    ++sub.pending_versions;
    unite(sub.pending_paths, paths);
    return;
  }
  // Idle, it has seen every version that touched its prefix: under the
  // prefix, `before` holds what it saw last.
  deliver(self, id, sub, before, after, paths, 0);
}

/// The subscriber answered: send what piled up meanwhile, if anything.
void on_handled(router_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.subscriptions.find(id);
  if (i == st.subscriptions.end())
    return;
  auto& sub = i->second;
  sub.in_flight = false;
  --st.stats.in_flight;
  if (every_version(sub) && deliver_next_in_order(self, id, sub))
    return;
  if (!sub.pending) {
    if (sub.notice)
      deliver(self, id, sub, sub.base, sub.base, {}, 0);
    else
      sub.base = nullptr; // idle: see subscription::base
    return;
  }
  auto after = std::move(sub.pending);
  auto paths = std::move(sub.pending_paths);
  auto folded = sub.pending_versions;
  sub.pending = nullptr;
  sub.pending_paths.clear();
  sub.pending_versions = 0;
  --st.stats.pending;
  // The paths are those touched by any folded version, so a value changed
  // and changed back is still named; old_value()/new_value() tell the net.
  deliver(self, id, sub, sub.base, std::move(after), std::move(paths),
          folded - 1);
}

void deliver(router_ptr self, uint64_t id, subscription& sub,
             snapshot_ptr before, snapshot_ptr after,
             std::vector<std::string> paths, uint64_t skipped,
             bool resync) {
  change msg;
  msg.prefix = sub.prefix;
  msg.version = after->version;
  msg.prev_version = sub.seen;
  msg.hash = after->hash;
  msg.paths = std::move(paths);
  msg.skipped = skipped;
  msg.stale = self->state.stale;
  msg.resync = resync;
  msg.before = std::move(before);
  msg.after = after;
  sub.seen = after->version;
  sub.base = std::move(after);
  sub.in_flight = true;
  sub.notice = false; // this change carries the state
  auto& st = self->state;
  ++st.stats.in_flight;
  ++st.stats.delivered;
  if (!resync)
    st.stats.conflated += skipped;
  // Sent when the current message is done (flush): one message per courier
  // for all the changes this message made.
  auto& slot = st.couriers[sub.courier];
  if (slot.outbox.empty())
    st.to_flush.push_back(sub.courier);
  slot.outbox.push_back(parcel{id, sub.handle, std::move(msg)});
}

/// Hands every courier the changes collected for it.
void flush(router_ptr self) {
  auto& st = self->state;
  for (auto index : st.to_flush) {
    auto& slot = st.couriers[index];
    // Anonymous: CAF lets a typed actor send() to typed actors only, and a
    // courier has no interface to publish (it answers nobody).
    caf::anon_send(slot.handle, std::move(slot.outbox));
    slot.outbox = {};
  }
  st.to_flush.clear();
}

/// A courier with room for one more subscription, spawned when all are full.
uint32_t pick_courier(router_ptr self) {
  auto& st = self->state;
  auto has_room = [&](uint32_t i) {
    return st.couriers[i].subscriptions < st.courier_share;
  };
  if (st.open_courier < st.couriers.size() && has_room(st.open_courier))
    return st.open_courier;
  for (uint32_t i = 0; i < st.couriers.size(); ++i)
    if (has_room(i))
      return st.open_courier = i;
  auto index = static_cast<uint32_t>(st.couriers.size());
  courier_slot slot;
  slot.handle = self->spawn<caf::linked>(courier, self->address(), index);
  st.couriers.push_back(std::move(slot));
  return st.open_courier = index;
}

/// A courier's report: the subscribers that answered get what piled up
/// meanwhile; those that failed (died, refused) are forgotten.
void on_report(router_ptr self, const std::vector<uint64_t>& answered,
               const std::vector<uint64_t>& failed) {
  for (auto id : answered)
    on_handled(self, id);
  for (auto id : failed)
    drop(self, id);
  flush(self);
}

/// The couriers' reports are not part of the router's public interface:
/// they arrive here, as messages no handler takes. Anything else is what
/// CAF does with an unexpected message.
caf::result<caf::message> on_other(router_ptr self, caf::scheduled_actor* ptr,
                                   caf::message_view& x) {
  auto& xs = x.content();
  if (xs.match_elements<detail::delivered_atom, uint32_t,
                        std::vector<uint64_t>, std::vector<uint64_t>>()) {
    auto index = xs.get_as<uint32_t>(1);
    auto& st = self->state;
    if (index < st.couriers.size()
        && self->current_sender()
             == caf::actor_cast<caf::strong_actor_ptr>(
               st.couriers[index].handle)) {
      on_report(self, xs.get_as<std::vector<uint64_t>>(2),
                xs.get_as<std::vector<uint64_t>>(3));
      return caf::message{};
    }
  }
  return caf::print_and_drop(ptr, x);
}

uint64_t add(router_ptr self, std::string prefix, subscriber_actor handle,
             bool every_version, delivery how = {}) {
  auto& st = self->state;
  auto id = st.next_id++;
  self->monitor(handle);
  st.by_address.emplace(handle.address(), id);
  subscription sub;
  sub.prefix = std::move(prefix);
  sub.handle = std::move(handle);
  sub.seen = st.current->version;
  sub.every_version = every_version;
  sub.how = how;
  sub.courier = pick_courier(self);
  ++st.couriers[sub.courier].subscriptions;
  auto& added = st.subscriptions.emplace(id, std::move(sub)).first->second;
  auto entry = st.prefixes.find(added.prefix);
  if (entry == st.prefixes.end())
    entry = st.prefixes.emplace(added.prefix, topic_router_state::prefix_entry{})
              .first;
  added.slot = entry->second.ids.size();
  entry->second.ids.push_back(id);
  if (every_version)
    st.always.insert(id);
  if (st.stale) { // it would otherwise take the last snapshot as fresh
    deliver(self, id, added, st.current, st.current, {}, 0);
    flush(self);
  }
  return id;
}

void drop(router_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.subscriptions.find(id);
  if (i == st.subscriptions.end())
    return;
  auto& sub = i->second;
  if (sub.in_flight)
    --st.stats.in_flight;
  if (sub.pending)
    --st.stats.pending;
  // Its courier has room now: the next subscription fills the lowest such.
  --st.couriers[sub.courier].subscriptions;
  if (sub.courier < st.open_courier)
    st.open_courier = sub.courier;
  auto [first, last] = st.by_address.equal_range(sub.handle.address());
  for (auto j = first; j != last; ++j)
    if (j->second == id) {
      st.by_address.erase(j);
      break;
    }
  // Out of its prefix's list in O(1): the last one takes its slot.
  auto entry = st.prefixes.find(sub.prefix);
  auto& ids = entry->second.ids;
  if (auto moved = ids.back(); moved != id) {
    ids[sub.slot] = moved;
    st.subscriptions.at(moved).slot = sub.slot;
  }
  ids.pop_back();
  if (ids.empty())
    st.prefixes.erase(entry);
  st.always.erase(id);
  st.subscriptions.erase(i);
}

} // namespace

topic_router_actor::behavior_type topic_router(router_ptr self,
                                               snapshot_ptr initial) {
  return topic_router_with_share(self, std::move(initial),
                                 default_courier_share);
}

topic_router_actor::behavior_type
topic_router_with_share(router_ptr self, snapshot_ptr initial,
                        uint32_t courier_share) {
  self->state.current = initial ? std::move(initial) : snapshot::empty();
  self->state.courier_share = std::max<uint32_t>(courier_share, 1);
  self->set_down_handler([self](const caf::down_msg& msg) {
    auto& st = self->state;
    auto [first, last] = st.by_address.equal_range(msg.source);
    std::vector<uint64_t> dead;
    for (auto i = first; i != last; ++i)
      dead.push_back(i->second);
    for (auto id : dead)
      drop(self, id);
  });
  self->set_default_handler(
    [self](caf::scheduled_actor* ptr, caf::message_view& x) {
      return on_other(self, ptr, x);
    });
  return {
    [self](subscribe_atom, std::string& prefix, subscriber_actor& handle) {
      return add(self, std::move(prefix), std::move(handle), false);
    },
    [self](subscribe_atom, std::string& prefix, subscriber_actor& handle,
           every_version_atom) {
      return add(self, std::move(prefix), std::move(handle), true);
    },
    [self](subscribe_atom, std::string& prefix, subscriber_actor& handle,
           delivery how) {
      return add(self, std::move(prefix), std::move(handle), false, how);
    },
    [self](unsubscribe_atom, uint64_t id) { drop(self, id); },
    [self](publish_atom, snapshot_ptr& before, snapshot_ptr& after) {
      auto& st = self->state;
      st.current = after;
      if (st.subscriptions.empty())
        return; // nobody to tell: skip the diff
      // The paths the write found (snapshot::changes), when they are from
      // `before`; else the diff of the two trees.
      std::vector<std::string> diffed;
      const auto* all = after->changes.get();
      if (all == nullptr || after->changes_from != before->version) {
        diffed = detail::changed_paths(before->effective, after->effective);
        all = &diffed;
      }
      auto touched = touched_prefixes(st, *all);
      for (auto i : touched)
        for (auto id : i->second.ids)
          offer(self, id, st.subscriptions.at(id), before, after,
                i->second.paths);
      // Those that take versions changing nothing under their prefix too.
      for (auto id : st.always) {
        auto& sub = st.subscriptions.at(id);
        if (st.prefixes.find(sub.prefix)->second.touched_by != st.publishes)
          offer(self, id, sub, before, after, {});
      }
      for (auto i : touched)
        i->second.paths = {}; // a whole layer's paths need not stay
      flush(self);
    },
    [self](stale_atom, bool stale) {
      auto& st = self->state;
      if (st.stale != stale) {
        // Owe every subscriber a notice, sent by the message to ourselves
        // below: a version published right behind this message (a replica
        // back in step) then carries the news itself.
        st.stale = stale;
        for (auto& kvp : st.subscriptions)
          kvp.second.notice = true;
        self->send(self, stale_atom::value, stale);
        return;
      }
      for (auto& [id, sub] : st.subscriptions)
        if (sub.notice && !sub.in_flight) // idle: current is what it saw
          deliver(self, id, sub, st.current, st.current, {}, 0);
      flush(self);
    },
    [self](stats_atom) {
      auto result = self->state.stats;
      result.subscribers = self->state.subscriptions.size();
      for (auto& kvp : self->state.subscriptions)
        result.queued += kvp.second.queue.size();
      result.version = self->state.current->version;
      return result;
    },
  };
}

} // namespace cfgactors

// A replica: applies the primary's stream in order, verifies every version's
// hash, serves the store's read interface from its own history, and forwards
// writes to the primary.
#include <set>

#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "sources/backoff.hpp"
#include "cluster/replica.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/merge.hpp"
#include "pipeline/topic_router.hpp"
#include "pipeline/version_history.hpp"
#include "core/log.hpp"
#include "pipeline/tree_pool.hpp"

namespace cfgactors {

namespace {

using connect_tick_atom = caf::atom_constant<caf::atom("reconnect")>;
using ack_tick_atom = caf::atom_constant<caf::atom("acktick")>;

/// The replica's own messages: time to try connecting again, time to ack
/// what was applied since the last ack.
using replica_impl = replica_actor::extend<caf::reacts_to<connect_tick_atom>,
                                           caf::reacts_to<ack_tick_atom>>;

struct replica_actor_state {
  static inline const char* name = "cfgactors.replica";

  replica_options options;
  topic_router_actor router;
  /// The versions applied, newest (current) last; nothing is read from disk.
  detail::version_history versions;
  /// Trees of snapshots nobody holds any more: the next version is built in
  /// one of them rather than in a fresh copy of the current tree.
  std::shared_ptr<detail::tree_pool> trees
    = std::make_shared<detail::tree_pool>();
  primary_actor primary;            ///< null while disconnected
  bool in_sync = false;             ///< the primary answered our last hello
  bool told_stale = false;          ///< subscribers were told we are stale
  bool ack_armed = false;           ///< an ack tick is on its way
  uint64_t acked = 0;               ///< the last version we acked
  uint64_t resyncs = 0;
  uint64_t reconnects = 0;
  detail::backoff retry{std::chrono::milliseconds{100},
                        std::chrono::milliseconds{5000}};
};

using replica_ptr = replica_impl::stateful_pointer<replica_actor_state>;

void say_hello(replica_ptr self, bool full) {
  auto& st = self->state;
  if (!st.primary)
    return;
  st.in_sync = false;
  auto& cur = *st.versions.current();
  hello h{st.options.node, full ? 0 : cur.version,
          full ? std::string{} : cur.hash};
  self->send(st.primary, std::move(h));
}

/// A gap or a hash mismatch: start over from a full snapshot.
void resync(replica_ptr self, const char* why, uint64_t version) {
  auto& st = self->state;
  ++st.resyncs;
  detail::log().warn("event=replica_resync node=\"{}\" reason={} version={} "
                     "have={}",
                     st.options.node, why, version,
                     st.versions.current()->version);
  say_hello(self, true);
}

/// Back in step with a primary: subscribers hear it with (or before) the
/// first version of the new stream.
void mark_fresh(replica_ptr self) {
  auto& st = self->state;
  if (!st.told_stale)
    return;
  st.told_stale = false;
  self->send(st.router, stale_atom::value, false);
}

/// Makes `next` current, tells the local subscribers, acks it.
void install(replica_ptr self, snapshot_ptr next) {
  auto& st = self->state;
  mark_fresh(self);
  auto before = st.versions.current();
  // A full snapshot may go back (a primary that lost its history): the
  // history then starts over.
  st.versions.push(next);
  self->send(st.router, publish_atom::value, std::move(before), next);
}

void send_ack(replica_ptr self) {
  auto& st = self->state;
  st.in_sync = true;
  mark_fresh(self);
  if (st.primary) {
    auto& cur = *st.versions.current();
    st.acked = cur.version;
    self->send(st.primary, ack{st.options.node, cur.version, cur.hash});
  }
}

/// Acks after the ack delay: one message to the primary for every version
/// applied meanwhile, instead of one per version (at N replicas, the
/// primary would take N acks per version).
void ack_later(replica_ptr self) {
  auto& st = self->state;
  st.in_sync = true;
  if (st.ack_armed)
    return;
  st.ack_armed = true;
  self->delayed_send(self, st.options.ack_delay, ack_tick_atom::value);
}

/// Whether a stream message comes from the primary we follow (a message of
/// a previous connection may still arrive after a reconnect).
bool from_primary(replica_ptr self) {
  auto& st = self->state;
  return st.primary && self->current_sender() == st.primary.address();
}

void schedule_connect(replica_ptr self) {
  auto& st = self->state;
  if (st.options.host.empty())
    return;
  auto delay = st.retry.next();
  self->delayed_send(self, delay, connect_tick_atom::value);
}

void follow(replica_ptr self, primary_actor primary) {
  auto& st = self->state;
  if (st.primary)
    self->demonitor(st.primary.address());
  st.primary = std::move(primary);
  self->monitor(st.primary);
  st.retry.reset();
  detail::log().info("event=replica_joined node=\"{}\" version={}",
                     st.options.node, st.versions.current()->version);
  say_hello(self, false);
}

void connect(replica_ptr self) {
  auto& st = self->state;
  auto mm = self->system().middleman().actor_handle();
  self
    ->request(mm, st.options.connect_timeout, caf::connect_atom::value,
              st.options.host, st.options.port)
    .then(
      [self](caf::node_id&, caf::strong_actor_ptr& ptr,
             std::set<std::string>&) {
        if (!ptr) {
          schedule_connect(self);
          return;
        }
        ++self->state.reconnects;
        follow(self, caf::actor_cast<primary_actor>(std::move(ptr)));
      },
      [self](caf::error& err) {
        detail::log().debug("event=replica_connect_failed node=\"{}\" "
                            "error=\"{}\"",
                            self->state.options.node,
                            self->system().render(err));
        schedule_connect(self);
      });
}

/// The primary is gone: serve the last snapshot, tell the subscribers we
/// are stale, and try to reconnect.
void on_primary_down(replica_ptr self, const caf::down_msg& msg) {
  auto& st = self->state;
  if (!st.primary || msg.source != st.primary.address())
    return;
  detail::log().warn("event=replica_stale node=\"{}\" version={} "
                     "reason=\"{}\"",
                     st.options.node, st.versions.current()->version,
                     self->system().render(msg.reason));
  st.primary = nullptr;
  st.in_sync = false;
  if (!st.told_stale) {
    st.told_stale = true;
    self->send(st.router, stale_atom::value, true);
  }
  schedule_connect(self);
}

/// The ack delay passed: one ack for every version applied meanwhile.
void on_ack_tick(replica_ptr self) {
  auto& st = self->state;
  st.ack_armed = false;
  if (st.primary && st.in_sync && st.acked != st.versions.current()->version)
    send_ack(self);
}

/// One step of the stream: applied only on top of `prev_version`, kept only
/// if the result hashes to `hash`; a gap or a mismatch asks for everything.
void on_replicated_change(replica_ptr self, replicated_change& m) {
  auto& st = self->state;
  if (!from_primary(self))
    return;
  auto& cur = *st.versions.current();
  if (m.prev_version != cur.version) {
    // Waiting for the answer to a hello, or a message older than what we
    // have: the stream still in flight from before. Else a gap.
    if (!st.in_sync || m.version <= cur.version)
      return;
    resync(self, "gap", m.version);
    return;
  }
  if (m.version == cur.version) {
    // The primary confirms we are in step.
    if (m.hash != cur.hash || !m.patch.empty()) {
      resync(self, "mismatch", m.version);
      return;
    }
    send_ack(self);
    return;
  }
  auto tree = st.trees->take().value_or(json{});
  assign_reusing(tree, cur.effective);
  try {
    tree.patch_inplace(m.patch);
  } catch (const std::exception& e) {
    resync(self, "bad_patch", m.version);
    return;
  }
  auto next = detail::make_recycled(st.trees, m.version, std::move(m.origin),
                                    {}, std::move(tree), m.timestamp_ms);
  if (next->hash != m.hash) {
    resync(self, "mismatch", m.version);
    return;
  }
  install(self, std::move(next));
  if (m.ack_now || !st.in_sync || st.options.ack_delay.count() <= 0)
    send_ack(self);
  else
    ack_later(self);
}

/// The whole configuration, for a new replica or one out of step: kept only
/// if it hashes to `hash`.
void on_full_snapshot(replica_ptr self, full_snapshot& m) {
  auto& st = self->state;
  if (!from_primary(self))
    return;
  auto next = snapshot::make(m.version, std::move(m.origin),
                             layer_stack::from_json(m.layers),
                             std::move(m.effective), m.timestamp_ms);
  if (next->hash != m.hash) {
    // Not recoverable by asking again: keep the last good snapshot.
    detail::log().error("event=replica_bad_snapshot node=\"{}\" version={}",
                        st.options.node, m.version);
    return;
  }
  auto& cur = *st.versions.current();
  if (next->version != cur.version || next->hash != cur.hash)
    install(self, std::move(next));
  send_ack(self);
}

caf::error not_connected() {
  return make_error(errc::unavailable, "no connection to the primary");
}

/// Writes go to the primary's validator; the answer comes after commit.
caf::result<write_result> on_write(replica_ptr self, write_request& req) {
  auto& st = self->state;
  if (!st.primary)
    return not_connected();
  return self->delegate(st.primary, write_atom::value, std::move(req));
}

caf::result<consistent_write_result>
on_consistent_write(replica_ptr self, write_request& req, consistency level,
                    uint32_t timeout_ms) {
  auto& st = self->state;
  if (!st.primary)
    return not_connected();
  return self->delegate(st.primary, write_atom::value, std::move(req), level,
                        timeout_ms);
}

replica_status on_status(replica_ptr self) {
  auto& st = self->state;
  replica_status out;
  out.node = st.options.node;
  out.connected = st.primary && st.in_sync;
  out.stale = !st.primary;
  out.version = st.versions.current()->version;
  out.hash = st.versions.current()->hash;
  out.resyncs = st.resyncs;
  out.reconnects = st.reconnects;
  return out;
}

replica_impl::behavior_type replica(replica_ptr self, replica_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.retry = detail::backoff{st.options.min_backoff, st.options.max_backoff};
  st.versions = detail::version_history{st.options.history_size, {}};
  st.router = self->spawn<caf::linked>(topic_router, st.versions.current());
  self->set_down_handler(
    [self](const caf::down_msg& msg) { on_primary_down(self, msg); });
  if (!st.options.host.empty())
    connect(self);
  return {
    [self](join_atom, primary_actor& primary) {
      follow(self, std::move(primary));
    },
    [self](connect_tick_atom) {
      if (!self->state.primary)
        connect(self);
    },
    [self](ack_tick_atom) { on_ack_tick(self); },
    [self](replicated_change& m) { on_replicated_change(self, m); },
    [self](full_snapshot& m) { on_full_snapshot(self, m); },
    // The store's read interface, from the replica's own history.
    [self](subscribe_atom, std::string& prefix,
           subscriber_actor& sub) -> caf::delegated<uint64_t> {
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub));
    },
    [self](subscribe_atom, std::string& prefix, subscriber_actor& sub,
           every_version_atom) -> caf::delegated<uint64_t> {
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub),
                            every_version_atom::value);
    },
    [self](get_atom) { return self->state.versions.current(); },
    [self](get_atom, uint64_t version) -> caf::result<snapshot_ptr> {
      return self->state.versions.lookup(version);
    },
    [self](diff_atom, uint64_t from, uint64_t to) -> caf::result<diff_result> {
      return self->state.versions.diff(from, to);
    },
    [self](history_atom, uint64_t before,
           uint32_t limit) -> caf::result<std::vector<version_info>> {
      return self->state.versions.history(before, limit);
    },
    [self](write_atom, write_request& req) { return on_write(self, req); },
    [self](write_atom, write_request& req, consistency level,
           uint32_t timeout_ms) {
      return on_consistent_write(self, req, level, timeout_ms);
    },
    [self](stats_atom) -> caf::delegated<router_stats> {
      return self->delegate(self->state.router, stats_atom::value);
    },
    [self](status_atom) { return on_status(self); },
  };
}

} // namespace

replica_actor spawn_replica(caf::actor_system& sys, replica_options options) {
  auto hdl = sys.spawn(replica, std::move(options));
  return hdl;
}

} // namespace cfgactors

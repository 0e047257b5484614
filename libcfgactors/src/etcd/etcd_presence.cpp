#include "etcd/etcd_presence.hpp"

#include <algorithm>
#include <optional>

#include <caf/system_messages.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>


#include "cfgactors/snapshot.hpp"
#include "core/log.hpp"
#include "etcd/etcd_keys.hpp"
#include "etcd/node_record.hpp"

namespace cfgactors::detail {

namespace {

using presence_impl = etcd_presence_actor::extend<
  caf::reacts_to<tick_atom>, caf::reacts_to<flush_atom>>;

struct presence_state {
  static inline const char* name = "cfgactors.etcd_presence";

  etcd_presence_options options;
  std::optional<etcd_client> client;
  std::optional<etcd_keys> keys;
  int64_t lease = 0;
  uint64_t applied = 0;
  std::string hash;
  uint64_t recorded = 0; ///< the applied version the record in etcd has
  uint64_t wanted = 0;   ///< the newest version a write waits for
  bool dirty = true;          ///< the record in etcd is older than `applied`
  bool flush_pending = false; ///< a flush message is on its way
  bool healthy = false;
  std::string last_error;
};

using presence_ptr = presence_impl::stateful_pointer<presence_state>;

void set_health(presence_ptr self, bool ok, const std::string& why) {
  auto& st = self->state;
  if (ok == st.healthy && (ok || why == st.last_error))
    return;
  st.healthy = ok;
  st.last_error = why;
  if (!ok) {
    ++st.options.counters->errors;
    log().warn("event=etcd_unreachable node=\"{}\" error=\"{}\"",
               st.options.node, escaped(why));
  } else {
    log().info("event=etcd_reachable node=\"{}\"", st.options.node);
  }
  if (st.options.follower)
    self->send(st.options.follower, health_atom::value, ok, why);
}

/// Writes the record under the lease (granted first if there is none).
void put_record(presence_ptr self) {
  auto& st = self->state;
  etcd_error err;
  if (st.lease == 0) {
    auto id = st.client->lease_grant(st.options.ttl.count(), err);
    if (!id)
      return set_health(self, false, err.message);
    st.lease = *id;
    st.dirty = true;
  }
  etcd_node record{st.options.node, st.options.address, st.applied,
                   st.hash,         "connected",         now_ms()};
  if (!st.client->put(st.keys->node(st.options.node), encode(record),
                      st.lease, err)) {
    // A lease that expired meanwhile (a frozen process): a new one next.
    if (err.what == etcd_error::kind::refused)
      st.lease = 0;
    return set_health(self, false, err.message);
  }
  st.dirty = false;
  st.recorded = st.applied;
  set_health(self, true, {});
}

/// Whether a waiting write needs this node's record now: it applied what
/// is waited for, and the record in etcd does not say so yet.
bool owed(const presence_state& st) {
  return st.wanted > st.recorded && st.applied >= st.wanted;
}

void on_tick(presence_ptr self) {
  auto& st = self->state;
  self->delayed_send(self, st.options.ttl / 3, tick_atom::value);
  etcd_error err;
  if (st.lease != 0) {
    auto ttl = st.client->lease_keepalive(st.lease, err);
    if (!ttl)
      return set_health(self, false, err.message);
    if (*ttl <= 0) {
      log().warn("event=etcd_lease_lost node=\"{}\" detail=\"the node's "
                 "record expired; it is written again\"",
                 st.options.node);
      st.lease = 0;
    }
  }
  if (st.lease == 0 || st.dirty)
    return put_record(self);
  set_health(self, true, {});
}

} // namespace

namespace {

presence_impl::behavior_type presence(presence_ptr self,
                                      etcd_presence_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.client.emplace(st.options.client);
  st.keys.emplace(st.options.cluster);
  // A node that stops says so: its record goes with its lease now, not 5 s
  // later, and no `all` write waits for it meanwhile.
  self->set_exit_handler([self](caf::exit_msg& msg) {
    auto& st = self->state;
    if (st.lease != 0) {
      etcd_error err;
      st.client->lease_revoke(st.lease, err);
      st.lease = 0;
    }
    self->quit(msg.reason);
  });
  self->send(self, tick_atom::value);
  return {
    [self](applied_atom, uint64_t version, std::string& hash) {
      auto& st = self->state;
      if (version < st.applied)
        return;
      st.applied = version;
      st.hash = std::move(hash);
      st.dirty = true;
      // A record per version would cost every node a put and every watcher
      // N events per version: written on the tick, unless a write waits.
      // Versions that arrive while a put blocks fold into one record.
      if (owed(st) && !st.flush_pending) {
        st.flush_pending = true;
        self->send(self, flush_atom::value);
      }
    },
    [self](want_atom, uint64_t version, bool announce) {
      auto& st = self->state;
      st.wanted = std::max(st.wanted, version);
      if (announce) {
        etcd_error err;
        if (!st.client->put(st.keys->acks(), std::to_string(version), 0, err))
          set_health(self, false, err.message);
      }
      if (owed(st))
        put_record(self);
    },
    [self](flush_atom) {
      auto& st = self->state;
      st.flush_pending = false;
      if (owed(st))
        put_record(self);
    },
    [self](tick_atom) { on_tick(self); },
    [self](etcd_follower_actor& follower) {
      self->state.options.follower = std::move(follower);
      auto& st = self->state;
      self->send(st.options.follower, health_atom::value, st.healthy,
                 st.healthy ? std::string{} : st.last_error);
    },
  };
}

} // namespace

etcd_presence_actor spawn_etcd_presence(caf::actor_system& sys,
                                        etcd_presence_options options) {
  return sys.spawn<caf::detached>(presence, std::move(options));
}

} // namespace cfgactors::detail

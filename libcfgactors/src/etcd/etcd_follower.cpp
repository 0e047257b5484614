#include "etcd/etcd_follower.hpp"

#include <algorithm>
#include <cstdlib>
#include <map>
#include <memory>
#include <optional>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/weak_intrusive_ptr.hpp>


#include "cfgactors/snapshot.hpp"
#include "core/log.hpp"
#include "etcd/etcd_keys.hpp"
#include "etcd/node_record.hpp"
#include "etcd/etcd_watch.hpp"

namespace cfgactors::detail {

namespace {

using wait_timeout_atom = caf::atom_constant<caf::atom("etimeout")>;
using watch_end_atom = caf::atom_constant<caf::atom("watchend")>;

using follower_impl = etcd_follower_actor::extend<
  caf::reacts_to<restart_atom>,
  caf::reacts_to<tagged_batch>,
  caf::reacts_to<watch_end_atom, uint64_t, std::string, int64_t>,
  caf::reacts_to<wait_timeout_atom, uint64_t>>;

struct pending_wait {
  write_result result;
  consistency level = consistency::local;
  std::vector<std::string> targets;
  caf::typed_response_promise<consistent_write_result> promise;
};

struct follower_state {
  static inline const char* name = "cfgactors.etcd_follower";

  etcd_follower_options options;
  std::optional<etcd_keys> keys;
  std::unique_ptr<etcd_watch> watch;
  uint64_t watch_id = 0;
  uint64_t sync_id = 0; ///< the sync under way (pages of an older one drop)
  int64_t revision = 0; ///< etcd's revision as last seen
  uint64_t head = 0;    ///< the newest version seen in etcd
  bool synced_once = false; ///< the node followed etcd at least once
  bool watch_ok = false;    ///< a sync and its watch are in place
  unsigned failures = 0;    ///< syncs (or short-lived watches) failed since
  bool etcd_ok = false;     ///< the presence actor's last word
  bool restarting = false;
  std::chrono::steady_clock::time_point watch_started;
  std::string reason = "not synced with etcd yet";
  std::chrono::milliseconds backoff{0};
  uint64_t reconnects = 0;
  std::map<std::string, etcd_node> nodes;
  std::map<uint64_t, pending_wait> waits;
  uint64_t next_wait = 0;
  bool was_stale = true;

  /// A watch that ends is re-established at once and counts as stale only
  /// if that fails: a killed etcd member costs no stale notice.
  bool stale() const {
    return !synced_once || !etcd_ok || (!watch_ok && failures > 0);
  }

  bool writable() const {
    return synced_once && etcd_ok;
  }
};

using follower_ptr = follower_impl::stateful_pointer<follower_state>;

void update_stale(follower_ptr self) {
  auto& st = self->state;
  auto now = st.stale();
  st.options.counters->stale = now;
  st.options.counters->writable = st.writable();
  if (now == st.was_stale)
    return;
  st.was_stale = now;
  if (now)
    log().warn("event=node_stale node=\"{}\" reason=\"{}\"", st.options.node,
               escaped(st.reason));
  else
    log().info("event=node_fresh node=\"{}\" revision={}", st.options.node,
               st.revision);
  self->send(st.options.router, stale_atom::value, now);
}

/// Whether `n` applied `version` (or a later one).
bool applied(const etcd_node& n, const write_result& r) {
  return n.applied >= r.version || (!r.hash.empty() && n.hash == r.hash);
}

/// The answer of a wait as far as it got.
consistent_write_result answer_of(follower_ptr self, const pending_wait& w) {
  auto& st = self->state;
  consistent_write_result out;
  out.result = w.result;
  out.level = w.level;
  for (auto& name : w.targets) {
    auto i = st.nodes.find(name);
    // This node applied it before the write was answered.
    if (name == st.options.node || (i != st.nodes.end() && applied(i->second, w.result)))
      out.acked.push_back(name);
    else
      out.missing.push_back(name);
  }
  auto n = w.targets.size();
  switch (w.level) {
    case consistency::local:
      out.satisfied = true;
      break;
    case consistency::majority:
      out.satisfied = out.acked.size() >= n / 2 + 1;
      break;
    case consistency::all:
      out.satisfied = out.missing.empty();
      break;
  }
  return out;
}

void settle(follower_ptr self) {
  auto& st = self->state;
  for (auto i = st.waits.begin(); i != st.waits.end();) {
    auto out = answer_of(self, i->second);
    if (out.satisfied) {
      i->second.promise.deliver(std::move(out));
      i = st.waits.erase(i);
    } else {
      ++i;
    }
  }
}

/// Syncs and watches again: at once after a watch that ran a while, with
/// backoff after a failure.
void schedule_restart(follower_ptr self, const std::string& why,
                      bool failed) {
  auto& st = self->state;
  st.watch_ok = false;
  st.reason = why;
  if (failed)
    ++st.failures;
  update_stale(self);
  if (st.restarting)
    return;
  st.restarting = true;
  if (st.failures == 0) {
    self->send(self, restart_atom::value);
    return;
  }
  st.backoff = st.backoff.count() == 0
                 ? st.options.min_backoff
                 : std::min(st.backoff * 2, st.options.max_backoff);
  self->delayed_send(self, st.backoff, restart_atom::value);
}

void start_watch(follower_ptr self) {
  auto& st = self->state;
  if (st.watch)
    st.watch->stop();
  auto id = ++st.watch_id;
  // The watch's thread reaches the actor weakly: a watch never keeps its
  // follower alive.
  auto weak = caf::actor_cast<caf::weak_actor_ptr>(self);
  auto on_batch = [weak, id](etcd_watch_batch b) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong),
                     tagged_batch{id, std::move(b)});
  };
  auto on_end = [weak, id](etcd_error err, int64_t compacted) {
    if (auto strong = weak.lock())
      caf::anon_send(caf::actor_cast<caf::actor>(strong),
                     watch_end_atom::value, id, err.message, compacted);
  };
  st.watch_started = std::chrono::steady_clock::now();
  st.watch = std::make_unique<etcd_watch>(
    st.options.client, st.keys->root(), prefix_end(st.keys->root()),
    st.revision + 1, std::move(on_batch), std::move(on_end));
}

void sync_page(follower_ptr self, uint64_t sync, uint64_t base,
               int64_t revision);

/// The sync is complete: watch from its revision on.
void synced(follower_ptr self) {
  auto& st = self->state;
  start_watch(self);
  st.synced_once = true;
  st.watch_ok = true;
  st.failures = 0;
  st.backoff = std::chrono::milliseconds{0};
  if (st.etcd_ok)
    st.reason.clear();
  update_stale(self);
  settle(self);
  log().info("event=etcd_synced node=\"{}\" revision={} head={} nodes={}",
             st.options.node, st.revision, st.head, st.nodes.size());
}

void on_page(follower_ptr self, uint64_t sync, uint64_t base,
             int64_t revision, etcd_sync_result& r) {
  auto& st = self->state;
  if (sync != st.sync_id)
    return; // a later restart took over
  if (revision == 0) {
    if (r.revision < st.revision) {
      ++st.options.counters->resyncs;
      log().warn("event=etcd_revision_backwards node=\"{}\" was={} now={} "
                 "detail=\"etcd was restored or replaced: following it "
                 "from its head\"",
                 st.options.node, st.revision, r.revision);
    }
    st.revision = r.revision;
    st.nodes.clear();
    for (auto& n : r.nodes)
      st.nodes.emplace(n.name, std::move(n));
  }
  st.head = std::max(st.head, r.head);
  auto last = r.records.empty() ? base : r.records.back().version;
  for (auto& rec : r.records)
    self->send(st.options.validator, adopt_atom::value, std::move(rec));
  // Page by page, in order: the node's history gets every version etcd
  // still has, and only one page is in memory at a time.
  if (!r.records.empty() && last < r.head)
    return sync_page(self, sync, last, st.revision);
  synced(self);
}

void sync_page(follower_ptr self, uint64_t sync, uint64_t base,
               int64_t revision) {
  auto& st = self->state;
  self
    ->request(st.options.committer, caf::infinite, etcd_sync_atom::value,
              base, revision)
    .then(
      [self, sync, base, revision](etcd_sync_result& r) {
        on_page(self, sync, base, revision, r);
      },
      [self, sync](caf::error& err) {
        if (sync != self->state.sync_id)
          return;
        ++self->state.reconnects;
        schedule_restart(self, "etcd: " + self->system().render(err), true);
      });
}

/// Syncs with etcd (records after this node's version, the live nodes),
/// then watches from the revision of that read on.
void on_restart(follower_ptr self) {
  auto& st = self->state;
  st.restarting = false;
  if (st.watch) {
    st.watch->stop();
    st.watch.reset();
  }
  auto sync = ++st.sync_id;
  self->request(st.options.store, std::chrono::seconds{10}, get_atom::value)
    .then(
      [self, sync](snapshot_ptr& snap) {
        sync_page(self, sync, snap->version, 0);
      },
      [self](caf::error& err) {
        schedule_restart(self, "store: " + self->system().render(err), true);
      });
}

void on_batch(follower_ptr self, tagged_batch& tb) {
  auto& st = self->state;
  if (tb.watch != st.watch_id)
    return;
  auto& b = tb.batch;
  if (b.revision != 0 && b.revision < st.revision) {
    ++st.options.counters->resyncs;
    log().warn("event=etcd_revision_backwards node=\"{}\" was={} now={}",
               st.options.node, st.revision, b.revision);
    st.revision = 0;
    schedule_restart(self, "etcd's revision went backwards", false);
    return;
  }
  st.revision = std::max(st.revision, b.revision);
  auto& keys = *st.keys;
  for (auto& ev : b.events) {
    auto& key = ev.kv.key;
    if (auto v = keys.version_of(key); v != 0) {
      if (ev.what != etcd_watch_event::type::put)
        continue; // history trimmed in etcd; the journal keeps it here
      auto rec = decode_version_record(ev.kv.value, key, st.options.box.get(),
                                       st.options.cluster);
      if (!rec) {
        ++st.options.counters->errors;
        log().error("event=etcd_bad_record key=\"{}\" error=\"{}\"", key,
                    self->system().render(rec.error()));
        continue;
      }
      st.head = std::max(st.head, rec->version);
      self->send(st.options.validator, adopt_atom::value, std::move(*rec));
    } else if (key == keys.acks()) {
      // Another node waits for a version: say at once once applied.
      if (ev.what == etcd_watch_event::type::put)
        if (auto v = std::strtoull(ev.kv.value.c_str(), nullptr, 10); v > 0)
          self->send(st.options.presence, want_atom::value, uint64_t{v},
                     false);
    } else if (key.compare(0, keys.nodes().size(), keys.nodes()) == 0) {
      auto name = key.substr(keys.nodes().size());
      if (ev.what == etcd_watch_event::type::del) {
        if (st.nodes.erase(name) > 0)
          log().info("event=etcd_node_gone node=\"{}\"", name);
        continue;
      }
      if (auto n = decode_node_record(ev.kv.value))
        st.nodes[name] = std::move(*n);
    }
  }
  settle(self);
}

caf::result<consistent_write_result>
on_await(follower_ptr self, write_result& res, consistency level,
         uint32_t timeout_ms) {
  auto& st = self->state;
  pending_wait w;
  w.result = std::move(res);
  w.level = level;
  for (auto& [name, n] : st.nodes)
    w.targets.push_back(name);
  if (st.nodes.count(st.options.node) == 0)
    w.targets.push_back(st.options.node);
  auto out = answer_of(self, w);
  if (out.satisfied || !w.result.ok())
    return out;
  // The others rewrite their records at once for it (else on their tick).
  self->send(st.options.presence, want_atom::value, w.result.version, true);
  auto id = st.next_wait++;
  w.promise = self->make_response_promise<consistent_write_result>();
  auto rp = w.promise;
  st.waits.emplace(id, std::move(w));
  self->delayed_send(self, std::chrono::milliseconds{timeout_ms},
                     wait_timeout_atom::value, id);
  return rp;
}

replica_status status_of(follower_ptr self) {
  auto& st = self->state;
  replica_status out;
  out.node = st.options.node;
  out.connected = !st.stale();
  out.stale = st.stale();
  if (auto i = st.nodes.find(st.options.node); i != st.nodes.end()) {
    out.version = i->second.applied;
    out.hash = i->second.hash;
  }
  out.resyncs = st.options.counters->resyncs;
  out.reconnects = st.reconnects;
  out.reason = st.stale() ? st.reason : std::string{};
  out.cluster_id = st.options.cluster;
  return out;
}

std::vector<replica_info> nodes_of(follower_ptr self) {
  auto& st = self->state;
  std::vector<replica_info> out;
  for (auto& [name, n] : st.nodes) {
    replica_info r;
    r.node = name;
    r.state = replica_state::connected;
    r.acked_version = n.applied;
    r.acked_hash = n.hash;
    r.lag = st.head > n.applied ? st.head - n.applied : 0;
    r.last_ack_ms = n.updated_ms;
    out.push_back(std::move(r));
  }
  return out;
}

follower_impl::behavior_type follower(follower_ptr self,
                                      etcd_follower_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.keys.emplace(st.options.cluster);
  st.options.counters->stale = true;
  self->send(self, restart_atom::value);
  return {
    [self](restart_atom) { on_restart(self); },
    [self](tagged_batch& b) { on_batch(self, b); },
    [self](watch_end_atom, uint64_t id, std::string& error,
           int64_t compacted) {
      auto& st = self->state;
      if (id != st.watch_id)
        return;
      ++st.reconnects;
      if (compacted > 0) {
        ++st.options.counters->resyncs;
        log().warn("event=etcd_watch_compacted node=\"{}\" revision={} "
                   "compacted={}",
                   st.options.node, st.revision, compacted);
      }
      // A watch that ends as soon as it started (refused, say) is a
      // failure: backoff, not a loop.
      auto short_lived = std::chrono::steady_clock::now() - st.watch_started
                         < std::chrono::seconds{1};
      schedule_restart(self, "etcd watch ended: " + error, short_lived);
    },
    [self](health_atom, bool ok, std::string& why) {
      auto& st = self->state;
      auto back = ok && !st.etcd_ok;
      st.etcd_ok = ok;
      if (!ok) {
        st.reason = "etcd: " + why;
        update_stale(self);
      } else if (back && st.synced_once) {
        // The watch may sit on a member that lost its quorum and said
        // nothing: sync again rather than trust it.
        schedule_restart(self, "etcd answers again: syncing", false);
      } else {
        update_stale(self);
      }
    },
    [self](await_atom, write_result& res, consistency level,
           uint32_t timeout_ms) { return on_await(self, res, level, timeout_ms); },
    [self](wait_timeout_atom, uint64_t id) {
      auto& st = self->state;
      auto i = st.waits.find(id);
      if (i == st.waits.end())
        return;
      auto out = answer_of(self, i->second);
      log().warn("event=write_consistency_timeout version={} level={} "
                 "missing={}",
                 out.result.version, to_string(out.level), out.missing.size());
      i->second.promise.deliver(std::move(out));
      st.waits.erase(i);
    },
    [self](status_atom) { return status_of(self); },
    [self](replicas_atom) { return nodes_of(self); },
  };
}

} // namespace

etcd_follower_actor spawn_etcd_follower(caf::actor_system& sys,
                                        etcd_follower_options options) {
  return sys.spawn(follower, std::move(options));
}

} // namespace cfgactors::detail

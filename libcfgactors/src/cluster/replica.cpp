// A replica: applies the primary's stream in order, verifies every version's
// hash, serves the store's read interface from its own history, and forwards
// writes to the primary.
#include <mutex>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include <unistd.h>

#include <caf/io/middleman.hpp>
#include <caf/io/middleman_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "link/basp_handoff.hpp"
#include "sources/backoff.hpp"
#include "cluster/cluster_auth.hpp"
#include "cluster/replica.hpp"
#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/merge.hpp"
#include "core/internal_actor_types.hpp"
#include "pipeline/topic_router.hpp"
#include "model/make_snapshot.hpp"
#include "model/config_tree.hpp"
#include "model/tree_patch.hpp"
#include "pipeline/version_history.hpp"
#include "core/log.hpp"
#include "model/hash_tree.hpp"

namespace cfgactors {

namespace {

using connect_tick_atom = caf::atom_constant<caf::atom("reconnect")>;
using ack_tick_atom = caf::atom_constant<caf::atom("acktick")>;
using hello_tick_atom = caf::atom_constant<caf::atom("hellotick")>;
using link_tick_atom = caf::atom_constant<caf::atom("linktick")>;

/// Where the link thread leaves the outcome of a dial for the replica: the
/// replica then gets only a tick naming the dial. A descriptor never travels
/// in a message, which a peer could forge.
struct link_inbox {
  std::mutex mtx;
  uint64_t dial = 0;
  std::optional<detail::link_result> result;

  /// Takes the result of dial `n`; closes what an older dial left.
  std::optional<detail::link_result> take(uint64_t n) {
    std::lock_guard<std::mutex> guard{mtx};
    if (!result || dial != n)
      return std::nullopt;
    auto out = std::move(result);
    result.reset();
    return out;
  }

  void put(uint64_t n, detail::link_result r) {
    std::lock_guard<std::mutex> guard{mtx};
    if (result && result->fd >= 0)
      ::close(result->fd);
    dial = n;
    result = std::move(r);
  }

  ~link_inbox() {
    if (result && result->fd >= 0)
      ::close(result->fd);
  }
};

/// The replica's own messages: time to try connecting again, time to ack
/// what was applied since the last ack, time for hello number n to have
/// been answered.
using replica_impl = replica_actor::extend<
  caf::reacts_to<connect_tick_atom>, caf::reacts_to<ack_tick_atom>,
  caf::reacts_to<hello_tick_atom, uint64_t>,
  caf::reacts_to<link_tick_atom, uint64_t>>;

struct replica_actor_state {
  static inline const char* name = "cfgactors.replica";

  replica_options options;
  topic_router_actor router;
  /// The versions applied, newest (current) last; nothing is read from disk.
  detail::version_history versions;
  primary_actor primary;            ///< null while disconnected
  /// Derived in the handshake with `primary`; empty until the primary
  /// proved the secret back.
  std::string session;
  bool in_sync = false;             ///< the primary answered our last hello
  bool told_stale = false;          ///< subscribers were told we are stale
  bool ack_armed = false;           ///< an ack tick is on its way
  uint64_t hellos = 0;              ///< hellos sent, for their timeouts
  uint64_t acked = 0;               ///< the last version we acked
  uint64_t resyncs = 0;
  uint64_t reconnects = 0;
  uint64_t forged = 0; ///< stream messages without our session's MAC
  uint64_t dials = 0;  ///< links asked for; the last one counts
  std::shared_ptr<link_inbox> inbox = std::make_shared<link_inbox>();
  std::string link_error; ///< the last dial's error, logged once
  /// The cluster whose history we hold (adopted at the first sync) and the
  /// epoch of the primary we last synced with.
  std::string cluster_id;
  uint64_t epoch = 0;
  /// Whether (and why) we refuse the stream of this connection's primary:
  /// another cluster, or behind us. Dropped until a resync; another
  /// connection is judged anew.
  bool refusing = false;
  std::string refusal;
  /// An operator asked to install whatever the primary has: these wait for
  /// its full snapshot.
  bool resync_wanted = false;
  std::vector<caf::typed_response_promise<replica_status>> resync_waiters;
  detail::backoff retry{std::chrono::milliseconds{100},
                        std::chrono::milliseconds{5000}};
};

using replica_ptr = replica_impl::stateful_pointer<replica_actor_state>;

void say_hello(replica_ptr self, bool full) {
  auto& st = self->state;
  if (!st.primary || st.session.empty())
    return;
  st.in_sync = false;
  full = full || st.resync_wanted;
  auto& cur = *st.versions.current();
  hello h{st.options.node, full ? 0 : cur.version,
          full ? std::string{} : cur.hash, st.session,
          st.resync_wanted ? std::string{} : st.cluster_id,
          st.options.secrets};
  self->send(st.primary, std::move(h));
  // A primary refuses a hello without an answer (its name is held by a
  // connection it has not seen go yet, or its replica cap is reached):
  // then we start over, with backoff.
  self->delayed_send(self, st.options.connect_timeout, hello_tick_atom::value,
                     ++st.hellos);
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

void tell_stale(replica_ptr self) {
  auto& st = self->state;
  if (st.told_stale)
    return;
  st.told_stale = true;
  self->send(st.router, stale_atom::value, true);
}

/// Why we must not install a stream message of `cluster_id` at `version`
/// (a full snapshot's; nullopt for a patch, which only the cluster can
/// refuse: its base is our own version), or empty. A primary that lost its
/// journal comes back with another cluster id or behind us: following it
/// would silently roll every subscriber back.
std::string refusal_of(replica_ptr self, const std::string& cluster_id,
                       std::optional<uint64_t> version) {
  auto& st = self->state;
  if (st.resync_wanted)
    return {};
  if (!st.cluster_id.empty() && cluster_id != st.cluster_id)
    return "primary belongs to another cluster (id "
           + (cluster_id.empty() ? std::string{"none"} : cluster_id)
           + ", expected " + st.cluster_id + ")";
  auto have = st.versions.current()->version;
  if (version && *version < have)
    return "primary is at version " + std::to_string(*version)
           + ", behind this replica's " + std::to_string(have)
           + ": refusing to go back";
  return {};
}

/// Keeps what we have and drops this connection's stream until an
/// operator's resync: stale, with the reason, logged once per connection.
void refuse_primary(replica_ptr self, std::string reason) {
  auto& st = self->state;
  st.in_sync = false;
  if (!st.refusing)
    detail::log().error("event=replica_refused_rollback node=\"{}\" "
                        "version={} reason=\"{}\" fix=\"cfgctl resync\"",
                        st.options.node, st.versions.current()->version,
                        reason);
  st.refusing = true;
  st.refusal = std::move(reason);
  tell_stale(self);
}

/// Whether a stream message (MAC checked) may be looked at: not while we
/// refuse this connection's primary, nor when it refuses itself now.
template <class Message>
bool acceptable(replica_ptr self, const Message& m,
                std::optional<uint64_t> version) {
  auto& st = self->state;
  if (st.refusing)
    return false;
  if (auto why = refusal_of(self, m.cluster_id, version); !why.empty()) {
    refuse_primary(self, std::move(why));
    return false;
  }
  return true;
}

/// The primary's stream is ours: its cluster is the one we follow.
template <class Message>
void adopt(replica_ptr self, const Message& m) {
  auto& st = self->state;
  if (st.cluster_id != m.cluster_id)
    detail::log().info("event=replica_adopted_cluster node=\"{}\" "
                       "cluster_id={} epoch={}",
                       st.options.node, m.cluster_id, m.epoch);
  st.cluster_id = m.cluster_id;
  st.epoch = m.epoch;
}

/// Makes `next` current and tells the local subscribers.
void install(replica_ptr self, snapshot_ptr next) {
  auto& st = self->state;
  mark_fresh(self);
  // The subscribers first, as the store does: the history's bookkeeping
  // is not on their way.
  self->send(st.router, publish_atom::value, st.versions.current(), next);
  // A full snapshot may go back (a primary that lost its history): the
  // history then starts over.
  st.versions.push(next);
}

void send_ack(replica_ptr self) {
  auto& st = self->state;
  st.in_sync = true;
  mark_fresh(self);
  if (st.primary) {
    auto& cur = *st.versions.current();
    st.acked = cur.version;
    self->send(st.primary,
               ack{st.options.node, cur.version, cur.hash, st.session});
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
/// a previous connection may still arrive after a reconnect) and carries
/// the MAC of our session: BASP lets a peer of the primary's node forge the
/// sender, not the MAC.
template <class Message>
bool from_primary(replica_ptr self, const Message& m) {
  auto& st = self->state;
  if (!st.primary || self->current_sender() != st.primary.address()
      || st.session.empty())
    return false;
  if (detail::same_mac(m.mac, detail::stream_mac(st.session, m)))
    return true;
  // Logged at 1, 2, 4, ... : a flood of them must not flood the log.
  if (auto n = ++st.forged; (n & (n - 1)) == 0)
    detail::log().warn("event=replica_forged_stream node=\"{}\" version={} "
                       "count={}",
                       st.options.node, m.version, n);
  return false;
}

void schedule_connect(replica_ptr self) {
  auto& st = self->state;
  if (st.options.host.empty())
    return;
  auto delay = st.retry.next();
  self->delayed_send(self, delay, connect_tick_atom::value);
}

/// The primary is gone or failed the handshake: serve the last snapshot,
/// tell the subscribers we are stale, and try to reconnect.
void lose_primary(replica_ptr self) {
  auto& st = self->state;
  if (st.primary)
    self->demonitor(st.primary.address());
  st.primary = nullptr;
  st.session.clear();
  st.in_sync = false;
  st.refusing = false;
  tell_stale(self);
  schedule_connect(self);
}

/// The handshake with `primary` failed: unless we follow another by now,
/// we follow none.
void auth_failed(replica_ptr self, const primary_actor& primary,
                 const std::string& why) {
  auto& st = self->state;
  detail::log().error("event=replica_auth_failed node=\"{}\" error=\"{}\"",
                      st.options.node, why);
  if (st.primary == primary)
    lose_primary(self);
}

/// Proves the cluster secret to `primary` and checks its proof back; only
/// then says hello. Every later message to it carries the session.
void authenticate(replica_ptr self, primary_actor primary) {
  auto& st = self->state;
  auto fail = [self, primary](caf::error& err) {
    auth_failed(self, primary, self->system().render(err));
  };
  self->request(primary, st.options.connect_timeout, auth_atom::value)
    .then(
      [self, primary, fail](auth_challenge& c) {
        auto& st = self->state;
        if (st.primary != primary)
          return;
        auto nonce = detail::random_nonce();
        auto node_id = caf::to_string(self->node());
        detail::auth_context ctx{c.nonce, nonce, st.options.node, node_id};
        auth_proof proof{st.options.node, c.nonce, nonce,
                         detail::client_proof(st.options.secret, ctx)};
        self->request(primary, st.options.connect_timeout, std::move(proof))
          .then(
            [self, primary, c, nonce, node_id](auth_accept& a) {
              auto& st = self->state;
              if (st.primary != primary)
                return;
              detail::auth_context ctx{c.nonce, nonce, st.options.node,
                                       node_id};
              auto& secret = st.options.secret;
              if (!detail::same_mac(detail::server_proof(secret, ctx),
                                    a.mac)) {
                auth_failed(self, primary,
                            "the primary did not prove the cluster secret");
                return;
              }
              st.session = detail::session_of(secret, ctx);
              st.retry.reset();
              say_hello(self, false);
            },
            fail);
      },
      fail);
}

void follow(replica_ptr self, primary_actor primary) {
  auto& st = self->state;
  if (st.primary)
    self->demonitor(st.primary.address());
  st.primary = std::move(primary);
  st.session.clear();
  // Another connection: its primary is judged anew (the one we followed
  // may be back).
  st.refusing = false;
  self->monitor(st.primary);
  detail::log().info("event=replica_joined node=\"{}\" version={}",
                     st.options.node, st.versions.current()->version);
  authenticate(self, st.primary);
}

/// BASP finished its handshake with the primary's node: follow the primary
/// it offers (none: try again later).
void on_basp_connected(replica_ptr self, caf::strong_actor_ptr& ptr) {
  if (!ptr) {
    schedule_connect(self);
    return;
  }
  ++self->state.reconnects;
  self->state.link_error.clear();
  follow(self, caf::actor_cast<primary_actor>(std::move(ptr)));
}

void on_basp_failed(replica_ptr self, const caf::error& err) {
  detail::log().debug("event=replica_connect_failed node=\"{}\" "
                      "error=\"{}\"",
                      self->state.options.node, self->system().render(err));
  schedule_connect(self);
}

/// Without a dialer: BASP connects by itself, through the middleman (the
/// test DSL's multiplexer has no sockets for a link).
void connect_direct(replica_ptr self) {
  auto& st = self->state;
  auto mm = self->system().middleman().actor_handle();
  self
    ->request(mm, st.options.connect_timeout, caf::connect_atom::value,
              st.options.host, st.options.port)
    .then(
      [self](caf::node_id&, caf::strong_actor_ptr& ptr,
             std::set<std::string>&) { on_basp_connected(self, ptr); },
      [self](caf::error& err) { on_basp_failed(self, err); });
}

/// Asks the link thread for an authenticated link to the primary; the
/// outcome arrives as a link tick.
void connect(replica_ptr self) {
  auto& st = self->state;
  if (!st.options.dialer)
    return connect_direct(self);
  auto n = ++st.dials;
  auto hdl = caf::actor_cast<caf::actor>(self);
  st.options.dialer->dial(st.options.host, st.options.port,
                          [inbox = st.inbox, hdl, n](detail::link_result r) {
                            inbox->put(n, std::move(r));
                            caf::anon_send(hdl, link_tick_atom::value, n);
                          });
}

/// A dial ended: BASP takes the link (its handshake names the primary's
/// node and hands us the published primary), or we try again later.
void on_link_tick(replica_ptr self, uint64_t n) {
  auto& st = self->state;
  auto r = st.inbox->take(n);
  if (!r || n != st.dials)
    return;
  if (r->fd < 0 || st.primary) {
    if (r->fd >= 0) {
      ::close(r->fd);
    } else if (r->error != st.link_error) {
      // Said once per distinct error, not once per retry.
      detail::log().warn("event=replica_connect_failed node=\"{}\" "
                         "error=\"{}\"",
                         st.options.node, r->error);
      st.link_error = r->error;
    }
    if (!st.primary)
      schedule_connect(self);
    return;
  }
  auto& sys = self->system();
  self
    ->request(detail::basp_broker(sys), st.options.connect_timeout,
              caf::connect_atom::value, detail::basp_scribe(sys, r->fd),
              st.options.port)
    .then(
      [self](caf::node_id&, caf::strong_actor_ptr& ptr,
             std::set<std::string>&) { on_basp_connected(self, ptr); },
      [self](caf::error& err) { on_basp_failed(self, err); });
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
  lose_primary(self);
}

/// Hello number `n` had its time: unanswered, we drop the primary (and
/// reconnect if we found it ourselves).
void on_hello_tick(replica_ptr self, uint64_t n) {
  auto& st = self->state;
  // A refused answer is an answer: we stay, refusing, until a resync.
  if (n != st.hellos || !st.primary || st.in_sync || st.refusing)
    return;
  detail::log().warn("event=replica_hello_unanswered node=\"{}\"",
                     st.options.node);
  lose_primary(self);
}

/// The ack delay passed: one ack for every version applied meanwhile.
void on_ack_tick(replica_ptr self) {
  auto& st = self->state;
  st.ack_armed = false;
  if (st.primary && st.in_sync && st.acked != st.versions.current()->version)
    send_ack(self);
}

/// The secret paths of a version: those of `cur` when they are the same.
secret_paths_ptr secrets_from(const snapshot& cur,
                              const std::vector<std::string>& patterns) {
  if (cur.secrets && cur.secrets->patterns() == patterns)
    return cur.secrets;
  if (patterns.empty())
    return nullptr;
  return std::make_shared<const secret_paths>(patterns);
}

/// The hash of the tree `s` holds (for a masked replica, of the masked
/// tree, which `s.hash`, the primary's, is not).
std::string digest_of(const snapshot& s) {
  return s.hashes ? s.hashes->hex() : canonical_hash(*s.effective);
}

/// One step of the stream: applied only on top of `prev_version`, kept only
/// if the result hashes to `hash`; a gap or a mismatch asks for everything.
void on_replicated_change(replica_ptr self, replicated_change& m) {
  auto& st = self->state;
  // While a resync is wanted only its full snapshot counts.
  if (!from_primary(self, m) || st.resync_wanted
      || !acceptable(self, m, std::nullopt))
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
    adopt(self, m);
    send_ack(self);
    return;
  }
  // The patch applied to the current version's persistent tree: the next
  // version shares all the patch left alone with it. A patch a tree does
  // not take (an array step, a move) is applied to a copy of the JSON.
  detail::config_tree tree{cur.effective.tree()};
  std::vector<std::string> paths;
  layer_data effective;
  switch (detail::patch_tree(tree, m.patch, paths)) {
    case detail::tree_patch_result::applied:
      effective = layer_data{tree.root_ptr()};
      break;
    case detail::tree_patch_result::unsupported:
      try {
        auto copy = *cur.effective;
        copy.patch_inplace(m.patch);
        paths = patch_paths(m.patch, copy);
        effective = layer_data{std::move(copy)};
      } catch (const std::exception&) {
        resync(self, "bad_patch", m.version);
        return;
      }
      break;
    case detail::tree_patch_result::failed:
      resync(self, "bad_patch", m.version);
      return;
  }
  // Hashed along the paths the patch changed, the rest shared with the
  // current version's digests. A masked tree is checked against the hash
  // of the masked tree; the snapshot keeps the true hash, which we report
  // and ack.
  auto changes = std::make_shared<const std::vector<std::string>>(
    std::move(paths));
  auto expected = m.masked_hash.empty() ? m.hash : m.masked_hash;
  auto next = detail::make_snapshot(m.version, std::move(m.origin), {},
                                    std::move(effective), m.timestamp_ms,
                                    secrets_from(cur, m.secrets), m.hash,
                                    std::move(m.author), std::move(m.reason),
                                    &cur, std::move(changes));
  if (digest_of(*next) != expected) {
    resync(self, "mismatch", m.version);
    return;
  }
  adopt(self, m);
  install(self, std::move(next));
  if (m.ack_now || !st.in_sync || st.options.ack_delay.count() <= 0)
    send_ack(self);
  else
    ack_later(self);
}

replica_status on_status(replica_ptr self);

/// The operator's resync took effect: the waiters get the status.
void resynced(replica_ptr self) {
  auto& st = self->state;
  st.resync_wanted = false;
  auto& cur = *st.versions.current();
  detail::log().warn("event=replica_resynced node=\"{}\" version={} "
                     "hash=\"{}\" cluster_id={}",
                     st.options.node, cur.version, cur.hash, st.cluster_id);
  auto status = on_status(self);
  for (auto& rp : std::exchange(st.resync_waiters, {}))
    rp.deliver(status);
}

/// The whole configuration, for a new replica or one out of step: kept only
/// if it hashes to `hash`.
void on_full_snapshot(replica_ptr self, full_snapshot& m) {
  auto& st = self->state;
  if (!from_primary(self, m) || !acceptable(self, m, m.version))
    return;
  // As in on_replicated_change: a masked tree has a hash of its own.
  auto secrets = secrets_from(*st.versions.current(), m.secrets);
  auto hashes = detail::hash_tree_of(m.effective);
  auto next = std::make_shared<const snapshot>(
    snapshot{m.version, m.hash, m.timestamp_ms, std::move(m.origin),
             layer_stack::from_json(m.layers),
             layer_data{std::move(m.effective)},
             secrets && !secrets->empty() ? secrets : nullptr,
             std::move(m.author), std::move(m.reason), nullptr, 0,
             std::move(hashes)});
  if (digest_of(*next) != (m.masked_hash.empty() ? m.hash : m.masked_hash)) {
    // Not recoverable by asking again: keep the last good snapshot.
    detail::log().error("event=replica_bad_snapshot node=\"{}\" version={}",
                        st.options.node, m.version);
    return;
  }
  auto& cur = *st.versions.current();
  adopt(self, m);
  // After a resync this may go back: the history then starts over
  // (version_history::push).
  if (next->version != cur.version || next->hash != cur.hash)
    install(self, std::move(next));
  send_ack(self);
  if (st.resync_wanted)
    resynced(self);
}

caf::error not_connected() {
  return make_error(errc::unavailable, "no connection to the primary");
}

caf::error refusing_primary(const std::string& why) {
  return make_error(errc::unavailable,
                    "this replica refuses its primary (" + why
                      + "); an operator's resync makes it follow");
}

/// Writes go to the primary's validator in our session; the answer comes
/// after commit. We ask and answer ourselves rather than delegate: a
/// delegated request would hand the writer's handle to the primary's node
/// (and into CAF's registry here, where peers could address it).
caf::result<consistent_write_result>
on_consistent_write(replica_ptr self, write_request& req, consistency level,
                    uint32_t timeout_ms) {
  auto& st = self->state;
  if (!st.primary || st.session.empty())
    return not_connected();
  if (st.refusing)
    return refusing_primary(st.refusal);
  auto rp = self->make_response_promise<consistent_write_result>();
  self
    ->request(st.primary, caf::infinite,
              linked_write{st.session, std::move(req), level, timeout_ms})
    .then([rp](consistent_write_result& x) mutable { rp.deliver(std::move(x)); },
          [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

caf::result<write_result> on_write(replica_ptr self, write_request& req) {
  auto& st = self->state;
  if (!st.primary || st.session.empty())
    return not_connected();
  if (st.refusing)
    return refusing_primary(st.refusal);
  auto rp = self->make_response_promise<write_result>();
  self
    ->request(st.primary, caf::infinite,
              linked_write{st.session, std::move(req), consistency::local, 0})
    .then(
      [rp](consistent_write_result& x) mutable {
        rp.deliver(std::move(x.result));
      },
      [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
  return rp;
}

/// Whether the current message comes from another actor of this process:
/// the only ones a replica serves. Messages from other nodes (a peer can
/// address the replica through the primary's node, and make a message look
/// as if the replica sent it itself) are dropped; only the stream from our
/// primary is taken (from_primary).
bool from_local_client(replica_ptr self) {
  auto& sender = self->current_sender();
  return sender && sender != self->ctrl() && sender->node() == self->node();
}

caf::error not_local() {
  return make_error(errc::unauthenticated,
                    "a replica serves actors of its own process only");
}

replica_status on_status(replica_ptr self) {
  auto& st = self->state;
  replica_status out;
  out.node = st.options.node;
  out.connected = st.primary && st.in_sync && !st.refusing;
  out.stale = !st.primary || st.refusing;
  if (st.refusing)
    out.reason = st.refusal;
  else if (!st.primary)
    out.reason = "no connection to its primary";
  out.cluster_id = st.cluster_id;
  out.epoch = st.epoch;
  out.version = st.versions.current()->version;
  out.hash = st.versions.current()->hash;
  out.resyncs = st.resyncs;
  out.reconnects = st.reconnects;
  return out;
}

/// An operator's resync: forget the cluster and the version floor, ask for
/// everything, and install whatever the authenticated primary sends; the
/// answer is the status once it did.
caf::result<replica_status> on_resync(replica_ptr self) {
  auto& st = self->state;
  detail::log().warn("event=replica_resync_asked node=\"{}\" version={} "
                     "cluster_id={}",
                     st.options.node, st.versions.current()->version,
                     st.cluster_id.empty() ? "-" : st.cluster_id);
  st.resync_wanted = true;
  st.refusing = false;
  ++st.resyncs;
  auto rp = self->make_response_promise<replica_status>();
  st.resync_waiters.push_back(rp);
  // Between two connections (the primary restarting, a dial backing off)
  // the next hello asks for everything; the operator's request waits for
  // it as long as its own timeout.
  if (st.primary && !st.session.empty())
    say_hello(self, true);
  return rp;
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
  // Every handler but the stream and our own ticks serves this process
  // only (from_local_client).
  return {
    [self](join_atom, primary_actor& primary) {
      if (from_local_client(self))
        follow(self, std::move(primary));
    },
    [self](connect_tick_atom) {
      if (!self->state.primary)
        connect(self);
    },
    [self](ack_tick_atom) { on_ack_tick(self); },
    [self](hello_tick_atom, uint64_t n) { on_hello_tick(self, n); },
    [self](link_tick_atom, uint64_t n) { on_link_tick(self, n); },
    [self](replicated_change& m) { on_replicated_change(self, m); },
    [self](full_snapshot& m) { on_full_snapshot(self, m); },
    // The store's read interface, from the replica's own history.
    [self](subscribe_atom, std::string& prefix,
           subscriber_actor& sub) -> caf::result<uint64_t> {
      if (!from_local_client(self))
        return not_local();
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub));
    },
    [self](subscribe_atom, std::string& prefix, subscriber_actor& sub,
           every_version_atom) -> caf::result<uint64_t> {
      if (!from_local_client(self))
        return not_local();
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub),
                            every_version_atom::value);
    },
    [self](subscribe_atom, std::string& prefix, subscriber_actor& sub,
           delivery how) -> caf::result<uint64_t> {
      if (!from_local_client(self))
        return not_local();
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub), how);
    },
    [self](get_atom) -> caf::result<snapshot_ptr> {
      if (!from_local_client(self))
        return not_local();
      return self->state.versions.current();
    },
    [self](get_atom, uint64_t version) -> caf::result<snapshot_ptr> {
      if (!from_local_client(self))
        return not_local();
      return self->state.versions.lookup(version);
    },
    [self](diff_atom, uint64_t from, uint64_t to) -> caf::result<diff_result> {
      if (!from_local_client(self))
        return not_local();
      return self->state.versions.diff(from, to);
    },
    [self](history_atom, uint64_t before,
           uint32_t limit) -> caf::result<std::vector<version_info>> {
      if (!from_local_client(self))
        return not_local();
      return self->state.versions.history(before, limit);
    },
    [self](write_atom, write_request& req) -> caf::result<write_result> {
      if (!from_local_client(self))
        return not_local();
      return on_write(self, req);
    },
    [self](write_atom, write_request& req, consistency level,
           uint32_t timeout_ms) -> caf::result<consistent_write_result> {
      if (!from_local_client(self))
        return not_local();
      return on_consistent_write(self, req, level, timeout_ms);
    },
    [self](stats_atom) -> caf::result<router_stats> {
      if (!from_local_client(self))
        return not_local();
      return self->delegate(self->state.router, stats_atom::value);
    },
    [self](status_atom) -> caf::result<replica_status> {
      if (!from_local_client(self))
        return not_local();
      return on_status(self);
    },
    [self](resync_atom) -> caf::result<replica_status> {
      if (!from_local_client(self))
        return not_local();
      return on_resync(self);
    },
  };
}

} // namespace

replica_actor spawn_replica(caf::actor_system& sys, replica_options options) {
  auto hdl = sys.spawn(replica, std::move(options));
  return hdl;
}

} // namespace cfgactors

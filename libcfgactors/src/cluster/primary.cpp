// The primary: the replication stream, consistent writes, and the gate of
// the cluster link (who proved the secret, which name is whose).
#include <algorithm>
#include <map>
#include <optional>
#include <random>
#include <set>
#include <type_traits>
#include <unordered_map>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cluster/cluster_auth.hpp"
#include "cluster/primary.hpp"
#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "core/log.hpp"

namespace cfgactors {

namespace {

using timeout_atom = caf::atom_constant<caf::atom("wtimeout")>;
using handshake_timeout_atom = caf::atom_constant<caf::atom("hstimeout")>;

/// The primary's own messages: every version from the store (it is the
/// store's replication tap), write timeouts, `forget, node, epoch`: forget
/// `node` if it is still in the disconnection numbered `epoch`, and
/// handshake timeouts. The timers carry the primary's cookie: a peer can
/// make a message look as if the primary sent it to itself (see
/// docs/SECURITY.md), but cannot guess the cookie.
using primary_impl = primary_actor::extend_with<replication_tap_actor>::extend<
  caf::reacts_to<timeout_atom, uint64_t, uint64_t>,
  caf::reacts_to<forget_atom, std::string, uint64_t, uint64_t>,
  caf::reacts_to<handshake_timeout_atom, uint64_t, uint64_t>>;

struct primary_state {
  static inline const char* name = "cfgactors.primary";

  struct replica {
    /// null while disconnected; while connected, the name is bound to this
    /// actor (and so to its node id)
    replica_link_actor link;
    std::string session; ///< of the connection in `link`: signs its stream
    /// It asked for secret values (hello::secrets); else it gets every
    /// version masked.
    bool secrets = false;
    replica_state state = replica_state::syncing;
    uint64_t acked_version = 0;
    std::string acked_hash;
    int64_t last_ack_ms = 0;
    uint64_t epoch = 0; ///< counts disconnections, for forget timers
  };

  /// A majority/all write waiting for acks.
  struct pending_write {
    write_result result;
    consistency level = consistency::local;
    std::vector<std::string> targets; ///< every replica known at commit
    caf::typed_response_promise<consistent_write_result> promise;
  };

  /// A handshake under way: the nonce handed to one peer actor.
  struct handshake {
    std::string nonce;
    uint64_t id = 0; ///< for its timeout
  };

  /// A peer that proved the secret, until its actor goes down.
  struct peer {
    std::string name;    ///< the name it proved (the only one it may use)
    std::string session; ///< derived in the handshake, in each message
  };

  primary_options options;
  uint64_t cookie = 0; ///< in the primary's own timer messages
  std::map<caf::actor_addr, handshake> handshakes;
  uint64_t next_handshake = 1;
  std::map<caf::actor_addr, peer> peers;
  std::map<std::string, uint64_t> refused; ///< by reason
  std::set<caf::node_id> warned; ///< peer nodes whose refusal was logged
  store_backend_actor store;
  validator_actor validator;
  snapshot_ptr current;                    ///< the last version streamed
  std::map<std::string, replica> replicas; ///< by node name, kept when gone
  std::unordered_map<uint64_t, pending_write> pending;
  uint64_t next_write = 1;
  /// Majority/all writes sent to the validator and not yet answered: their
  /// version may stream before the answer comes back.
  uint64_t consistent_in_flight = 0;

  /// Whether replicas must ack the next version at once: a write waits for
  /// it. Otherwise they ack after their delay, several versions at a time.
  bool acks_wanted() const {
    return consistent_in_flight > 0 || !pending.empty();
  }

  bool has_applied(const replica& r, const write_result& w) const {
    // A version that left the tree unchanged streams no change: an equal
    // tree counts as applied.
    return r.acked_version >= w.version
           || (!r.acked_hash.empty() && r.acked_hash == w.hash);
  }

  std::vector<std::string> acked(const pending_write& w) const {
    std::vector<std::string> out;
    for (auto& node : w.targets)
      if (auto i = replicas.find(node);
          i != replicas.end() && has_applied(i->second, w.result))
        out.push_back(node);
    return out;
  }

  /// Majority counts the primary itself: of n replicas, (n + 1) / 2 must ack.
  bool satisfied(const pending_write& w) const {
    auto n = acked(w).size();
    if (w.level == consistency::all)
      return n == w.targets.size();
    return n >= (w.targets.size() + 1) / 2;
  }

  consistent_write_result answer(const pending_write& w) const {
    consistent_write_result out;
    out.result = w.result;
    out.level = w.level;
    out.acked = acked(w);
    for (auto& node : w.targets)
      if (std::find(out.acked.begin(), out.acked.end(), node) == out.acked.end())
        out.missing.push_back(node);
    // A refused write reached no replica: nothing to be satisfied about.
    out.satisfied = w.result.ok() && satisfied(w);
    return out;
  }
};

using primary_ptr = primary_impl::stateful_pointer<primary_state>;

void settle(primary_ptr self);

/// Drops `node`; pending writes stop waiting for it.
void forget(primary_ptr self, const std::string& node, const char* why) {
  auto& st = self->state;
  st.replicas.erase(node);
  for (auto& [id, w] : st.pending)
    w.targets.erase(std::remove(w.targets.begin(), w.targets.end(), node),
                    w.targets.end());
  detail::log().info("event=replica_forgotten node=\"{}\" reason={}", node,
                     why);
  settle(self);
}

/// Answers every pending write whose level is now reached.
void settle(primary_ptr self) {
  auto& st = self->state;
  for (auto i = st.pending.begin(); i != st.pending.end();) {
    if (st.satisfied(i->second)) {
      i->second.promise.deliver(st.answer(i->second));
      i = st.pending.erase(i);
    } else {
      ++i;
    }
  }
}

std::vector<std::string> secrets_of(const snapshot& s) {
  return s.secrets ? s.secrets->patterns() : std::vector<std::string>{};
}

/// What a replica that does not receive secrets holds of `s`: its tree with
/// every value at a secret path `***`.
json masked_tree(const snapshot& s) {
  auto tree = s.effective;
  if (s.secrets)
    s.secrets->mask(tree);
  return tree;
}

/// The version for a replica; `masked`: for one that does not receive
/// secrets, which never gets a secret value (layers included).
full_snapshot full_of(const primary_options& opts, const snapshot& s,
                      bool masked) {
  full_snapshot out{s.version,     s.hash,          s.timestamp_ms,
                    s.origin,      s.layers.to_json(), s.effective,
                    secrets_of(s), opts.cluster_id, opts.epoch,
                    {},            {}};
  if (masked && s.secrets) {
    out.effective = masked_tree(s);
    for (auto& x : out.layers)
      s.secrets->mask(x["data"]);
    out.masked_hash = canonical_hash(out.effective);
  }
  return out;
}

/// The patch from `from` to `to`; `masked`: between the masked trees a
/// replica that does not receive secrets holds.
replicated_change step(const primary_options& opts, const snapshot& from,
                       const snapshot& to, bool masked) {
  replicated_change out{to.version,
                        from.version,
                        to.hash,
                        to.timestamp_ms,
                        to.origin,
                        json{},
                        false,
                        secrets_of(to),
                        opts.cluster_id,
                        opts.epoch,
                        {},
                        {}};
  if (masked && (from.secrets || to.secrets)) {
    auto after = masked_tree(to);
    out.patch = json_patch(masked_tree(from), after);
    if (to.secrets)
      out.masked_hash = canonical_hash(after);
  } else {
    out.patch = json_patch(from.effective, to.effective);
  }
  return out;
}

/// Starts streaming to `node` with `first`: from here on every change goes
/// to it too.
template <class Message>
void start_stream(primary_ptr self, const std::string& node,
                  const replica_link_actor& link, Message first) {
  auto& st = self->state;
  auto i = st.replicas.find(node);
  // A newer hello from the same node replaced this link meanwhile.
  if (i == st.replicas.end() || i->second.link != link)
    return;
  i->second.state = replica_state::connected;
  // The answer to a hello is acked at once: the replica counts as connected
  // from then on.
  if constexpr (std::is_same_v<Message, replicated_change>)
    first.ack_now = true;
  first.mac = detail::stream_mac(i->second.session, first);
  self->send(link, std::move(first));
}

/// Registers as the store's replication tap. The store answers with its
/// current version and hands us every later one directly (not through the
/// router: no diff of paths, no credit round trip, no conflation). `await`
/// holds back hellos until the current version is known.
void become_tap(primary_ptr self) {
  self
    ->request(self->state.store, caf::infinite, replicate_atom::value,
              replication_tap_actor{self})
    .await(
      [self](snapshot_ptr& snap) { self->state.current = std::move(snap); },
      [self](caf::error& err) {
        detail::log().error("event=primary_tap_failed error=\"{}\"",
                            self->system().render(err));
        self->quit(err);
      });
}

/// A replica's link went down: it stays listed as disconnected, and is
/// forgotten after `forget_after` unless it comes back.
void on_replica_down(primary_ptr self, const caf::down_msg& msg) {
  for (auto& [node, r] : self->state.replicas)
    if (r.link && r.link.address() == msg.source) {
      detail::log().warn("event=replica_gone node=\"{}\" reason=\"{}\"", node,
                         self->system().render(msg.reason));
      r.link = nullptr;
      r.state = replica_state::disconnected;
      auto after = self->state.options.forget_after;
      if (after.count() > 0)
        self->delayed_send(self, after, forget_atom::value, node, ++r.epoch,
                           self->state.cookie);
    }
  // A peer's actor is gone: it must prove the secret again.
  if (auto i = self->state.peers.find(msg.source);
      i != self->state.peers.end()) {
    detail::log().info("event=cluster_peer_gone name=\"{}\"", i->second.name);
    self->state.peers.erase(i);
  }
}

/// A version from the store (we are its tap): streamed as one patch to
/// every replica in the stream.
void on_publish(primary_ptr self, const snapshot_ptr& before,
                const snapshot_ptr& after) {
  auto& st = self->state;
  if (st.current && after->version <= st.current->version)
    return; // already known when the store answered `replicate`
  st.current = after;
  // A version that left the tree as it was streams nothing: the acked hash
  // still matches it (see has_applied). Unless it changed which paths are
  // secret: masked replicas must mask the value now (their tree changes),
  // and every replica must hide it from readers without the secrets scope.
  auto patterns = [](const snapshot& x) {
    return x.secrets ? x.secrets->patterns() : std::vector<std::string>{};
  };
  if (before->hash == after->hash && patterns(*before) == patterns(*after))
    return;
  auto streaming = [](const auto& kvp) {
    return kvp.second.link && kvp.second.state == replica_state::connected;
  };
  // No replica in the stream: no patch to compute (a replica that joins
  // later gets its own from the history or a full snapshot).
  if (std::none_of(st.replicas.begin(), st.replicas.end(), streaming))
    return;
  // One patch for the replicas that receive secrets, one (between masked
  // trees) for those that do not: each computed only if someone needs it.
  std::optional<replicated_change> msgs[2];
  for (auto& kvp : st.replicas)
    if (streaming(kvp)) {
      auto masked = !kvp.second.secrets;
      auto& msg = msgs[masked ? 1 : 0];
      if (!msg) {
        msg = step(st.options, *before, *after, masked);
        msg->ack_now = st.acks_wanted();
      }
      msg->mac = detail::stream_mac(kvp.second.session, *msg);
      self->send(kvp.second.link, *msg);
    }
}

/// Counts a refused message by `reason`; logged once per peer node (a
/// flood of them would flood the log).
void refuse(primary_ptr self, const char* reason, const char* what) {
  auto& st = self->state;
  ++st.refused[reason];
  auto& sender = self->current_sender();
  auto node = sender ? sender->node() : caf::node_id{};
  constexpr std::size_t max_warned = 1024;
  if (st.warned.size() < max_warned && st.warned.insert(node).second)
    detail::log().warn("event=cluster_refused reason={} message={} "
                       "peer_node={}",
                       reason, what, caf::to_string(node));
}

/// Why the current sender cannot be trusted at all, or null: anonymous
/// messages and messages that claim to come from the primary itself (only
/// a forged one can: it never sends itself these).
const char* untrusted_sender(primary_ptr self) {
  auto& sender = self->current_sender();
  if (!sender)
    return "anonymous";
  if (sender == self->ctrl())
    return "forged_self";
  return nullptr;
}

/// Whether the current message comes from an actor of this process (the
/// node's API, the daemon): the only senders of plain writes, `forget` and
/// `stats`.
bool from_local_client(primary_ptr self, const char* what) {
  if (auto why = untrusted_sender(self)) {
    refuse(self, why, what);
    return false;
  }
  if (self->current_sender()->node() != self->node()) {
    refuse(self, "not_local", what);
    return false;
  }
  return true;
}

/// The authenticated peer that sent the current message with `session`, or
/// null (the message is refused and counted).
const primary_state::peer* authenticated(primary_ptr self,
                                         const std::string& session,
                                         const char* what) {
  if (auto why = untrusted_sender(self)) {
    refuse(self, why, what);
    return nullptr;
  }
  auto& st = self->state;
  auto i = st.peers.find(self->current_sender()->address());
  if (i == st.peers.end()) {
    refuse(self, "unauthenticated", what);
    return nullptr;
  }
  if (!detail::same_mac(session, i->second.session)) {
    refuse(self, "bad_session", what);
    return nullptr;
  }
  return &i->second;
}

caf::error refused_error(const char* what) {
  return make_error(errc::unauthenticated,
                    std::string{what}
                      + " refused: prove the cluster secret first");
}

/// Whether `name` is bound to a connected replica other than `who`.
bool name_taken(primary_ptr self, const std::string& name,
                const caf::actor_addr& who) {
  auto& st = self->state;
  auto i = st.replicas.find(name);
  return i != st.replicas.end() && i->second.link
         && i->second.link.address() != who;
}

/// A peer asks for a challenge: a fresh nonce, bound to the asking actor
/// (a later proof from any other actor or node does not match it), valid
/// once and for `handshake_timeout`.
caf::result<auth_challenge> on_auth(primary_ptr self) {
  auto& st = self->state;
  if (auto why = untrusted_sender(self)) {
    refuse(self, why, "auth");
    return refused_error("auth");
  }
  auto& sender = self->current_sender();
  auto addr = sender->address();
  // Asking again replaces the peer's nonce: the old one is spent.
  st.handshakes.erase(addr);
  auto of_node = std::count_if(st.handshakes.begin(), st.handshakes.end(),
                               [&](const auto& kvp) {
                                 return kvp.first.node() == sender->node();
                               });
  if (st.handshakes.size() >= st.options.max_pending
      || static_cast<std::size_t>(of_node)
           >= st.options.max_pending_per_node) {
    refuse(self, "too_many_pending", "auth");
    return make_error(errc::unavailable, "too many handshakes under way");
  }
  auto nonce = detail::random_nonce();
  if (nonce.empty())
    return make_error(errc::unavailable, "no randomness for a nonce");
  auto id = st.next_handshake++;
  st.handshakes.emplace(addr, primary_state::handshake{nonce, id});
  self->delayed_send(self, st.options.handshake_timeout,
                     handshake_timeout_atom::value, st.cookie, id);
  return auth_challenge{std::move(nonce)};
}

/// A peer proves the secret over our nonce, its own, its name and its node
/// id; we answer with our proof, and admit it under that name.
caf::result<auth_accept> on_auth_proof(primary_ptr self, auth_proof& p) {
  auto& st = self->state;
  if (auto why = untrusted_sender(self)) {
    refuse(self, why, "auth_proof");
    return refused_error("auth_proof");
  }
  auto& sender = self->current_sender();
  auto addr = sender->address();
  auto i = st.handshakes.find(addr);
  // No nonce handed to this actor, or it was spent: a replay.
  if (i == st.handshakes.end() || i->second.nonce != p.primary_nonce) {
    refuse(self, "unknown_nonce", "auth_proof");
    return refused_error("auth_proof");
  }
  auto nonce = std::move(i->second.nonce);
  st.handshakes.erase(i); // single use, whatever follows
  auto node_id = caf::to_string(sender->node());
  detail::auth_context ctx{nonce, p.peer_nonce, p.node, node_id};
  if (p.node.empty() || p.peer_nonce.size() < 32
      || !detail::same_mac(detail::client_proof(st.options.secret, ctx),
                           p.mac)) {
    refuse(self, "bad_proof", "auth_proof");
    return refused_error("auth_proof");
  }
  if (name_taken(self, p.node, addr)) {
    refuse(self, "name_taken", "auth_proof");
    return make_error(errc::invalid_argument,
                      "replica name " + p.node + " is in use");
  }
  if (st.peers.count(addr) == 0)
    self->monitor(sender);
  st.peers[addr] = primary_state::peer{p.node,
                                       detail::session_of(st.options.secret,
                                                          ctx)};
  detail::log().info("event=cluster_peer_authenticated name=\"{}\" "
                     "peer_node={}",
                     p.node, node_id);
  return auth_accept{detail::server_proof(st.options.secret, ctx)};
}

/// A handshake's time is up: its nonce is forgotten. CAF 0.17 gives an
/// actor no way to close the peer's connection; the peer keeps its TCP
/// connection but nothing of it is handled.
void on_handshake_timeout(primary_ptr self, uint64_t id) {
  auto& st = self->state;
  for (auto i = st.handshakes.begin(); i != st.handshakes.end(); ++i)
    if (i->second.id == id) {
      ++st.refused["handshake_timeout"];
      st.handshakes.erase(i);
      return;
    }
}

cluster_stats on_stats(primary_ptr self) {
  auto& st = self->state;
  return {st.refused, st.peers.size(), st.handshakes.size(),
          st.replicas.size()};
}

/// A replica joins or asks to resync: it gets a patch from its version when
/// that is still ours, else a full snapshot, and is in the stream from then.
void on_hello(primary_ptr self, hello& h) {
  auto& st = self->state;
  auto peer = authenticated(self, h.session, "hello");
  if (!peer)
    return;
  // The name is the one the peer proved, and no other connected replica
  // holds it.
  if (h.node != peer->name) {
    refuse(self, "name_mismatch", "hello");
    return;
  }
  auto link = caf::actor_cast<replica_link_actor>(self->current_sender());
  if (name_taken(self, h.node, link.address())) {
    refuse(self, "name_taken", "hello");
    return;
  }
  if (st.replicas.count(h.node) == 0
      && st.replicas.size() >= st.options.max_replicas) {
    refuse(self, "too_many_replicas", "hello");
    return;
  }
  auto& r = st.replicas[h.node];
  if (r.link != link) {
    if (r.link)
      self->demonitor(r.link.address());
    r.link = link;
    self->monitor(link);
  }
  r.session = peer->session;
  r.secrets = h.secrets;
  r.state = replica_state::syncing;
  detail::log().info("event=replica_hello node=\"{}\" last_version={} "
                     "cluster_id={} secrets={}",
                     h.node, h.last_version,
                     h.cluster_id.empty() ? "-" : h.cluster_id,
                     h.secrets ? "sent" : "masked");
  auto& cur = st.current;
  auto& opts = st.options;
  auto masked = !h.secrets;
  // A history of another cluster has no version in common with ours, even
  // one of the same number: it gets everything (and refuses it, until an
  // operator resyncs it).
  auto foreign = !h.cluster_id.empty() && h.cluster_id != opts.cluster_id;
  if (h.last_version == 0 || h.last_version > cur->version || foreign) {
    start_stream(self, h.node, link, full_of(opts, *cur, masked));
    return;
  }
  if (h.last_version == cur->version) {
    if (h.last_hash == cur->hash)
      start_stream(self, h.node, link, step(opts, *cur, *cur, masked));
    else
      start_stream(self, h.node, link, full_of(opts, *cur, masked));
    return;
  }
  // Older: patch from the history if the store still has that version.
  self->request(st.store, caf::infinite, get_atom::value, h.last_version)
    .then(
      [self, h, link, masked](snapshot_ptr& old) {
        auto& st = self->state;
        auto& cur = *st.current;
        if (old->hash == h.last_hash)
          start_stream(self, h.node, link,
                       step(st.options, *old, cur, masked));
        else
          start_stream(self, h.node, link, full_of(st.options, cur, masked));
      },
      [self, h, link, masked](caf::error&) {
        auto& st = self->state;
        start_stream(self, h.node, link,
                     full_of(st.options, *st.current, masked));
      });
}

/// A replica applied every version up to `a.version`.
void on_ack(primary_ptr self, ack& a) {
  auto& st = self->state;
  auto peer = authenticated(self, a.session, "ack");
  if (!peer)
    return;
  // Only the connection bound to the replica's name, under the name it
  // proved last, acks for it.
  auto i = st.replicas.find(a.node);
  if (a.node != peer->name || i == st.replicas.end() || !i->second.link
      || i->second.link.address() != self->current_sender()->address()) {
    refuse(self, "not_owner", "ack");
    return;
  }
  auto& r = i->second;
  r.acked_version = a.version;
  r.acked_hash = std::move(a.hash);
  r.last_ack_ms = now_ms();
  settle(self);
}

/// A write answered once `level` replicas applied it, or at the timeout
/// (0: the primary's write_timeout) with who is missing.
caf::result<consistent_write_result>
on_consistent_write(primary_ptr self, write_request& req, consistency level,
                    uint32_t timeout_ms) {
  auto rp = self->make_response_promise<consistent_write_result>();
  auto timeout = timeout_ms == 0 ? self->state.options.write_timeout
                                 : std::chrono::milliseconds{timeout_ms};
  auto counted = level != consistency::local;
  if (counted)
    ++self->state.consistent_in_flight;
  self
    ->request(self->state.validator, caf::infinite, write_atom::value,
              std::move(req))
    .then(
      [self, rp, level, timeout, counted](write_result& res) mutable {
        auto& st = self->state;
        if (counted)
          --st.consistent_in_flight;
        primary_state::pending_write w;
        w.result = std::move(res);
        w.level = level;
        if (level != consistency::local && w.result.ok())
          for (auto& [node, r] : st.replicas)
            w.targets.push_back(node);
        if (!w.result.ok() || st.satisfied(w)) {
          rp.deliver(st.answer(w));
          return;
        }
        w.promise = std::move(rp);
        auto id = st.next_write++;
        st.pending.emplace(id, std::move(w));
        self->delayed_send(self, timeout, timeout_atom::value, st.cookie, id);
      },
      [self, rp, counted](caf::error& err) mutable {
        if (counted)
          --self->state.consistent_in_flight;
        rp.deliver(std::move(err));
      });
  return rp;
}

/// A consistent write's time is up: answered with what was reached.
void on_write_timeout(primary_ptr self, uint64_t id) {
  auto& st = self->state;
  auto i = st.pending.find(id);
  if (i == st.pending.end())
    return;
  auto out = st.answer(i->second);
  detail::log().warn("event=write_consistency_timeout version={} level={} "
                     "missing={}",
                     out.result.version, to_string(out.level),
                     out.missing.size());
  i->second.promise.deliver(std::move(out));
  st.pending.erase(i);
}

/// `forget_after` passed since `node` went down: forgotten unless it came
/// back (or went down again: a later `epoch`) meanwhile.
void on_forget_timer(primary_ptr self, const std::string& node,
                     uint64_t epoch) {
  auto& st = self->state;
  auto i = st.replicas.find(node);
  if (i != st.replicas.end() && !i->second.link && i->second.epoch == epoch)
    forget(self, node, "disconnected_too_long");
}

/// Asked to forget `node`: only a disconnected replica can be.
caf::result<bool> on_forget(primary_ptr self, const std::string& node) {
  auto& st = self->state;
  if (!from_local_client(self, "forget"))
    return refused_error("forget");
  auto i = st.replicas.find(node);
  if (i == st.replicas.end())
    return make_error(errc::not_found, "no replica named " + node);
  if (i->second.link)
    return make_error(errc::invalid_argument,
                      "replica " + node
                        + " is connected: stop it before forgetting it");
  forget(self, node, "asked");
  return true;
}

/// Every known replica as the primary sees it.
std::vector<replica_info> on_replicas(primary_ptr self) {
  auto& st = self->state;
  std::vector<replica_info> out;
  auto version = st.current ? st.current->version : 0;
  for (auto& [node, r] : st.replicas)
    out.push_back(replica_info{
      node, r.state, r.acked_version, r.acked_hash,
      version > r.acked_version ? version - r.acked_version : 0,
      r.last_ack_ms});
  return out;
}

/// A write a replica forwards: only from an authenticated peer, in its
/// session. It is recorded as the writer the replica's API admitted, via the
/// name the replica proved ("api:alice via mars"), or as that name alone
/// ("node:mars"): a replica cannot pass a write off as anyone's but its
/// writers' through itself (a file source's, another node's).
caf::result<consistent_write_result> on_linked_write(primary_ptr self,
                                                     linked_write& w) {
  auto peer = authenticated(self, w.session, "write");
  if (!peer)
    return refused_error("write");
  w.request.origin = w.request.origin.empty()
                       ? "node:" + peer->name
                       : w.request.origin + " via " + peer->name;
  return on_consistent_write(self, w.request, w.level, w.timeout_ms);
}

/// Whether a timer message carries our cookie (else it is forged).
bool own_timer(primary_ptr self, uint64_t cookie, const char* what) {
  if (cookie == self->state.cookie)
    return true;
  refuse(self, "forged_self", what);
  return false;
}

primary_impl::behavior_type primary(primary_ptr self, store_backend_actor store,
                                    validator_actor validator,
                                    primary_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.cookie = std::random_device{}();
  st.cookie = (st.cookie << 32) ^ std::random_device{}();
  st.store = std::move(store);
  st.validator = std::move(validator);
  become_tap(self);
  self->set_down_handler(
    [self](const caf::down_msg& msg) { on_replica_down(self, msg); });
  // A peer may send anything: what no handler takes is dropped and counted
  // (CAF would print it), and a bare error (CAF would end the actor with
  // it) too.
  self->set_default_handler(
    [self](caf::scheduled_actor* ptr, caf::message_view& x) {
      refuse(self, "unexpected", "message");
      return caf::drop(ptr, x);
    });
  self->set_error_handler([self](caf::scheduled_actor*, caf::error&) {
    refuse(self, "unexpected", "error");
  });
  return {
    [self](publish_atom, snapshot_ptr& before, snapshot_ptr& after) {
      if (self->current_sender()
          != caf::actor_cast<caf::strong_actor_ptr>(self->state.store)) {
        refuse(self, "not_local", "publish");
        return;
      }
      on_publish(self, before, after);
    },
    [self](auth_atom) { return on_auth(self); },
    [self](auth_proof& p) { return on_auth_proof(self, p); },
    [self](handshake_timeout_atom, uint64_t cookie, uint64_t id) {
      if (own_timer(self, cookie, "handshake_timeout"))
        on_handshake_timeout(self, id);
    },
    [self](hello& h) { on_hello(self, h); },
    [self](ack& a) { on_ack(self, a); },
    [self](linked_write& w) { return on_linked_write(self, w); },
    // Plain writes come from this process only: the validator answers the
    // local writer directly, and never a remote one (which would put it in
    // CAF's registry, where any peer could address it; docs/SECURITY.md).
    [self](write_atom,
           write_request& req) -> caf::result<write_result> {
      if (!from_local_client(self, "write"))
        return refused_error("write");
      return self->delegate(self->state.validator, write_atom::value,
                            std::move(req));
    },
    [self](write_atom, write_request& req, consistency level,
           uint32_t timeout_ms) -> caf::result<consistent_write_result> {
      if (!from_local_client(self, "write"))
        return refused_error("write");
      return on_consistent_write(self, req, level, timeout_ms);
    },
    [self](timeout_atom, uint64_t cookie, uint64_t id) {
      if (own_timer(self, cookie, "write_timeout"))
        on_write_timeout(self, id);
    },
    [self](forget_atom, const std::string& node, uint64_t epoch,
           uint64_t cookie) {
      if (own_timer(self, cookie, "forget_timer"))
        on_forget_timer(self, node, epoch);
    },
    [self](forget_atom, const std::string& node) {
      return on_forget(self, node);
    },
    [self](replicas_atom) -> caf::result<std::vector<replica_info>> {
      // The list names the replicas: for this process and the cluster's
      // authenticated peers only.
      auto& sender = self->current_sender();
      if (untrusted_sender(self) == nullptr
          && (sender->node() == self->node()
              || self->state.peers.count(sender->address()) > 0))
        return on_replicas(self);
      refuse(self, "unauthenticated", "replicas");
      return refused_error("replicas");
    },
    [self](stats_atom) -> caf::result<cluster_stats> {
      if (!from_local_client(self, "stats"))
        return refused_error("stats");
      return on_stats(self);
    },
  };
}

} // namespace

primary_actor spawn_primary(caf::actor_system& sys, store_backend_actor store,
                            validator_actor validator,
                            primary_options options) {
  return sys.spawn(primary, std::move(store), std::move(validator),
                   std::move(options));
}

} // namespace cfgactors

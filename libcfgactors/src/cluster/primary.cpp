// The primary: the replication stream and consistent writes. Who may send
// it what (the actor-level handshake, names, sessions) is primary_auth.cpp.
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
#include "cluster/primary_auth.hpp"
#include "cluster/primary_state.hpp"
#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "core/log.hpp"

namespace cfgactors {

namespace {

using namespace detail;


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
  auto tree = s.effective.to_json();
  if (s.secrets)
    s.secrets->mask(tree);
  return tree;
}

/// The version for a replica; `masked`: for one that does not receive
/// secrets, which never gets a secret value (layers included).
full_snapshot full_of(const primary_options& opts, const snapshot& s,
                      bool masked) {
  full_snapshot out{s.version,     s.hash,          s.timestamp_ms,
                    s.origin,      s.layers.to_json(), s.effective.to_json(),
                    secrets_of(s), opts.cluster_id, opts.epoch,
                    {},            {},
                    s.author,      s.reason};
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
                        {},
                        to.author,
                        to.reason};
  if (masked && (from.secrets || to.secrets)) {
    auto after = masked_tree(to);
    out.patch = json_patch(masked_tree(from), after);
    if (to.secrets)
      out.masked_hash = canonical_hash(after);
  } else if (to.changes && to.changes_from == from.version) {
    // The paths the write found: no diff of whole trees.
    out.patch = json_patch_at(from.effective, to.effective, *to.changes);
  } else {
    out.patch = json_patch(*from.effective, *to.effective);
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

/// Whether two versions mark the same paths secret; most share one set, so
/// this is a pointer comparison on the hot path.
bool same_secrets(const snapshot& x, const snapshot& y) {
  if (x.secrets == y.secrets)
    return true;
  auto empty = [](const snapshot& s) {
    return !s.secrets || s.secrets->patterns().empty();
  };
  if (empty(x) || empty(y))
    return empty(x) && empty(y);
  return x.secrets->patterns() == y.secrets->patterns();
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
  if (before->hash == after->hash && same_secrets(*before, *after))
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
        // A dry run made no version: nothing for a replica to ack.
        auto made = res.ok() && res.status != write_status::accepted;
        if (st.options.follower && level != consistency::local && made) {
          auto ms = static_cast<uint32_t>(timeout.count());
          self
            ->request(st.options.follower, timeout + std::chrono::seconds{2},
                      detail::await_atom::value, std::move(res), level, ms)
            .then(
              [rp](consistent_write_result& out) mutable {
                rp.deliver(std::move(out));
              },
              [rp](caf::error& err) mutable { rp.deliver(std::move(err)); });
          return;
        }
        primary_state::pending_write w;
        w.result = std::move(res);
        w.level = level;
        if (level != consistency::local && made)
          for (auto& [node, r] : st.replicas)
            w.targets.push_back(node);
        if (!made || st.satisfied(w)) {
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

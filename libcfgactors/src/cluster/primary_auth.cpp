// The primary's gate at the actor level: the handshake by which a peer
// proves the cluster secret to the primary actor, and the checks that bind
// every later message to a proved name and session (docs/SECURITY.md).
#include "cluster/primary_auth.hpp"

#include "cfgactors/errc.hpp"
#include "cluster/cluster_auth.hpp"
#include "core/log.hpp"

namespace cfgactors::detail {

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

/// Whether a timer message carries our cookie (else it is forged).
bool own_timer(primary_ptr self, uint64_t cookie, const char* what) {
  if (cookie == self->state.cookie)
    return true;
  refuse(self, "forged_self", what);
  return false;
}

} // namespace cfgactors::detail

// Private: the primary actor's state and message interface, shared by the
// files that make up the primary (primary.cpp: the stream and consistent
// writes; primary_auth.cpp: who may send what).
#pragma once

#include <algorithm>
#include <map>
#include <set>
#include <string>
#include <unordered_map>
#include <vector>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cluster/primary.hpp"

namespace cfgactors::detail {

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

} // namespace cfgactors::detail

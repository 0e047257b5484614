// What primary and replicas say to each other: the wire types of the cluster.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/error.hpp>
#include <caf/meta/load_callback.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/none.hpp>
#include <caf/sec.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/json_inspect.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/replica_state.hpp"
#include "cfgactors/write_result.hpp"

namespace cfgactors {

/// A replica introduces itself (also to ask for a resync): the primary
/// answers with a patch from `last_version` when its history still has that
/// version with that hash, else with a full snapshot. `last_version` 0 always
/// asks for a full snapshot.
struct hello {
  std::string node;
  uint64_t last_version = 0;
  std::string last_hash;
  std::string session; ///< from the handshake (auth_accept)
  /// The cluster whose history the replica holds (empty: none yet, or an
  /// operator's resync): a primary of another cluster has no patch for it.
  std::string cluster_id;
  /// The replica is configured to receive secret values (cfgd
  /// --cluster-secrets); else the primary sends it every version masked.
  bool secrets = false;

  friend bool operator==(const hello& x, const hello& y) {
    return x.node == y.node && x.last_version == y.last_version
           && x.last_hash == y.last_hash && x.session == y.session
           && x.cluster_id == y.cluster_id && x.secrets == y.secrets;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, hello& x) {
  return f(caf::meta::type_name("hello"), x.node, x.last_version,
           x.last_hash, x.session, x.cluster_id, x.secrets);
}

// -- the handshake: a peer proves the cluster secret before anything else --
//
// peer -> primary   (auth_atom)              asks for a challenge
// primary -> peer   auth_challenge{nonce}    fresh, single-use, bound to the
//                                            asking actor (and its node id)
// peer -> primary   auth_proof               its own nonce and its MAC
// primary -> peer   auth_accept              the primary's MAC: mutual
//
// Both then derive the same session (cluster_auth.hpp) that every later
// hello, ack and write of the peer carries.

/// The primary's fresh nonce for one peer.
struct auth_challenge {
  std::string nonce;

  friend bool operator==(const auth_challenge& x, const auth_challenge& y) {
    return x.nonce == y.nonce;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_challenge& x) {
  return f(caf::meta::type_name("auth_challenge"), x.nonce);
}

/// The peer's answer: HMAC-SHA256(secret, "cfgactors-cluster-v1 client" |
/// primary_nonce | peer_nonce | node | the peer's CAF node id), hex.
struct auth_proof {
  std::string node;
  std::string primary_nonce;
  std::string peer_nonce;
  std::string mac;

  friend bool operator==(const auth_proof& x, const auth_proof& y) {
    return x.node == y.node && x.primary_nonce == y.primary_nonce
           && x.peer_nonce == y.peer_nonce && x.mac == y.mac;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_proof& x) {
  return f(caf::meta::type_name("auth_proof"), x.node, x.primary_nonce,
           x.peer_nonce, x.mac);
}

/// The primary's proof over the same context with the "server" label.
struct auth_accept {
  std::string mac;

  friend bool operator==(const auth_accept& x, const auth_accept& y) {
    return x.mac == y.mac;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, auth_accept& x) {
  return f(caf::meta::type_name("auth_accept"), x.mac);
}

/// One step of the stream: the RFC 6902 patch from `prev_version` to
/// `version`. `version == prev_version` with an empty patch confirms that a
/// replica is in sync.
struct replicated_change {
  uint64_t version = 0;
  uint64_t prev_version = 0;
  std::string hash; ///< canonical_hash of the patched tree
  int64_t timestamp_ms = 0;
  std::string origin;
  json patch = json::array();
  /// A write waits for this version's acks: ack it at once rather than
  /// after the replica's ack delay.
  bool ack_now = false;
  /// The version's secret paths (cfgactors/secrets.hpp): a replica masks
  /// what its primary masks.
  std::vector<std::string> secrets;
  /// The primary's cluster (created with its journal) and incarnation
  /// (counts the journal's openings): a replica follows one cluster's
  /// history and never goes back in it without an operator's resync.
  std::string cluster_id;
  uint64_t epoch = 0;
  /// Set when the patch leads to the masked tree (every value at a secret
  /// path `***`) of a replica that does not receive secrets: the
  /// canonical_hash of that masked tree, which the replica checks instead
  /// of `hash` (still the true tree's, which it reports and acks).
  std::string masked_hash;
  /// HMAC with the replica's session over everything but the patch (which
  /// the hash checks): BASP lets a peer make a message look as if the
  /// primary sent it, not sign it.
  std::string mac;
  /// Who wrote the version and why (snapshot::author, ::reason), signed
  /// with the other fields: a replica's history shows what its primary's
  /// does.
  std::string author;
  std::string reason;

  friend bool operator==(const replicated_change& x,
                         const replicated_change& y) {
    return x.version == y.version && x.prev_version == y.prev_version
           && x.hash == y.hash && x.timestamp_ms == y.timestamp_ms
           && x.origin == y.origin && x.patch == y.patch
           && x.ack_now == y.ack_now && x.secrets == y.secrets
           && x.cluster_id == y.cluster_id && x.epoch == y.epoch
           && x.masked_hash == y.masked_hash && x.mac == y.mac
           && x.author == y.author && x.reason == y.reason;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replicated_change& x) {
  return f(caf::meta::type_name("replicated_change"), x.version,
           x.prev_version, x.hash, x.timestamp_ms, x.origin,
           json_field{x.patch}, x.ack_now, x.secrets, x.cluster_id, x.epoch,
           x.masked_hash, x.mac, x.author, x.reason);
}

/// The whole configuration at one version, for a replica that cannot be
/// patched (new, too far behind, or out of step).
struct full_snapshot {
  uint64_t version = 0;
  std::string hash;
  int64_t timestamp_ms = 0;
  std::string origin;
  json layers = json::array(); ///< layer_stack::to_json()
  json effective = json::object();
  std::vector<std::string> secrets; ///< as in replicated_change
  std::string cluster_id;           ///< as in replicated_change
  uint64_t epoch = 0;               ///< as in replicated_change
  /// As in replicated_change: set when `effective` and `layers` are masked.
  std::string masked_hash;
  /// As in replicated_change; covers the layers too (the hash covers the
  /// effective tree).
  std::string mac;
  std::string author; ///< as in replicated_change
  std::string reason; ///< as in replicated_change

  friend bool operator==(const full_snapshot& x, const full_snapshot& y) {
    return x.version == y.version && x.hash == y.hash
           && x.timestamp_ms == y.timestamp_ms && x.origin == y.origin
           && x.layers == y.layers && x.effective == y.effective
           && x.secrets == y.secrets && x.cluster_id == y.cluster_id
           && x.epoch == y.epoch && x.masked_hash == y.masked_hash
           && x.mac == y.mac && x.author == y.author && x.reason == y.reason;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, full_snapshot& x) {
  return f(caf::meta::type_name("full_snapshot"), x.version, x.hash,
           x.timestamp_ms, x.origin, json_field{x.layers},
           json_field{x.effective}, x.secrets, x.cluster_id, x.epoch,
           x.masked_hash, x.mac, x.author, x.reason);
}

/// A replica applied `version` (whose tree hashes to `hash`) and every
/// version before it: acks are cumulative.
struct ack {
  std::string node;
  uint64_t version = 0;
  std::string hash;
  std::string session; ///< from the handshake

  friend bool operator==(const ack& x, const ack& y) {
    return x.node == y.node && x.version == y.version && x.hash == y.hash
           && x.session == y.session;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, ack& x) {
  return f(caf::meta::type_name("ack"), x.node, x.version, x.hash,
           x.session);
}

/// How many nodes must have applied a write before it is answered.
enum class consistency : uint8_t {
  local,    ///< durable on the primary
  majority, ///< a majority of the cluster (primary included)
  all,      ///< every replica the primary knows
};

std::string to_string(consistency x);

/// Parses `local`, `majority` or `all`.
std::optional<consistency> parse_consistency(std::string_view text);

/// The answer to a write with a consistency level: the write's own result
/// plus which replicas had applied it when the answer was given.
struct consistent_write_result {
  write_result result;
  consistency level = consistency::local;
  bool satisfied = false;            ///< the level was reached in time
  std::vector<std::string> acked;    ///< replicas that applied the version
  std::vector<std::string> missing;  ///< replicas that did not (in time)

  friend bool operator==(const consistent_write_result& x,
                         const consistent_write_result& y) {
    return x.result == y.result && x.level == y.level
           && x.satisfied == y.satisfied && x.acked == y.acked
           && x.missing == y.missing;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        consistent_write_result& x) {
  return f(caf::meta::type_name("consistent_write_result"), x.result, x.level,
           x.satisfied, x.acked, x.missing);
}

/// A write a replica forwards to its primary: the session proves which
/// authenticated replica sends it; `request.origin` is the writer the
/// replica's own API admitted ("api:alice"), recorded as is.
struct linked_write {
  std::string session;
  write_request request;
  consistency level = consistency::local;
  uint32_t timeout_ms = 0;

  friend bool operator==(const linked_write& x, const linked_write& y) {
    return x.session == y.session && x.request == y.request
           && x.level == y.level && x.timeout_ms == y.timeout_ms;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, linked_write& x) {
  return f(caf::meta::type_name("linked_write"), x.session, x.request,
           x.level, x.timeout_ms);
}

/// How the primary sees one replica.
struct replica_info {
  std::string node;
  /// syncing, connected or disconnected (stale is a replica's own view)
  replica_state state = replica_state::syncing;
  uint64_t acked_version = 0;
  std::string acked_hash;
  uint64_t lag = 0;          ///< primary's version minus acked_version
  int64_t last_ack_ms = 0;   ///< when the last ack arrived (Unix ms)

  friend bool operator==(const replica_info& x, const replica_info& y) {
    return x.node == y.node && x.state == y.state
           && x.acked_version == y.acked_version && x.acked_hash == y.acked_hash
           && x.lag == y.lag && x.last_ack_ms == y.last_ack_ms;
  }
};

/// The state travels as its name (to_string), as it did when it was a
/// string: a node of an older build reads it unchanged, and a name this
/// build does not know fails to load rather than turning into a default.
template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_info& x) {
  std::string state;
  if constexpr (Inspector::reads_state)
    state = to_string(x.state);
  auto load = [&]() -> caf::error {
    if (!from_string(state, x.state))
      return caf::make_error(caf::sec::invalid_argument,
                             "unknown replica state \"" + state + "\"");
    return caf::none;
  };
  return f(caf::meta::type_name("replica_info"), x.node, state,
           caf::meta::load_callback(load), x.acked_version, x.acked_hash,
           x.lag, x.last_ack_ms);
}

/// How a replica sees itself.
struct replica_status {
  std::string node;
  bool connected = false; ///< linked to a primary and in sync with its stream
  bool stale = true;      ///< not connected: serving the last good snapshot
  uint64_t version = 0;
  std::string hash;
  /// Full snapshots asked for: after a gap or a mismatch, or an operator's
  /// resync.
  uint64_t resyncs = 0;
  uint64_t reconnects = 0;
  /// Why it is stale ("no connection to its primary", or why it refuses
  /// its primary's stream); empty when it is not.
  std::string reason;
  std::string cluster_id; ///< the cluster it follows (empty: none yet)
  uint64_t epoch = 0;     ///< the incarnation of the primary it synced with

  /// `stale` without a primary or refusing its stream, else `connected`
  /// once in its stream, else `syncing`.
  replica_state state() const noexcept {
    if (stale)
      return replica_state::stale;
    return connected ? replica_state::connected : replica_state::syncing;
  }

  friend bool operator==(const replica_status& x, const replica_status& y) {
    return x.node == y.node && x.connected == y.connected
           && x.stale == y.stale && x.version == y.version && x.hash == y.hash
           && x.resyncs == y.resyncs && x.reconnects == y.reconnects
           && x.reason == y.reason && x.cluster_id == y.cluster_id
           && x.epoch == y.epoch;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, replica_status& x) {
  return f(caf::meta::type_name("replica_status"), x.node, x.connected,
           x.stale, x.version, x.hash, x.resyncs, x.reconnects, x.reason,
           x.cluster_id, x.epoch);
}

} // namespace cfgactors

// Private: the primary streams every committed version to the replicas and
// coordinates writes with a consistency level. A service gets one through
// node::primary with a cluster port.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>

#include "core/internal_actor_types.hpp"
#include "etcd/etcd_actor_types.hpp"

namespace cfgactors {

struct primary_options {
  std::string node = "primary";
  /// Timeout of a majority/all write that names none.
  std::chrono::milliseconds write_timeout{5000};
  /// A replica disconnected this long is forgotten: no longer listed, no
  /// longer waited for by `all` writes (0 = keep every replica until told
  /// to forget it). Replicas with new names (a redeploy) would otherwise
  /// make every `all` write fail forever.
  std::chrono::milliseconds forget_after{std::chrono::minutes{10}};
  /// The shared cluster secret every peer proves before any other message
  /// of it is handled. Empty: peers prove the empty secret, which anyone
  /// can; node::primary allows that on a loopback address only.
  std::string secret;
  /// Replicas known at most (connected or not): a hello with a new name
  /// beyond it is refused.
  std::size_t max_replicas = 256;
  /// Handshakes under way at most, and per peer node.
  std::size_t max_pending = 64;
  std::size_t max_pending_per_node = 4;
  /// A peer that does not finish its handshake in time is forgotten.
  std::chrono::milliseconds handshake_timeout{10000};
  /// The cluster whose history the store holds and this incarnation of the
  /// primary (pipeline_core): every stream message carries both, signed.
  std::string cluster_id;
  uint64_t epoch = 0;
  /// etcd mode: `majority`/`all` count the cfgd nodes in etcd (which the
  /// follower knows), not this node's local replicas.
  detail::etcd_follower_actor follower;
};

/// Spawns the primary over a running store and validator: it becomes the
/// store's replication tap, answers hellos, streams each change to every
/// replica, and coordinates writes with a consistency level. Publish it with
/// the middleman to let replicas of other processes join.
primary_actor spawn_primary(caf::actor_system& sys, store_backend_actor store,
                            validator_actor validator,
                            primary_options options);

} // namespace cfgactors

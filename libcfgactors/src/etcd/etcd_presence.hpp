// Private: a node's record in etcd (`nodes/<name>`: its applied version and
// hash, its address, its state) under a lease the actor keeps alive. The
// record goes when the lease does: a node that died or lost etcd for longer
// than the lease is no longer counted by `majority`/`all` writes.
#pragma once

#include <chrono>
#include <string>

#include <caf/actor_system.hpp>

#include "etcd/etcd_actor_types.hpp"
#include "etcd/etcd_client.hpp"

namespace cfgactors::detail {

struct etcd_presence_options {
  etcd_options client;
  std::string cluster;
  std::string node;
  std::string address; ///< where its API is reached, shown in /nodes
  /// The lease's time to live; it is renewed every third of it.
  std::chrono::seconds ttl{5};
  etcd_counters_ptr counters;
  /// Told whether etcd answers (`health`): the follower reports stale.
  etcd_follower_actor follower;
};

/// A detached actor (its client blocks).
etcd_presence_actor spawn_etcd_presence(caf::actor_system& sys,
                                        etcd_presence_options options);

} // namespace cfgactors::detail

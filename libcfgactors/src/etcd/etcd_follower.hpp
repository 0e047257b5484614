// Private: a node's one watch on etcd (`/cfgactors/<cluster>/` from the
// revision it synced at + 1). It hands each version record to the
// validator in etcd's order, keeps the table of live nodes for `/nodes` and
// for `majority`/`all` writes, and says whether the node is stale (no
// watch, or etcd not answering), which its subscribers hear.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "core/internal_actor_types.hpp"
#include "etcd/etcd_actor_types.hpp"
#include "etcd/etcd_client.hpp"
#include "pipeline/validator_state.hpp"

namespace cfgactors::detail {

class secret_box;

struct etcd_follower_options {
  etcd_options client;
  std::string cluster;
  std::string node;
  validator_impl validator;
  store_actor store;
  topic_router_actor router;
  etcd_committer_actor committer;
  etcd_presence_actor presence;
  etcd_counters_ptr counters;
  std::shared_ptr<const secret_box> box; ///< opens sealed secrets
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{2000};
};

etcd_follower_actor spawn_etcd_follower(caf::actor_system& sys,
                                        etcd_follower_options options);

} // namespace cfgactors::detail

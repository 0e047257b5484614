// Private: the one actor of a node that commits to etcd and reads the
// cluster's state from it. A detached actor: the client blocks (one call at
// a time, on a connection of its own), the scheduler's threads never do.
#pragma once

#include <cstddef>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "cfgactors/node_options.hpp"

#include "etcd/etcd_actor_types.hpp"
#include "etcd/etcd_client.hpp"

namespace cfgactors::detail {

class secret_box;

/// What a commit's transaction holds besides the record (the head, the
/// compares, an idempotency key, the retention delete): a record stored in
/// one request may take max_request_bytes less this.
inline constexpr std::size_t etcd_other_operations_bytes = 4096;

struct etcd_committer_options {
  etcd_options client;
  std::string cluster;
  /// Versions kept in etcd (0: all); older records are deleted in the
  /// transaction that commits a new one. Each node's journal keeps more.
  std::size_t history = 1000;
  /// The largest request etcd takes (its --max-request-bytes; 1.5 MiB by
  /// default): a commit whose request would be larger is refused here,
  /// naming both sizes, not sent to be refused by etcd in its own words.
  std::size_t max_request_bytes = etcd_default_max_request_bytes;
  etcd_counters_ptr counters;
  /// Seals secret values in records (version_record.hpp); null: plain.
  std::shared_ptr<const secret_box> box;
};

etcd_committer_actor spawn_etcd_committer(caf::actor_system& sys,
                                          etcd_committer_options options);

} // namespace cfgactors::detail

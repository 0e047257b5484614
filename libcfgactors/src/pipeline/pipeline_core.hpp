// Private: the pipeline with the store's whole interface (commit, the
// replication tap), which only the validator and the primary may use.
#pragma once

#include <cstdint>
#include <optional>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "cfgactors/pipeline.hpp"
#include "core/internal_actor_types.hpp"
#include "etcd/etcd_actor_types.hpp"
#include "pipeline/validator_state.hpp"

namespace cfgactors::detail {

struct pipeline_core {
  topic_router_actor router;
  store_backend_actor store;
  validator_actor validator;
  /// The same validator with its private interface (etcd mode adopts other
  /// nodes' versions through it).
  validator_impl validator_ext;
  /// The history's cluster id and this opening's epoch (journal.hpp); without
  /// a journal, a fresh id and the start time in ms: nothing survives the
  /// process, so each run is a cluster of its own.
  std::string cluster_id;
  uint64_t epoch = 0;
  bool durable = false; ///< versions are written to a journal

  /// The same actors as the public handles.
  pipeline handles() const {
    return {router, store, validator};
  }
};

/// What `open_pipeline` spawns (see cfgactors/pipeline.hpp); with `etcd`,
/// a validator that commits through etcd.
caf::expected<pipeline_core>
open_pipeline_core(caf::actor_system& sys, pipeline_options options,
                   std::optional<etcd_hooks> etcd = std::nullopt);

} // namespace cfgactors::detail

// Private: the pipeline with the store's whole interface (commit, the
// replication tap), which only the validator and the primary may use.
#pragma once

#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "cfgactors/pipeline.hpp"
#include "core/internal_actor_types.hpp"

namespace cfgactors::detail {

struct pipeline_core {
  topic_router_actor router;
  store_backend_actor store;
  validator_actor validator;
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

/// What `open_pipeline` spawns (see cfgactors/pipeline.hpp).
caf::expected<pipeline_core> open_pipeline_core(caf::actor_system& sys,
                                                pipeline_options options);

} // namespace cfgactors::detail

// Private: the pipeline with the store's whole interface (commit, the
// replication tap), which only the validator and the primary may use.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "cfgactors/pipeline.hpp"
#include "core/internal_actor_types.hpp"

namespace cfgactors::detail {

struct pipeline_core {
  topic_router_actor router;
  store_backend_actor store;
  validator_actor validator;

  /// The same actors as the public handles.
  pipeline handles() const {
    return {router, store, validator};
  }
};

/// What `open_pipeline` spawns (see cfgactors/pipeline.hpp).
caf::expected<pipeline_core> open_pipeline_core(caf::actor_system& sys,
                                                pipeline_options options);

} // namespace cfgactors::detail

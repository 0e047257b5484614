// One node's write path, spawned together: validator → store → topic router.
#pragma once

#include <caf/actor_system.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/store.hpp"
#include "cfgactors/validator.hpp"

namespace cfgactors {

struct pipeline_options {
  validator_options validation;
  store_options storage;
};

struct pipeline {
  topic_router_actor router;
  store_actor store;
  validator_actor validator;
};

/// Spawns the three actors; they live until `shutdown` is called.
pipeline spawn_pipeline(caf::actor_system& sys, pipeline_options options);

/// Sends the three actors an exit message.
void shutdown(const pipeline& p);

} // namespace cfgactors

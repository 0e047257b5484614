// One node's write path, spawned together: validator → store → topic router.
#pragma once

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

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

/// Spawns the three actors; they live until `shutdown` is called. The store
/// keeps its history in memory: `options.storage.data_dir` must be empty
/// (opening a journal can fail; that is `open_pipeline`'s job).
pipeline spawn_pipeline(caf::actor_system& sys, pipeline_options options);

/// Spawns the three actors like `spawn_pipeline`. With
/// `options.storage.data_dir` set, first opens the journal there and restores
/// the newest version (its layers, so the runtime layer too) and the history
/// ring from it; the store then runs on a thread of its own, as every commit
/// waits for the disk. Fails, spawning nothing, with errc::store_failed
/// naming the database file and what is wrong with it: a corrupt, foreign or
/// unwritable database is never replaced by an empty one.
caf::expected<pipeline> open_pipeline(caf::actor_system& sys,
                                      pipeline_options options);

/// Sends the three actors an exit message.
void shutdown(const pipeline& p);

} // namespace cfgactors

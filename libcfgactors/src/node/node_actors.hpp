// Private: the actors a node spawns for its readers and subscribers.
#pragma once

#include <functional>
#include <memory>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/snapshot_cell.hpp"

namespace cfgactors::detail {

/// Subscribes to `store` with prefix "" and publishes every version into
/// `cell`, in the order of the store's change stream.
caf::actor spawn_cell_updater(caf::actor_system& sys,
                              std::shared_ptr<snapshot_cell> cell,
                              store_actor store);

/// Calls `fn` with each change it receives.
caf::actor spawn_callback_subscriber(caf::actor_system& sys,
                                     std::function<void(const change&)> fn);

/// Hands each change to `who` (which answers the router), and ends with it.
caf::actor spawn_forwarder(caf::actor_system& sys, subscriber_actor who);

} // namespace cfgactors::detail

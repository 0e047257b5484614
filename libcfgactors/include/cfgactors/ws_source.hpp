// ws_source: keeps a WebSocket to `{endpoint}/ws` open, registers, and
// applies the actions the server pushes to the layer `ws:<endpoint>`:
//   update_config{config}       the layer becomes `config`
//   set_feature{feature,enabled} `features.<feature>` (its `enabled` when the
//                                flag is an object with rollout or rules)
//   set_log_level{level}         `logging.level`
//   reload{overrides}            every other source re-reads; `overrides`
//                                becomes the runtime layer
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "cfgactors/actor_types.hpp"

namespace cfgactors {

struct ws_source_options {
  std::string endpoint; ///< `ws://host:port[/base]`; `/ws` is appended
  std::string token;    ///< sent as `Authorization: Bearer <token>` if set
  std::string service = "unknown"; ///< sent in the register message
  std::string service_version = "0.0.0";
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds connect_timeout{2000};
  store_actor store;                  ///< optional: current flags for set_feature
  std::vector<source_actor> reload;   ///< the sources `reload` re-reads
};

/// Spawns the source; the socket runs on its own I/O thread and hands every
/// message to the actor, which validates it and proposes the change.
/// Malformed messages and unknown actions are logged and skipped.
source_actor spawn_ws_source(caf::actor_system& sys,
                             validator_actor validator,
                             ws_source_options options);

} // namespace cfgactors

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
  std::string endpoint; ///< `ws://` or `wss://host:port[/base]`; `/ws` is appended
  std::string token;    ///< sent as `Authorization: Bearer <token>` if set
  std::string service = "unknown"; ///< sent in the register message
  std::string service_version = "0.0.0";
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds connect_timeout{2000};
  /// Silent this long, the connection is pinged; silent as long again, it
  /// counts as lost and the source reconnects.
  std::chrono::milliseconds heartbeat{15000};
  // wss: as http_source_options (CA, name check with SNI, mutual TLS).
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  store_actor store;                  ///< optional: current flags for set_feature
  std::vector<source_actor> reload;   ///< the sources `reload` re-reads
};

/// Checks the options without spawning: an empty error or why they are
/// unusable (a backoff, timeout or heartbeat that is not positive, an empty
/// service version), naming the field.
std::string options_error(const ws_source_options& options);

/// Spawns the source; the socket runs on its own I/O thread and hands every
/// message to the actor, which validates it and proposes the change.
/// Malformed messages and unknown actions are logged and skipped.
/// await_first_poll (http_source.hpp) works on it too: the first read is the
/// first connection that registered.
source_actor spawn_ws_source(caf::actor_system& sys,
                             validator_actor validator,
                             ws_source_options options);

} // namespace cfgactors

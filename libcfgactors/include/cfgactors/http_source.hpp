// http_source: polls `GET {endpoint}/config` of a config server (a `cfgd` or
// any server the seed's RemoteConfig talks to) and proposes the body as the
// layer `http:<endpoint>`.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

#include <caf/actor_system.hpp>

#include "cfgactors/actor_types.hpp"

namespace cfgactors {

struct http_source_options {
  std::string endpoint; ///< `http://host:port[/base]` or `https://…`
  std::string token;    ///< sent as `Authorization: Bearer <token>` if set
  std::chrono::milliseconds interval{5000};     ///< between good polls
  std::chrono::milliseconds max_backoff{60000}; ///< cap of the doubling delay
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds read_timeout{5000};
  std::size_t max_body = 4 * 1024 * 1024; ///< larger bodies are refused
};

/// Spawns the poller (in its own thread: HTTP calls block). The first poll
/// happens at once. 304 → unchanged; a failure keeps the last good layer and
/// retries after interval × 2^n (capped, ±20 % jitter); a body that is not a
/// JSON object, or that the validator refuses, counts as a failure.
source_actor spawn_http_source(caf::actor_system& sys,
                               validator_actor validator,
                               http_source_options options);

} // namespace cfgactors

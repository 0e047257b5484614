// The config server's HTTP routes, bridged to the pipeline's actors.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/pipeline.hpp"

#include "http_server.hpp"

namespace cfgd {

/// What the routes need: the actors to ask and how long to wait for them.
struct api_context {
  caf::actor_system& sys;
  cfgactors::pipeline nodes;
  std::vector<cfgactors::source_actor> sources; ///< lowest precedence first
  std::string node_name;
  std::chrono::milliseconds timeout{5000}; ///< per actor request; then 503
  uint32_t max_history = 100;              ///< default and cap of ?limit=
  cfgactors::primary_actor primary; ///< this node's node actor, on a primary
  cfgactors::replica_actor replica; ///< this node, on a replica (--join)
};

class authorizer;

/// GET /config, /config/<path>, /history, /diff, /sources (need a read token
/// when read tokens are configured) and /healthz (always open).
void add_read_routes(http::router& routes, std::shared_ptr<api_context> ctx,
                     std::shared_ptr<const authorizer> auth);

} // namespace cfgd

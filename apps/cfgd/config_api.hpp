// The config server's HTTP routes, bridged to the pipeline's actors.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>

#include "cfgactors/pipeline.hpp"

#include "http_server.hpp"

namespace cfgd {

/// What the routes need: the actors to ask and how long to wait for them.
struct api_context {
  caf::actor_system& sys;
  cfgactors::pipeline nodes;
  std::string node_name;
  std::chrono::milliseconds timeout{5000}; ///< per actor request; then 503
  uint32_t max_history = 100;              ///< default and cap of ?limit=
};

/// GET /config, /config/<path>, /history, /diff, /healthz.
void add_read_routes(http::router& routes, std::shared_ptr<api_context> ctx);

} // namespace cfgd

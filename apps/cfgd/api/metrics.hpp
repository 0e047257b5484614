// GET /metrics: the node's counters in the Prometheus text format (0.0.4),
// gathered from the actors at scrape time.
#pragma once

#include <memory>

#include "api/auth.hpp"
#include "api/reads.hpp"
#include "http/server.hpp"

namespace cfgd {

class ws_hub;
class ofrep_events;

void add_metrics_route(http::router& routes, api_context_ptr ctx,
                       std::shared_ptr<const authorizer> auth,
                       std::shared_ptr<const ws_hub> hub,
                       std::shared_ptr<const ofrep_events> events = nullptr);

} // namespace cfgd

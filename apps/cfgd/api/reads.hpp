// The config server's read routes, answered from the node's store (or its
// replica's mirror), its sources and its cluster view.
#pragma once

#include <memory>

#include "http/router.hpp"

namespace cfgd {

struct api_context;
class authorizer;

using api_context_ptr = std::shared_ptr<const api_context>;

/// GET /config, /config/<path>, /layers, /history, /diff (?from=&to=, or
/// ?last=N: the last N changes), /sources, /nodes
/// (need a read token when read tokens are configured) and /healthz (always
/// open).
void add_read_routes(http::router& routes, api_context_ptr ctx);

} // namespace cfgd

// OFREP on cfgd's port: POST /ofrep/v1/evaluate/flags/{key} and the bulk
// POST /ofrep/v1/evaluate/flags over the node's current snapshot (the
// mapping is cfgactors/ofrep.hpp's), and GET /ofrep/v1/events, the change
// stream (api/ofrep_events.hpp). Access is the reads' (a read token when
// reads need one), as a bearer token or an `X-API-Key` header.
#pragma once

#include <memory>

#include "api/auth.hpp"
#include "api/context.hpp"
#include "api/ofrep_events.hpp"
#include "http/router.hpp"

namespace cfgd {

/// The request path every OFREP client appends to its base URL.
constexpr const char* ofrep_events_path = "/ofrep/v1/events";

/// Registers the OFREP routes; `events` serves the event stream.
void add_ofrep_routes(http::router& routes, api_context_ptr ctx,
                      std::shared_ptr<ofrep_events> events);

} // namespace cfgd

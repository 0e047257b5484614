// GET /whoami: what the request's token may do, so that a client (the
// console) shows the right controls without trying a write to find out.
#pragma once

#include <memory>

#include "api/auth.hpp"
#include "http/router.hpp"

namespace cfgd {

/// GET /whoami needs no token: without one it answers the anonymous
/// identity (name "", no scope) with whether reads need a token; a token
/// that is not valid is 401, as on every other route. The answer names the
/// token's name and scopes, never the token.
void add_whoami_route(http::router& routes,
                      std::shared_ptr<const authorizer> auth);

} // namespace cfgd

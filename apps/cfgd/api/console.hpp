// GET /ui: the web console, a static page compiled into cfgd (api/
// console_assets.hpp) that speaks to the same API as every other client.
#pragma once

#include "http/router.hpp"

namespace cfgd {

/// GET /ui (a redirect to /ui/), /ui/ (index.html) and /ui/<file>. They
/// need no token: the page holds no data, it asks the API for it with the
/// token its user gives. Every answer carries the console's security
/// headers (a strict Content-Security-Policy, nosniff, no framing, no
/// referrer).
void add_console_routes(http::router& routes);

} // namespace cfgd

// Serves the embedded console files with their ETags and the headers that
// keep a page showing attacker-controlled config text safe: no script but
// the console's own, no framing, no sniffing.
#include "api/console.hpp"

#include <algorithm>
#include <string>
#include <string_view>

#include <boost/beast/http/field.hpp>

#include "api/console_assets.hpp"

namespace cfgd {

namespace {

namespace bhttp = boost::beast::http;

constexpr std::string_view prefix = "/ui/";

boost::beast::string_view beast_view(std::string_view x) {
  return {x.data(), x.size()};
}

/// A Host the CSP may name: a host name or address and a port, nothing that
/// could end the policy's directive (`;`, `,`, spaces, quotes). The host
/// guard admits any Host on a wildcard address, so it is checked here.
bool plain_host(std::string_view host) {
  return !host.empty() && host.size() <= 255
         && std::all_of(host.begin(), host.end(), [](char c) {
              return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
                     || (c >= '0' && c <= '9') || c == '.' || c == '-'
                     || c == ':' || c == '[' || c == ']';
            });
}

/// Scripts, styles, images and fetches from cfgd itself only; no inline
/// script or style (config values shown by the page can never run), no
/// plugins, no framing. `connect-src` names the WebSocket of this very host
/// as well: older browsers do not count ws: as 'self'.
std::string content_security_policy(const http::request& req) {
  std::string connect = "'self'";
  auto host = req[bhttp::field::host];
  if (plain_host({host.data(), host.size()}))
    connect += " ws://" + std::string{host.data(), host.size()};
  return "default-src 'self'; script-src 'self'; style-src 'self'; "
         "img-src 'self'; connect-src "
         + connect
         + "; object-src 'none'; base-uri 'none'; form-action 'none'; "
           "frame-ancestors 'none'";
}

void secure(http::response& res, const http::request& req) {
  res.set(bhttp::field::server, "cfgd");
  res.set("Content-Security-Policy", content_security_policy(req));
  res.set("X-Content-Type-Options", "nosniff");
  res.set(bhttp::field::x_frame_options, "DENY");
  res.set("Referrer-Policy", "no-referrer");
  // The policy names the Host: a cache must not hand one host's to another.
  res.set(bhttp::field::vary, "Host");
}

/// The embedded file named `name` exactly (no normalisation: `..`, `%2e`
/// and the like name no file and are 404), or nullptr. A handful of files:
/// a scan, with no order to keep between CMake and C++.
const console::asset* find_asset(std::string_view name) {
  auto last = console::assets + console::asset_count;
  auto i = std::find_if(console::assets, last, [name](const console::asset& a) {
    return a.name == name;
  });
  return i != last ? i : nullptr;
}

void serve_file(const http::request_context& rc, http::responder respond) {
  auto& req = rc.req;
  // rc.rest is the decoded rest of the path: `/ui/%2e%2e/` looks up `../`,
  // which is no file.
  auto name = rc.rest.empty() ? std::string_view{"index.html"}
                              : std::string_view{rc.rest};
  auto file = find_asset(name);
  if (file == nullptr) {
    auto res = http::error_response(req, http::status::not_found, "not found",
                                    {"no console file '" + rc.rest + "'"});
    secure(res, req);
    return respond(std::move(res));
  }
  auto unchanged = http::if_none_match(req, file->etag);
  http::response res{unchanged ? http::status::not_modified
                               : http::status::ok,
                     req.version()};
  secure(res, req);
  res.set(bhttp::field::etag, beast_view(file->etag));
  // Revalidated on every load: a new cfgd serves its own console at once.
  res.set(bhttp::field::cache_control, "no-cache");
  if (res.result() == http::status::ok) {
    res.set(bhttp::field::content_type, beast_view(file->content_type));
    res.body().assign(file->body.data(), file->body.size());
  }
  respond(std::move(res));
}

} // namespace

void add_console_routes(http::router& routes) {
  routes.add(http::verb::get, "/ui",
             [](const http::request_context& rc, http::responder respond) {
               http::response res{http::status::moved_permanently,
                                  rc.req.version()};
               secure(res, rc.req);
               res.set(bhttp::field::location, std::string{prefix});
               respond(std::move(res));
             });
  routes.add_prefix(http::verb::get, std::string{prefix}, serve_file);
}

} // namespace cfgd

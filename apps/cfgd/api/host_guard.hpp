// Which Host and Origin headers cfgd answers. A web page in a local browser
// must not reach the API: DNS rebinding (a foreign name resolving to our
// address) shows as a foreign Host, a cross-site request or WebSocket as a
// foreign Origin. Both are refused with 403 on their headers.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "http/message.hpp"

namespace cfgd {

class host_guard {
public:
  /// `host` and `port` are where cfgd listens (the bound port). On a
  /// loopback address, `localhost`, `127.0.0.1` and `[::1]` with that port
  /// are answered too; on a wildcard address (`0.0.0.0`, `::`) any Host is,
  /// unless `allowed_hosts` names some. `allowed_origins` are the browser
  /// origins (`https://admin.example.com`) besides `http://<allowed host>`.
  host_guard(const std::string& host, uint16_t port,
             const std::vector<std::string>& allowed_hosts,
             const std::vector<std::string>& allowed_origins);

  /// nullopt when `req` may be answered; else the 403 naming the header.
  std::optional<http::response> check(const http::request& req) const;

private:
  bool any_host_ = false;
  std::set<std::string> hosts_;   ///< `name:port`, lower case
  std::set<std::string> origins_; ///< `scheme://name[:port]`, lower case
};

} // namespace cfgd

#include "api/host_guard.hpp"

#include <algorithm>
#include <cctype>

#include <boost/beast/http/field.hpp>

namespace cfgd {

namespace {

std::string lower(std::string_view x) {
  std::string out{x};
  std::transform(out.begin(), out.end(), out.begin(), [](unsigned char c) {
    return static_cast<char>(std::tolower(c));
  });
  return out;
}

bool is_loopback(const std::string& host) {
  return host == "localhost" || host == "::1" || host == "[::1]"
         || host.rfind("127.", 0) == 0;
}

bool is_wildcard(const std::string& host) {
  return host.empty() || host == "0.0.0.0" || host == "::" || host == "[::]";
}

/// `name:port` or `[v6]:port`, as opposed to `name`, `[v6]` (or a bare v6).
bool has_port(const std::string& host) {
  if (!host.empty() && host.front() == '[')
    return host.find("]:") != std::string::npos;
  return std::count(host.begin(), host.end(), ':') == 1;
}

/// `[v6]` for an IPv6 literal, the name otherwise.
std::string bracketed(const std::string& host) {
  if (host.find(':') != std::string::npos && host.front() != '[')
    return "[" + host + "]";
  return host;
}

} // namespace

host_guard::host_guard(const std::string& host, uint16_t port,
                       const std::vector<std::string>& allowed_hosts,
                       const std::vector<std::string>& allowed_origins) {
  auto with_port = [port](const std::string& name) {
    return lower(bracketed(name)) + ":" + std::to_string(port);
  };
  any_host_ = is_wildcard(host) && allowed_hosts.empty();
  if (!is_wildcard(host))
    hosts_.insert(with_port(host));
  if (is_loopback(host) || is_wildcard(host))
    for (auto name : {"localhost", "127.0.0.1", "::1"})
      hosts_.insert(with_port(name));
  for (auto& h : allowed_hosts) // a name without a port means ours
    hosts_.insert(has_port(h) ? lower(h) : with_port(h));
  for (auto& h : hosts_)
    origins_.insert("http://" + h);
  for (auto& o : allowed_origins) {
    auto text = lower(o);
    while (!text.empty() && text.back() == '/')
      text.pop_back();
    origins_.insert(text);
  }
}

std::optional<http::response>
host_guard::check(const http::request& req) const {
  namespace field = boost::beast::http;
  auto refuse = [&](std::string detail) {
    return http::error_response(req, http::status::forbidden, "forbidden",
                                {std::move(detail)});
  };
  auto host_header = req[field::field::host];
  auto host = lower({host_header.data(), host_header.size()});
  if (!any_host_) {
    // Without a port the client means the scheme's default, 80.
    auto key = has_port(host) ? host : host + ":80";
    if (host.empty() || hosts_.count(key) == 0)
      return refuse("Host '" + host + "' is not an address of this cfgd "
                    "(--allowed-host adds one)");
  }
  auto origin_header = req[field::field::origin];
  if (origin_header.empty())
    return std::nullopt; // not a browser's cross-origin request
  auto origin = lower({origin_header.data(), origin_header.size()});
  if (any_host_ && origin.rfind("http://", 0) == 0
      && origin.substr(7) == host)
    return std::nullopt; // same origin on a wildcard address
  if (origins_.count(origin) == 0)
    return refuse("Origin '" + origin + "' may not use this cfgd "
                  "(--allowed-origin adds one)");
  return std::nullopt;
}

} // namespace cfgd

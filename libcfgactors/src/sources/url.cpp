#include "sources/url.hpp"

#include <algorithm>
#include <cctype>

namespace cfgactors::detail {

std::string url::authority() const {
  auto h = host.find(':') != std::string::npos ? "[" + host + "]" : host;
  return h + ":" + port;
}

std::optional<url> parse_url(std::string_view text, std::string& error) {
  auto fail = [&](std::string why) -> std::optional<url> {
    error = "invalid endpoint '" + std::string{text} + "': " + std::move(why);
    return std::nullopt;
  };
  url result;
  auto sep = text.find("://");
  if (sep == std::string_view::npos || sep == 0)
    return fail("expected scheme://host[:port][/path]");
  result.scheme = std::string{text.substr(0, sep)};
  std::transform(result.scheme.begin(), result.scheme.end(),
                 result.scheme.begin(),
                 [](unsigned char c) { return std::tolower(c); });
  auto rest = text.substr(sep + 3);
  if (rest.find_first_of("?#") != std::string_view::npos)
    return fail("a query or fragment is not allowed");
  auto slash = rest.find('/');
  auto authority = rest.substr(0, slash);
  if (slash != std::string_view::npos)
    result.base = std::string{rest.substr(slash)};
  while (!result.base.empty() && result.base.back() == '/')
    result.base.pop_back();
  if (authority.find('@') != std::string_view::npos)
    return fail("credentials in the URL are not supported; use a token");
  std::string_view port;
  if (!authority.empty() && authority.front() == '[') {
    auto close = authority.find(']');
    if (close == std::string_view::npos)
      return fail("unterminated IPv6 literal");
    result.host = std::string{authority.substr(1, close - 1)};
    auto after = authority.substr(close + 1);
    if (!after.empty()) {
      if (after.front() != ':')
        return fail("expected ':' after the IPv6 literal");
      port = after.substr(1);
      if (port.empty())
        return fail("empty port");
    }
  } else {
    auto colon = authority.find(':');
    result.host = std::string{authority.substr(0, colon)};
    if (colon != std::string_view::npos) {
      port = authority.substr(colon + 1);
      if (port.empty())
        return fail("empty port");
    }
  }
  if (result.host.empty())
    return fail("no host");
  if (!port.empty()) {
    if (port.size() > 5
        || !std::all_of(port.begin(), port.end(),
                        [](unsigned char c) { return std::isdigit(c); }))
      return fail("port '" + std::string{port} + "' is not a number");
    auto n = std::stoul(std::string{port});
    if (n == 0 || n > 65535)
      return fail("port " + std::string{port} + " is out of range");
    result.port = std::string{port};
  } else if (result.scheme == "http" || result.scheme == "ws") {
    result.port = "80";
  } else if (result.scheme == "https" || result.scheme == "wss") {
    result.port = "443";
  } else {
    return fail("no port and no default port for scheme '" + result.scheme
                + "'");
  }
  return result;
}

} // namespace cfgactors::detail

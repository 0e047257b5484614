// Private helper of the remote sources: the parts of an endpoint URL such as
// `http://host:port/base` or `ws://[::1]:8080`.
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace cfgactors::detail {

struct url {
  std::string scheme; ///< lower-cased: `http`, `https`, `ws`, `wss`, ...
  std::string host;   ///< without the brackets of an IPv6 literal
  std::string port;   ///< explicit, or the scheme's default
  std::string base;   ///< path prefix without a trailing slash ("" or "/api")

  /// `host:port` as a `Host` header wants it (IPv6 literals in brackets).
  std::string authority() const;

  /// `base` + `path` (which starts with a slash).
  std::string target(std::string_view path) const {
    return base + std::string{path};
  }
};

/// Splits `text`; on failure returns nothing and says why in `error`.
/// Default ports are known for http/ws (80) and https/wss (443); queries,
/// fragments and credentials in the URL are refused.
std::optional<url> parse_url(std::string_view text, std::string& error);

} // namespace cfgactors::detail

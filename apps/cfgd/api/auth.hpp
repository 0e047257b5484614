// Bearer-token authorization of cfgd's API. Tokens come from files or the
// environment, never the command line (it shows in `ps`). Writes always need
// a write token; reads need a read or write token only when read tokens are
// configured.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "http/router.hpp"
#include "http/server.hpp"

namespace cfgd {

enum class access { read, write };

class authorizer {
public:
  authorizer() = default;

  /// Several tokens each, so that a token can be rotated without downtime.
  authorizer(std::vector<std::string> write_tokens,
             std::vector<std::string> read_tokens);

  /// nullopt when `req` may do `what`; else the response refusing it
  /// (401 with `WWW-Authenticate`, or 403 when writes are disabled).
  std::optional<http::response> check(const http::request& req,
                                      access what) const;

  /// The bearer token of `req`, if it carries one.
  static std::optional<std::string> bearer(const http::request& req);

  /// True if `token` equals one of `tokens`, in time independent of where
  /// they differ.
  static bool matches(const std::string& token,
                      const std::vector<std::string>& tokens);

  bool writes_enabled() const noexcept {
    return !write_.empty();
  }

private:
  std::vector<std::string> write_; ///< SHA-256 of each token
  std::vector<std::string> read_;
};

/// Reads tokens, one per line (blank lines and `#` comments skipped), from
/// `file`, or else from the environment variable `env_var`. Returns nullopt
/// and sets `error` if the file cannot be read or holds no token.
std::optional<std::vector<std::string>>
load_tokens(const std::string& file, const char* env_var, std::string& error);

/// The gate of a route that needs `what`: the bearer token is judged on the
/// request's headers, before its body is read.
http::gate token_gate(std::shared_ptr<const authorizer> auth, access what);

} // namespace cfgd

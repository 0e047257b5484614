// Bearer-token authorization of cfgd's API. Tokens come from files or the
// environment, never the command line (it shows in `ps`). Each token has
// scopes: writes need `write`; reads need a token only when read tokens are
// configured; secret values are shown only to a token with `secrets`.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "http/router.hpp"
#include "http/server.hpp"

namespace cfgd {

enum class access { read, write };

/// Where a route looks for the token. OFREP clients send it as `X-API-Key`
/// (the protocol's ApiKeyAuth) or as a bearer token; every other route
/// takes the bearer header only, so that the surface of the rest of the API
/// stays what it was.
enum class credentials { bearer, bearer_or_api_key };

/// What a token may do. `write` and `secrets` each include `read`.
enum scope : unsigned {
  scope_read = 1,
  scope_write = 2,
  scope_secrets = 4,
};

/// The scopes named `read`, `write`, `secrets` in `text` (comma-separated);
/// nullopt if `text` names another or none, with the culprit in `error`.
std::optional<unsigned> parse_scopes(std::string_view text, std::string& error);

/// `read,write`: scopes as a token file writes them.
std::string to_string_scopes(unsigned scopes);

/// Who a request's token says it is.
struct identity {
  std::string name; ///< the token's name; empty for an unnamed token
  unsigned scopes = 0;

  bool has(scope x) const noexcept {
    return (scopes & x) != 0;
  }
};

/// One accepted token. Only its SHA-256 is kept.
struct token_entry {
  std::string name; ///< empty: unnamed (a token file of bare tokens)
  unsigned scopes = 0;
  std::string digest;
};

/// The tokens of a token file: one per line, either bare (`<token>`, with
/// `default_scopes`) or named (`NAME:SCOPES:TOKEN`, e.g. `alice:write:...`;
/// NAME of letters, digits, `_.-`, at most 64). Blank lines and `#` comments
/// are skipped. Errors name `source` and the line, never a token.
std::optional<std::vector<token_entry>>
parse_tokens(const std::string& text, unsigned default_scopes,
             const std::string& source, std::string& error);

class authorizer {
public:
  authorizer() = default;

  /// Several tokens, so that one can be rotated without downtime. Reads are
  /// open to anyone unless `reads_need_token`.
  authorizer(std::vector<token_entry> tokens, bool reads_need_token);

  /// nullopt when `req` may do `what`; else the response refusing it
  /// (401 with `WWW-Authenticate`, or 403 when writes are disabled).
  std::optional<http::response>
  check(const http::request& req, access what,
        credentials from = credentials::bearer) const;

  /// The identity of `req`'s token: nullopt without a valid one.
  std::optional<identity>
  identify(const http::request& req,
           credentials from = credentials::bearer) const;

  /// True if `req` may see secret values unmasked.
  bool may_read_secrets(const http::request& req,
                        credentials from = credentials::bearer) const;

  /// The bearer token of `req`, if it carries one.
  static std::optional<std::string> bearer(const http::request& req);

  /// The token of `req` as `from` allows: the bearer token, else (with
  /// bearer_or_api_key) the `X-API-Key` header.
  static std::optional<std::string> token(const http::request& req,
                                          credentials from);

  bool writes_enabled() const noexcept;

  bool reads_need_token() const noexcept {
    return reads_need_token_;
  }

private:
  std::vector<token_entry> tokens_;
  bool reads_need_token_ = false;
};

/// 401 with `WWW-Authenticate: Bearer realm="cfgd"` and `detail`.
http::response unauthorized(const http::request& req, std::string detail);

/// The text of a token file, or else of the environment variable `env_var`
/// (empty when neither is given). A file must be a regular file of at most
/// 64 KiB that cfgd's user (or root) owns and no one else may write.
/// Returns nullopt and sets `error` naming the file otherwise.
std::optional<std::string> read_token_source(const std::string& file,
                                             const char* env_var,
                                             std::string& error);

/// Reads tokens, one per line (blank lines and `#` comments skipped), as
/// read_token_source. Returns nullopt and sets `error` if the file cannot be
/// read or holds no token.
std::optional<std::vector<std::string>>
load_tokens(const std::string& file, const char* env_var, std::string& error);

/// The gate of a route that needs `what`: the bearer token is judged on the
/// request's headers, before its body is read.
http::gate token_gate(std::shared_ptr<const authorizer> auth, access what,
                      credentials from = credentials::bearer);

} // namespace cfgd

// Private helper of http_source and config_client: one blocking HTTP(S)
// request with bounded connect and read times and a bounded body, on
// Boost.Beast.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "sources/tls.hpp"
#include "sources/url.hpp"

namespace cfgactors::detail {

struct http_limits {
  std::chrono::milliseconds connect_timeout{2000}; ///< resolve + TCP (+ TLS)
  std::chrono::milliseconds read_timeout{5000};    ///< request + whole answer
  std::size_t max_body = 4 * 1024 * 1024;
};

struct http_reply {
  unsigned status = 0;
  std::string reason;
  std::string etag; ///< empty if the server sent none
  std::string body;
};

using http_headers = std::vector<std::pair<std::string, std::string>>;

/// Makes one request per call and closes the connection afterwards (a poll
/// every few seconds gains nothing from keep-alive, and a fresh connection
/// never inherits a half-read answer). Blocks the calling thread.
class http_client {
public:
  /// `tls` applies to `https` endpoints; its files are read on the first
  /// such request.
  explicit http_client(http_limits limits, tls_files tls = {});
  ~http_client();

  http_client(const http_client&) = delete;
  http_client& operator=(const http_client&) = delete;

  /// GETs `target` from `endpoint` (`http` or `https`, which verifies the
  /// peer against `tls.ca_file` or the system's CAs, and its name). On a
  /// transport failure returns nothing and says why in `error` (without
  /// naming the URL: the caller does).
  std::optional<http_reply> get(const url& endpoint, const std::string& target,
                                const http_headers& headers,
                                std::string& error);

  /// Whether the last failure of `get` cannot heal by trying again: a TLS
  /// file that cannot be loaded, a server certificate that was refused.
  bool failed_for_good() const noexcept {
    return failed_for_good_;
  }

  /// As `get`, with any method (`GET`, `PUT`, ...) and a JSON body (sent
  /// only when not empty).
  std::optional<http_reply> send(const std::string& method, const url& endpoint,
                                 const std::string& target,
                                 const http_headers& headers,
                                 const std::string& body, std::string& error);

private:
  struct impl;
  http_limits limits_;
  bool failed_for_good_ = false;
  std::unique_ptr<impl> impl_;
};

} // namespace cfgactors::detail

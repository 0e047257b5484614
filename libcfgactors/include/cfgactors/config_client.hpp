// A client of a config server (cfgd): the seed's RemoteConfig.fetch_config
// and push_config, over HTTP(S) with a bearer token.
#pragma once

#include <chrono>
#include <cstddef>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

struct config_client_options {
  std::chrono::milliseconds connect_timeout{2000}; ///< resolve + TCP (+ TLS)
  std::chrono::milliseconds read_timeout{5000};    ///< request + whole answer
  std::size_t max_body = 16u << 20;                ///< the answer's size
  /// Sends the token over plain `http://` to a host other than a loopback
  /// literal (`127.x.y.z`, `::1`, `localhost`). Off: such a client is
  /// refused at construction, since anyone on the path could read it.
  bool allow_plain_http = false;
};

/// A refused or failed request: `status()` is the HTTP status (0: no
/// answer), `body()` the server's answer as it came, `details()` the
/// reasons of cfgd's error shape (`{"error", "details": [...]}`), if any.
/// `what()` names the request, the status and the body.
class config_client_error : public std::runtime_error {
public:
  config_client_error(std::string what, unsigned status, std::string body,
                      std::vector<std::string> details);

  unsigned status() const noexcept {
    return status_;
  }

  const std::string& body() const noexcept {
    return body_;
  }

  const std::vector<std::string>& details() const noexcept {
    return details_;
  }

private:
  unsigned status_;
  std::string body_;
  std::vector<std::string> details_;
};

/// Talks to one cfgd: `fetch()` is GET /config, `push()` PUT /config (the
/// document becomes the server's runtime layer; see docs/HTTP_API.md for
/// what the server then serves). Each call is one blocking request on the
/// calling thread (not an actor's): one client per thread.
class config_client {
public:
  /// `url`: `http(s)://host[:port][/base]`. Throws std::invalid_argument on
  /// a malformed URL, or a token over plain http to a host that is not
  /// loopback (see config_client_options::allow_plain_http).
  config_client(const std::string& url, std::string token,
                config_client_options options = {});
  ~config_client();

  config_client(const config_client&) = delete;
  config_client& operator=(const config_client&) = delete;

  /// The configuration the server serves (secrets masked unless the token
  /// may read them). Throws config_client_error.
  json fetch();

  /// Makes `config` (an object) the server's runtime layer. Answers the
  /// server's JSON: `{"status":"committed"|"unchanged", "version", "hash"}`,
  /// with `dry_run` `{"status":"accepted", "dry_run":true, "changes",
  /// "patch", ...}` and nothing committed. Throws config_client_error when
  /// refused (every reason in `details()`), std::invalid_argument when
  /// `config` is not an object.
  json push(const json& config, bool dry_run = false);

private:
  json call(const std::string& method, const std::string& path,
            const std::string& body);

  struct impl;
  std::unique_ptr<impl> impl_;
};

} // namespace cfgactors

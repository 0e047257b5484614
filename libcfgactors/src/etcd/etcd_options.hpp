// Private to the etcd client: where and how to reach an etcd cluster's JSON
// gateway, and what a failed call says.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>
#include <vector>

namespace cfgactors::detail {

struct etcd_options {
  /// `http://127.0.0.1:2379` or `https://...`; tried in order, round robin.
  std::vector<std::string> endpoints;
  /// PEM file paths. https verifies the server against `cacert` (the
  /// system's CAs if empty) and presents `cert` + `key` if given.
  std::string cacert, cert, key;
  /// etcd auth: if `user` is not empty, every request carries a token from
  /// /v3/auth/authenticate.
  std::string user, password;
  std::chrono::milliseconds connect_timeout{2000}; ///< TCP connect + TLS
  std::chrono::milliseconds request_timeout{5000}; ///< request + whole answer
  std::size_t max_body = 16 * 1024 * 1024;        ///< per answer or message
};

struct etcd_error {
  enum class kind {
    /// No endpoint answered: connect, TLS, timeouts, HTTP 5xx, gRPC
    /// Unavailable/DeadlineExceeded, no leader. Worth retrying later.
    unavailable,
    /// etcd answered a definite no: permission denied, failed auth, invalid
    /// argument, other 4xx. Retrying the same request will not help.
    refused,
    /// An answer that is not the JSON the gateway sends.
    bad_answer,
  };
  kind what = kind::unavailable;
  std::string message; ///< names the endpoint and what happened
  int code = 0;        ///< the gateway's gRPC code, if it sent one
};

} // namespace cfgactors::detail

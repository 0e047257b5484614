// cfgctl's view of a cfgd: one HTTP request at a time, answers as JSON, and
// every failure mapped to the exit code a script can act on.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace cfgctl {

/// Exit codes of cfgctl.
inline constexpr int exit_ok = 0;
inline constexpr int exit_rejected = 1;    ///< the server said no (reasons printed)
inline constexpr int exit_usage = 2;
inline constexpr int exit_unreachable = 3; ///< no answer, or not authorized

struct reply {
  int status = 0;              ///< HTTP status; 0 when there was no answer
  nlohmann::json body;         ///< parsed JSON (null if empty or not JSON)
  std::string text;            ///< the raw body
  std::string error;           ///< transport error when status == 0
  std::string version;         ///< X-Config-Version
};

struct endpoint {
  std::string scheme = "http";
  std::string host = "127.0.0.1";
  int port = 7070;
  std::string base; ///< path prefix, without a trailing slash

  /// Parses `http://host:port[/base]` (also https); nullopt and `error` on
  /// anything else.
  static std::optional<endpoint> parse(const std::string& url,
                                       std::string& error);
};

class client {
public:
  client(endpoint ep, std::string token, std::chrono::milliseconds timeout);

  reply get(const std::string& target) const;
  reply send(const std::string& method, const std::string& target,
             const std::string& body) const;

  const endpoint& where() const noexcept {
    return ep_;
  }

  const std::string& token() const noexcept {
    return token_;
  }

  /// Sent with every write (`Idempotency-Key`): a retry of a write that
  /// committed answers its version instead of committing again.
  void idempotency_key(std::string key) {
    idempotency_key_ = std::move(key);
  }

  /// Sent with every write (`X-Change-Reason`): why, for the history.
  void reason(std::string text) {
    reason_ = std::move(text);
  }

private:
  endpoint ep_;
  std::string token_;
  std::string idempotency_key_;
  std::string reason_;
  std::chrono::milliseconds timeout_;
};

/// Whether every address `host` stands for is a loopback address:
/// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), the name `localhost`, or
/// any other name that resolves to loopback addresses only. A name that
/// does not resolve is not (`error` says why).
bool is_loopback_host(const std::string& host, std::string& error);

/// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& text);

/// Prints the server's refusal (error and every detail) to stderr and
/// returns the exit code for it.
int report_failure(const reply& r);

} // namespace cfgctl

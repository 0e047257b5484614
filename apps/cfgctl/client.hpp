// cfgctl's view of a cfgd: one HTTP request at a time, answers as JSON, and
// every failure mapped to the exit code a script can act on.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <utility>

#include <nlohmann/json.hpp>

namespace cfgctl {

/// Exit codes of cfgctl, the same with and without --json (docs/CFGCTL.md
/// has the table). 1-3 keep the meaning they had before the others existed.
inline constexpr int exit_ok = 0;
inline constexpr int exit_rejected = 1;    ///< the server said no: 400, 404, 422, 413
inline constexpr int exit_usage = 2;       ///< bad command line or local input
inline constexpr int exit_unreachable = 3; ///< no connection, or 5xx/429: try later
inline constexpr int exit_auth = 4;        ///< 401/403: no token, wrong or too weak
inline constexpr int exit_conflict = 5;    ///< 409: --if-match names an old version
/// Committed, but not every node the consistency level asked for acked in
/// time: the write stays (a retry would write again).
inline constexpr int exit_unconfirmed = 6;
/// Connected but no answer within --timeout-ms: a write may or may not have
/// committed (`cfgctl history` tells). A connection closed sooner is 3.
inline constexpr int exit_no_answer = 7;

struct reply {
  int status = 0;              ///< HTTP status; 0 when there was no answer
  nlohmann::json body;         ///< parsed JSON (null if empty or not JSON)
  std::string text;            ///< the raw body
  std::string error;           ///< transport error when status == 0
  bool timed_out = false;      ///< status == 0 because no answer came in time
  std::string version;         ///< X-Config-Version
  std::string what;            ///< `METHOD URL`, for error messages
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

  std::chrono::milliseconds timeout() const noexcept {
    return timeout_;
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

  /// Sent with every write (`If-Match`): the hash the write expects to
  /// replace; another version in between makes it a conflict (409).
  void if_match(std::string hash) {
    if_match_ = std::move(hash);
  }

private:
  endpoint ep_;
  std::string token_;
  std::string idempotency_key_;
  std::string reason_;
  std::string if_match_;
  std::chrono::milliseconds timeout_;
};

/// Whether every address `host` stands for is a loopback address:
/// 127.0.0.0/8, ::1 (also as ::ffff:127.x.y.z), the name `localhost`, or
/// any other name that resolves to loopback addresses only. A name that
/// does not resolve is not (`error` says why).
bool is_loopback_host(const std::string& host, std::string& error);

/// Percent-encodes a path segment or query value.
std::string url_encode(const std::string& text);

/// The exit code for a failed reply (status != 200).
int exit_code_of(const reply& r);

/// Prints the server's refusal (error and every detail) to stderr, naming
/// the request `r` answered; with `json` also as one JSON object on stdout
/// (`{"error", "details", "status", "exit"}`). Returns exit_code_of(r).
int report_failure(const reply& r, bool json = false);

} // namespace cfgctl

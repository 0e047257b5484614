// Private to the etcd client and watch: one HTTP/1.1 connection (plain or
// TLS) to one endpoint of etcd's JSON gateway, with every wait bounded, and
// what the gateway's answers mean (errors, auth tokens).
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "etcd/etcd_options.hpp"

namespace cfgactors::detail {

struct etcd_answer {
  unsigned status = 0;
  std::string body;
};

/// Blocking: every call runs the connection's own io_context on the calling
/// thread until its operation is done or timed out. One caller at a time,
/// except for interrupt().
class etcd_connection {
public:
  explicit etcd_connection(etcd_options opts);
  ~etcd_connection();

  etcd_connection(const etcd_connection&) = delete;
  etcd_connection& operator=(const etcd_connection&) = delete;

  /// Connects to `endpoint` (TCP, then TLS for https, both within
  /// connect_timeout), closing any previous connection first.
  bool open(const std::string& endpoint, etcd_error& err);

  bool is_open() const;

  /// The endpoint of the last open(), as given.
  const std::string& endpoint() const;

  void close();

  /// POSTs `body` to /v3/`rpc` with `token` (if not empty) as the
  /// Authorization header and reads the whole answer, all within
  /// request_timeout and max_body. On a transport failure returns nothing,
  /// says why in `err` (kind unavailable) and closes the connection.
  std::optional<etcd_answer> post(std::string_view rpc, const std::string& body,
                                  const std::string& token, etcd_error& err);

  /// Starts a streaming POST: sends it and reads the answer's header within
  /// request_timeout. A 200 returns an empty body and the stream continues
  /// in next_message(); any other status comes with its whole body.
  std::optional<etcd_answer> post_stream(std::string_view rpc,
                                         const std::string& body,
                                         const std::string& token,
                                         etcd_error& err);

  /// The stream's next message, waiting as long as it takes (or until
  /// interrupt()). Nothing when the stream ended or failed, with `err`.
  std::optional<nlohmann::json> next_message(etcd_error& err);

  /// Thread-safe, sticky: makes the blocking call in progress, and every
  /// later one, fail at once.
  void interrupt();

private:
  struct impl;
  std::unique_ptr<impl> impl_;
};

/// What an answer other than HTTP 200 means, named after `endpoint`. Reads
/// the unary form `{"error","code","message"}` and the streaming form
/// `{"error":{"grpc_code","http_code","message"}}`.
etcd_error answer_error(const std::string& endpoint, unsigned status,
                        const std::string& body);

/// The classification for a gRPC `code` and `message` from the gateway.
etcd_error grpc_error(const std::string& endpoint, int code,
                      const std::string& message, unsigned status);

/// Whether a fresh token from /v3/auth/authenticate may cure `err`: the
/// token is unknown, expired, or older than the auth store.
bool is_token_error(const etcd_error& err);

/// Gets a token for opts.user on `conn` (open); nothing with `err` if etcd
/// refused the name or password (kind refused) or did not answer.
std::optional<std::string> authenticate(etcd_connection& conn,
                                        const etcd_options& opts,
                                        etcd_error& err);

} // namespace cfgactors::detail

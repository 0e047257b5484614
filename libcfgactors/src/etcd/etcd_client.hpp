// Private etcd v3 client over the JSON gateway (HTTP/1.1, optional TLS with
// client certificates, optional etcd auth): the unary calls a config store
// needs. Watches live in etcd_watch.hpp.
#pragma once

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "etcd/etcd_json.hpp"
#include "etcd/etcd_options.hpp"

namespace cfgactors::detail {

class etcd_connection;

struct etcd_range_result {
  int64_t revision = 0; ///< the store's revision when it answered
  std::vector<etcd_kv> kvs;
  bool more = false;
  int64_t count = 0;
};

struct etcd_txn_result {
  int64_t revision = 0;
  bool succeeded = false;
  /// The gateway's responses as sent, one per op of the branch taken:
  /// `{"response_range":{"kvs":[...]}}`, `{"response_put":{}}`, ...
  std::vector<nlohmann::json> responses;
};

/// Blocking, and for one caller at a time: every call runs on the calling
/// thread until it has an answer or its time is up.
///
/// Keeps one keep-alive connection to the endpoint that answered last. A
/// call that cannot reach it (connect, TLS, timeouts, HTTP 5xx, no leader)
/// tries the others in turn, each once; a definite no from etcd ends the
/// call at once. Hence a write that timed out may have been applied and is
/// sent again to the next endpoint: guard writes with txn compares when
/// that matters.
class etcd_client {
public:
  explicit etcd_client(etcd_options opts);
  ~etcd_client();

  etcd_client(const etcd_client&) = delete;
  etcd_client& operator=(const etcd_client&) = delete;

  /// POSTs `body` to /v3/`rpc` ("kv/range", "kv/txn", "lease/grant", ...)
  /// and returns the answer's JSON.
  std::optional<nlohmann::json> call(std::string_view rpc,
                                     const nlohmann::json& body,
                                     etcd_error& err);

  /// Keys in [key, range_end), or just `key` if `range_end` is empty; see
  /// prefix_end(). `limit` and `revision` 0 mean none and the newest.
  std::optional<etcd_range_result>
  range(std::string_view key, std::string_view range_end, etcd_error& err,
        int64_t limit = 0, int64_t revision = 0, bool keys_only = false);

  /// `compares`, `success` and `failure` are arrays of compare_*() and
  /// op_*() results.
  std::optional<etcd_txn_result> txn(nlohmann::json compares,
                                     nlohmann::json success,
                                     nlohmann::json failure, etcd_error& err);

  /// Returns the new revision.
  std::optional<int64_t> put(std::string_view key, std::string_view value,
                             int64_t lease, etcd_error& err);

  /// Returns the lease's ID.
  std::optional<int64_t> lease_grant(int64_t ttl_seconds, etcd_error& err);

  /// Returns the remaining TTL; 0 or less means the lease is gone.
  std::optional<int64_t> lease_keepalive(int64_t id, etcd_error& err);

  /// False with `err` also if the lease was gone already (kind refused).
  bool lease_revoke(int64_t id, etcd_error& err);

  /// The endpoint used last.
  const std::string& endpoint() const;

private:
  std::optional<nlohmann::json> call_on(const std::string& endpoint,
                                        std::string_view rpc,
                                        const std::string& body,
                                        etcd_error& err);

  etcd_options opts_;
  std::unique_ptr<etcd_connection> conn_;
  std::size_t current_ = 0; ///< index of the endpoint that answered last
  std::string token_;
};

} // namespace cfgactors::detail

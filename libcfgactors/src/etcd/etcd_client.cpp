#include "etcd/etcd_client.hpp"

#include <chrono>

#include "etcd/etcd_connection.hpp"

namespace cfgactors::detail {

namespace {

using nlohmann::json;

/// The gateway's streaming RPCs (lease/keepalive) answer with one
/// `{"result":...}` or `{"error":{...}}` per line; the stream ends after the
/// one answer to our one request.
std::optional<json> parse_body(const std::string& body) {
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_discarded())
    doc = json::parse(body.substr(0, body.find('\n')), nullptr, false);
  if (!doc.is_object())
    return std::nullopt;
  return doc;
}

json array_or_empty(json x) {
  return x.is_array() ? std::move(x) : json::array();
}

} // namespace

etcd_client::etcd_client(etcd_options opts)
  : opts_(std::move(opts)), conn_(std::make_unique<etcd_connection>(opts_)) {
  // nop
}

etcd_client::~etcd_client() = default;

const std::string& etcd_client::endpoint() const {
  static const std::string none;
  return opts_.endpoints.empty() ? none : opts_.endpoints[current_];
}

std::optional<json> etcd_client::call(std::string_view rpc, const json& body,
                                      etcd_error& err) {
  auto n = opts_.endpoints.size();
  if (n == 0) {
    err = {etcd_error::kind::refused, "no etcd endpoints configured", 0};
    return std::nullopt;
  }
  auto text = body.dump();
  std::string failures;
  // One call takes about request_timeout at most, however many endpoints
  // time out: the caller (a write's answer, a lease) has its own clock.
  auto deadline = std::chrono::steady_clock::now() + opts_.request_timeout;
  auto first = current_;
  for (std::size_t i = 0; i < n; ++i) {
    auto index = (first + i) % n;
    auto result = call_on(opts_.endpoints[index], rpc, text, err);
    if (result || err.what != etcd_error::kind::unavailable) {
      current_ = index;
      return result;
    }
    failures += (failures.empty() ? "" : "; ") + err.message;
    // The next call starts with the next endpoint, not this one.
    current_ = (index + 1) % n;
    if (std::chrono::steady_clock::now() >= deadline)
      break;
  }
  err.message = std::move(failures);
  return std::nullopt;
}

std::optional<json> etcd_client::call_on(const std::string& endpoint,
                                         std::string_view rpc,
                                         const std::string& body,
                                         etcd_error& err) {
  auto& conn = *conn_;
  // A kept connection the server closed meanwhile fails on first use;
  // that alone earns one fresh connection to the same endpoint.
  auto reused = conn.is_open() && conn.endpoint() == endpoint;
  auto fresh_token = false;
  for (int attempt = 0; attempt < 3; ++attempt) {
    if (!conn.is_open() || conn.endpoint() != endpoint) {
      if (!conn.open(endpoint, err))
        return std::nullopt;
    }
    if (!opts_.user.empty() && token_.empty()) {
      auto token = authenticate(conn, opts_, err);
      if (!token)
        return std::nullopt;
      token_ = std::move(*token);
      fresh_token = true;
    }
    auto answer = conn.post(rpc, body, token_, err);
    if (!answer) {
      if (reused) {
        reused = false;
        continue;
      }
      return std::nullopt;
    }
    reused = false;
    auto doc = parse_body(answer->body);
    if (answer->status == 200 && doc
        && !(doc->contains("error") && (*doc)["error"].is_object()))
      return doc;
    if (answer->status == 200 && !doc) {
      err = {etcd_error::kind::bad_answer,
             endpoint + ": the answer is not a JSON object: "
               + answer->body.substr(0, 200),
             0};
      return std::nullopt;
    }
    err = answer_error(endpoint, answer->status, answer->body);
    if (!opts_.user.empty() && !fresh_token && is_token_error(err)) {
      token_.clear(); // expired or unknown to this member: get a new one
      continue;
    }
    return std::nullopt;
  }
  return std::nullopt;
}

std::optional<etcd_range_result>
etcd_client::range(std::string_view key, std::string_view range_end,
                   etcd_error& err, int64_t limit, int64_t revision,
                   bool keys_only) {
  json body{{"key", base64_encode(key)}};
  if (!range_end.empty())
    body["range_end"] = base64_encode(range_end);
  if (limit > 0)
    body["limit"] = std::to_string(limit);
  if (revision > 0)
    body["revision"] = std::to_string(revision);
  if (keys_only)
    body["keys_only"] = true;
  auto doc = call("kv/range", body, err);
  if (!doc)
    return std::nullopt;
  etcd_range_result out;
  out.revision = int64_of(doc->value("header", json::object()), "revision");
  for (auto& kv : array_or_empty(doc->value("kvs", json::array())))
    out.kvs.push_back(kv_of(kv));
  out.more = doc->value("more", false);
  out.count = int64_of(*doc, "count");
  return out;
}

std::optional<etcd_txn_result> etcd_client::txn(json compares, json success,
                                                json failure,
                                                etcd_error& err) {
  json body{{"compare", array_or_empty(std::move(compares))},
            {"success", array_or_empty(std::move(success))},
            {"failure", array_or_empty(std::move(failure))}};
  auto doc = call("kv/txn", body, err);
  if (!doc)
    return std::nullopt;
  etcd_txn_result out;
  out.revision = int64_of(doc->value("header", json::object()), "revision");
  out.succeeded = doc->value("succeeded", false);
  for (auto& response : array_or_empty(doc->value("responses", json::array())))
    out.responses.push_back(std::move(response));
  return out;
}

std::optional<int64_t> etcd_client::put(std::string_view key,
                                        std::string_view value, int64_t lease,
                                        etcd_error& err) {
  json body{{"key", base64_encode(key)}, {"value", base64_encode(value)}};
  if (lease != 0)
    body["lease"] = std::to_string(lease);
  auto doc = call("kv/put", body, err);
  if (!doc)
    return std::nullopt;
  return int64_of(doc->value("header", json::object()), "revision");
}

std::optional<int64_t> etcd_client::lease_grant(int64_t ttl_seconds,
                                                etcd_error& err) {
  auto doc = call("lease/grant", {{"TTL", std::to_string(ttl_seconds)}}, err);
  if (!doc)
    return std::nullopt;
  if (auto why = doc->value("error", std::string{}); !why.empty()) {
    err = {etcd_error::kind::refused, endpoint() + ": lease grant: " + why, 0};
    return std::nullopt;
  }
  return int64_of(*doc, "ID");
}

std::optional<int64_t> etcd_client::lease_keepalive(int64_t id,
                                                    etcd_error& err) {
  auto doc = call("lease/keepalive", {{"ID", std::to_string(id)}}, err);
  if (!doc)
    return std::nullopt;
  // TTL absent (zero) when the lease is gone.
  return int64_of(doc->value("result", json::object()), "TTL");
}

bool etcd_client::lease_revoke(int64_t id, etcd_error& err) {
  return call("lease/revoke", {{"ID", std::to_string(id)}}, err).has_value();
}

} // namespace cfgactors::detail

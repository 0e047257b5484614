#include "cfgactors/config_client.hpp"

#include <utility>

#include "sources/http_client.hpp"
#include "sources/url.hpp"

namespace cfgactors {

namespace {

/// A literal loopback host: nothing to resolve, nothing to be fooled by.
bool loopback_literal(const std::string& host) {
  return host == "localhost" || host == "::1" || host.rfind("127.", 0) == 0;
}

/// The reasons in cfgd's error shape, if the body has it.
std::vector<std::string> details_of(const std::string& body) {
  std::vector<std::string> out;
  auto doc = json::parse(body, nullptr, false);
  if (doc.is_object() && doc.contains("details") && doc["details"].is_array())
    for (auto& x : doc["details"])
      out.push_back(x.is_string() ? x.get<std::string>() : x.dump());
  return out;
}

} // namespace

config_client_error::config_client_error(std::string what, unsigned status,
                                         std::string body,
                                         std::vector<std::string> details)
  : std::runtime_error(std::move(what)),
    status_(status),
    body_(std::move(body)),
    details_(std::move(details)) {
  // nop
}

struct config_client::impl {
  detail::url where;
  std::string token;
  detail::http_client http;

  impl(detail::url where, std::string token, detail::http_limits limits)
    : where(std::move(where)), token(std::move(token)), http(limits) {
    // nop
  }
};

config_client::config_client(const std::string& url, std::string token,
                             config_client_options options) {
  std::string error;
  auto where = detail::parse_url(url, error);
  if (!where)
    throw std::invalid_argument("config_client: " + url + ": " + error);
  if (where->scheme != "http" && where->scheme != "https")
    throw std::invalid_argument("config_client: " + url
                                + ": takes http:// or https://");
  if (!token.empty() && where->scheme == "http"
      && !loopback_literal(where->host) && !options.allow_plain_http)
    throw std::invalid_argument(
      "config_client: " + url
      + ": refusing to send the bearer token over plain http to a host that "
        "is not loopback (use https://, or allow_plain_http)");
  detail::http_limits limits;
  limits.connect_timeout = options.connect_timeout;
  limits.read_timeout = options.read_timeout;
  limits.max_body = options.max_body;
  impl_ = std::make_unique<impl>(std::move(*where), std::move(token), limits);
}

config_client::~config_client() = default;

json config_client::call(const std::string& method, const std::string& path,
                         const std::string& body) {
  auto& st = *impl_;
  detail::http_headers headers;
  if (!st.token.empty())
    headers.emplace_back("Authorization", "Bearer " + st.token);
  auto what = method + " " + st.where.authority() + st.where.target(path);
  std::string error;
  auto reply = st.http.send(method, st.where, st.where.target(path), headers,
                            body, error);
  if (!reply)
    throw config_client_error(what + ": " + error, 0, {}, {});
  if (reply->status != 200)
    throw config_client_error(what + ": " + std::to_string(reply->status) + " "
                                + reply->reason + ": " + reply->body,
                              reply->status, reply->body,
                              details_of(reply->body));
  auto doc = json::parse(reply->body, nullptr, false);
  if (doc.is_discarded())
    throw config_client_error(what + ": 200 but the body is not JSON: "
                                + reply->body.substr(0, 200),
                              reply->status, reply->body, {});
  return doc;
}

json config_client::fetch() {
  return call("GET", "/config", {});
}

json config_client::push(const json& config, bool dry_run) {
  if (!config.is_object())
    throw std::invalid_argument(std::string{"config_client::push: the config "
                                            "must be an object, got "}
                                + config.type_name());
  return call("PUT", dry_run ? "/config?dry_run=1" : "/config", config.dump());
}

} // namespace cfgactors

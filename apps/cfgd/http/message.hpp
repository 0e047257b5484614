// What cfgd's HTTP handlers take and give: Beast's request and response,
// the decoded path and query of a request, and the JSON and error answers.
#pragma once

#include <functional>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/beast/http/message.hpp>
#include <boost/beast/http/status.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/verb.hpp>

#include <nlohmann/json.hpp>

namespace cfgd::http {

using request = boost::beast::http::request<boost::beast::http::string_body>;
using response = boost::beast::http::response<boost::beast::http::string_body>;
using verb = boost::beast::http::verb;
using status = boost::beast::http::status;

/// What a handler sees of a request.
struct request_context {
  const request& req;
  std::string path; ///< the decoded path, without the query
  std::string rest; ///< for prefix routes: the decoded part after the prefix
  std::map<std::string, std::string, std::less<>> query; ///< decoded

  /// The query parameter `key`, if present.
  const std::string* param(std::string_view key) const;
};

/// A JSON response (`Content-Type: application/json`), body plus newline.
response json_response(const request& req, status code,
                       const nlohmann::json& body);

/// The error shape of every cfgd API: `{"error": ..., "details": [...]}`.
response error_response(const request& req, status code, std::string error,
                        std::vector<std::string> details = {});

/// True if `req`'s `If-None-Match` lists `etag` (quoted, e.g. `"abc"`),
/// weak (`W/"abc"`) or strong, or is `*`.
bool if_none_match(const request& req, std::string_view etag);

/// Percent-decodes `text` (`+` as space when `plus_is_space`); nullopt on a
/// malformed escape.
std::optional<std::string> url_decode(std::string_view text,
                                      bool plus_is_space = false);

} // namespace cfgd::http

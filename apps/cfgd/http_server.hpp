// A small HTTP/1.1 server on Boost.Beast: one io_context thread, keep-alive,
// bounded requests, and a router that maps method + path to a handler.
// Handlers run on the io thread and return a complete response; later routes
// (writes, /metrics) are added to the router, and the WebSocket upgrade hooks
// into the session where a request has been read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core/tcp_stream.hpp>
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

using handler = std::function<response(const request_context&)>;

/// Takes over a connection whose request asks for a WebSocket upgrade: either
/// moves the stream out and returns nullopt, or leaves it and returns the
/// response that refuses the upgrade (401, ...).
using upgrade_handler = std::function<std::optional<response>(
  boost::beast::tcp_stream& stream, request& req)>;

/// A JSON response (`Content-Type: application/json`), body plus newline.
response json_response(const request& req, status code,
                       const nlohmann::json& body);

/// The error shape of every cfgd API: `{"error": ..., "details": [...]}`.
response error_response(const request& req, status code, std::string error,
                        std::vector<std::string> details = {});

/// Percent-decodes `text` (`+` as space when `plus_is_space`); nullopt on a
/// malformed escape.
std::optional<std::string> url_decode(std::string_view text,
                                      bool plus_is_space = false);

/// Maps (method, path) to handlers. Exact routes win over prefix routes; a
/// path served under another method yields 405 with `Allow`, anything else
/// 404.
class router {
public:
  /// Serves `method path` exactly (`/config`).
  void add(verb method, std::string path, handler fn);

  /// Serves every path that starts with `prefix` (`/config/`); the handler
  /// finds the decoded remainder in `request_context::rest`.
  void add_prefix(verb method, std::string prefix, handler fn);

  /// Serves WebSocket upgrades of `path` (`/ws`).
  void add_upgrade(std::string path, upgrade_handler fn);

  /// Runs the matching handler; never throws (a throwing handler yields 500).
  response dispatch(const request& req) const;

  /// The upgrade handler for `req`'s path, if any.
  const upgrade_handler* upgrade_for(const request& req) const;

private:
  struct route {
    verb method;
    std::string path;
    bool prefix;
    handler fn;
  };
  std::vector<route> routes_;
  std::vector<std::pair<std::string, upgrade_handler>> upgrades_;
};

struct server_limits {
  std::size_t body_limit = std::size_t{4} << 20;   ///< 413 above
  std::size_t header_limit = std::size_t{16} << 10; ///< 431 above
  std::chrono::seconds idle_timeout{60};           ///< per read and write
};

/// Accepts connections on one address and serves them with a router. All
/// member functions must run on the io_context's thread (or before it runs).
class server {
public:
  server(boost::asio::io_context& ioc, std::shared_ptr<const router> routes,
         server_limits limits = {});
  ~server();
  server(const server&) = delete;
  server& operator=(const server&) = delete;

  /// Resolves `host`, binds, listens and starts accepting. Returns an error
  /// message on failure.
  std::optional<std::string> listen(const std::string& host, uint16_t port);

  /// The bound address (the real port when listening on port 0).
  boost::asio::ip::tcp::endpoint local_endpoint() const;

  /// Stops accepting and closes every open connection.
  void stop();

  struct state;

private:
  std::shared_ptr<state> state_;
};

} // namespace cfgd::http

// A small HTTP/1.1 server on Boost.Beast: one io_context thread, keep-alive,
// bounded requests, each request handed to a router (http/router.hpp). The
// WebSocket upgrade hooks into the session where a request has been read.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>

#include "http/router.hpp"

namespace cfgd::http {

struct server_limits {
  std::size_t body_limit = std::size_t{4} << 20;   ///< 413 above
  std::size_t header_limit = std::size_t{16} << 10; ///< 431 above
  std::chrono::seconds header_timeout{10};         ///< for a request's headers
  std::chrono::seconds idle_timeout{60};           ///< per read and write
  /// Open connections (WebSockets included), in all and from one address;
  /// past either a new connection is answered 503 and closed at once.
  std::size_t max_connections = 1024;
  std::size_t max_per_peer = 64;
};

/// Accepts connections on one address and serves them with a router. All
/// member functions must run on the io_context's thread (or before it runs).
class server {
public:
  /// Answers that come from other threads are posted to `ioc` while it
  /// exists (the caller owns it).
  server(std::shared_ptr<boost::asio::io_context> ioc,
         std::shared_ptr<const router> routes,
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

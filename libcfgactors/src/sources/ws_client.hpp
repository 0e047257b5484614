// Private helper of ws_source: a WebSocket client on its own I/O thread that
// stays connected (reconnecting with backoff), says hello after every
// handshake and hands each received message to a callback.
#pragma once

#include <chrono>
#include <functional>
#include <memory>
#include <string>
#include <thread>

#include "sources/tls.hpp"
#include "sources/url.hpp"

namespace cfgactors::detail {

struct ws_client_options {
  url endpoint;       ///< scheme `ws` or `wss`
  std::string target; ///< the path of the upgrade request, e.g. `/ws`
  std::string token;  ///< `Authorization: Bearer <token>` if set
  std::string hello;  ///< sent as text after every handshake
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{10000};
  std::chrono::milliseconds connect_timeout{2000}; ///< TCP, TLS, the upgrade
  /// Silent this long, the connection is pinged; silent as long again, it
  /// counts as lost.
  std::chrono::milliseconds heartbeat{15000};
  tls_files tls; ///< for `wss`
};

/// Called on the I/O thread: keep them short and non-blocking.
struct ws_client_events {
  std::function<void()> connected; ///< after the hello went out
  /// A connect failed or the connection broke; `for_good` when retrying
  /// cannot help (a refused certificate, 401/403/404 on the upgrade), though
  /// the client retries anyway: someone may fix the server.
  std::function<void(std::string why, std::chrono::milliseconds retry_in,
                     bool for_good)>
    disconnected;
  std::function<void(std::string text)> message;
};

class ws_client {
public:
  /// Starts the I/O thread, which connects at once.
  ws_client(ws_client_options options, ws_client_events events);

  /// Closes the connection, stops the I/O thread and joins it. No event is
  /// delivered afterwards.
  ~ws_client();

  ws_client(const ws_client&) = delete;
  ws_client& operator=(const ws_client&) = delete;

private:
  struct impl;
  std::unique_ptr<impl> impl_;
  std::thread thread_;
};

} // namespace cfgactors::detail

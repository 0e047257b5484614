// GET /ws: the seed's WebSocket protocol on cfgd's HTTP port. Every client
// gets `{"action":"update_config","config":…,"version":n}` at once and on
// every change (a slow client gets the latest, never a backlog); clients
// holding a write token may also send the seed's actions (update_config,
// set_feature, set_log_level, reload), which are validated like any write.
#pragma once

#include <memory>
#include <unordered_map>

#include <boost/asio/io_context.hpp>

#include <optional>
#include <string>

#include <boost/beast/core/tcp_stream.hpp>

#include "cfgactors/node.hpp"
#include "cfgactors/snapshot.hpp"

#include "api/auth.hpp"
#include "api/context.hpp"
#include "http/router.hpp"

namespace cfgd {

class ws_session;

/// Owns the WebSocket sessions and the actor that feeds them changes. All
/// members run on the io thread.
class ws_hub : public std::enable_shared_from_this<ws_hub> {
public:
  ws_hub(std::shared_ptr<boost::asio::io_context> ioc, api_context_ptr ctx,
         std::shared_ptr<const authorizer> auth);

  /// Subscribes to every change of the node; an error message if it
  /// cannot.
  std::optional<std::string> start();

  /// Closes every session and stops the feed.
  void stop();

  /// The router hook for `/ws`.
  std::optional<http::response> upgrade(boost::beast::tcp_stream& stream,
                                        http::request& req,
                                        http::connection_ticket ticket);

  /// Sends `snap` to every session (called on the io thread).
  void publish(const cfgactors::snapshot_ptr& snap);

  const api_context& context() const noexcept {
    return *ctx_;
  }

  /// The io_context the sessions run on, for answers from actors; weak, as
  /// cfgd owns it (an answer after it is gone is dropped).
  const std::weak_ptr<boost::asio::io_context>& io() const noexcept {
    return ioc_;
  }

  void attach(const std::shared_ptr<ws_session>& s);
  void detach(ws_session* s);

  std::size_t clients() const noexcept {
    return sessions_.size();
  }

private:
  std::weak_ptr<boost::asio::io_context> ioc_;
  api_context_ptr ctx_;
  std::shared_ptr<const authorizer> auth_;
  cfgactors::subscription feed_; ///< every change, posted to the io thread
  std::unordered_map<ws_session*, std::weak_ptr<ws_session>> sessions_;
  bool stopped_ = false;
};

} // namespace cfgd

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
#include <vector>

#include <boost/beast/core/tcp_stream.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/node.hpp"
#include "cfgactors/snapshot.hpp"

#include "api/auth.hpp"
#include "api/context.hpp"
#include "http/router.hpp"

namespace cfgd {

class ws_session;

/// One version as the clients get it, serialized once per form.
struct ws_push {
  uint64_t version = 0;
  std::shared_ptr<const std::string> masked; ///< secrets masked
  std::shared_ptr<const std::string> full;   ///< secrets shown (= masked if none)

  const std::shared_ptr<const std::string>&
  for_client(bool sees_secrets) const noexcept {
    return sees_secrets ? full : masked;
  }
};

/// Owns the WebSocket sessions and the actor that feeds them changes. All
/// members run on the io thread.
class ws_hub : public std::enable_shared_from_this<ws_hub> {
public:
  ws_hub(std::shared_ptr<boost::asio::io_context> ioc, api_context_ptr ctx,
         std::shared_ptr<const authorizer> auth);

  /// Ends the serializer if stop() did not (the actor system waits for it).
  ~ws_hub();

  /// Subscribes to every change of the node; an error message if it
  /// cannot.
  std::optional<std::string> start();

  /// Closes every session and stops the feed.
  void stop();

  /// The router hook for `/ws`.
  std::optional<http::response> upgrade(boost::beast::tcp_stream& stream,
                                        http::request& req,
                                        http::connection_ticket ticket);

  /// Sends `p` to every session, in the form it may see (called on the io
  /// thread).
  void publish(ws_push p);

  /// The newest push, what a new client starts from.
  const ws_push& newest() const noexcept {
    return newest_;
  }

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
  using session_list = std::vector<std::weak_ptr<ws_session>>;

  /// Pushes `p` to `targets` from `next` on, one session per io handler.
  void push_from(std::shared_ptr<const session_list> targets,
                 std::size_t next, ws_push p);

  std::weak_ptr<boost::asio::io_context> ioc_;
  api_context_ptr ctx_;
  std::shared_ptr<const authorizer> auth_;
  cfgactors::subscriber_actor serializer_; ///< every change, serialized
  cfgactors::subscription feed_;           ///< of serializer_
  std::unordered_map<ws_session*, std::weak_ptr<ws_session>> sessions_;
  ws_push newest_;
  uint64_t pushing_ = 0; ///< the version publish is handing out
  bool stopped_ = false;
};

} // namespace cfgd

// GET /ws: the seed's WebSocket protocol on cfgd's HTTP port. Every client
// gets `{"action":"update_config","config":…,"version":n}` at once and on
// every change (a slow client gets the latest, never a backlog); clients
// holding a write token may also send the seed's actions (update_config,
// set_feature, set_log_level, reload), which are validated like any write.
#pragma once

#include <atomic>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>

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

/// Owns the WebSocket sessions and the actor that feeds them changes. The
/// sessions run on a thread of their own (the ws thread), not on cfgd's io
/// thread: pushing a large config to many clients is a stream of big
/// writes, and every other request (a probe of /healthz) would wait behind
/// them. Members run on the ws thread unless they say otherwise.
class ws_hub : public std::enable_shared_from_this<ws_hub> {
public:
  /// `http_io` is cfgd's io thread, where a session's connection ticket
  /// (the server's connection count) is given back.
  ws_hub(std::shared_ptr<boost::asio::io_context> http_io,
         api_context_ptr ctx, std::shared_ptr<const authorizer> auth);

  /// Ends the serializer if stop() did not (the actor system waits for it),
  /// and the ws thread.
  ~ws_hub();

  /// Subscribes to every change of the node and starts the ws thread; an
  /// error message if it cannot. On the main thread.
  std::optional<std::string> start();

  /// Closes every session, stops the feed and joins the ws thread. On the
  /// main or the io thread; idempotent.
  void stop();

  /// The router hook for `/ws`, on the io thread: judges the request there
  /// and hands the connection to the ws thread.
  std::optional<http::response> upgrade(boost::beast::tcp_stream& stream,
                                        http::request& req,
                                        http::connection_ticket ticket);

  /// Sends `p` to every session, in the form it may see.
  void publish(ws_push p);

  /// The newest push, what a new client starts from.
  const ws_push& newest() const noexcept {
    return newest_;
  }

  const api_context& context() const noexcept {
    return *ctx_;
  }

  /// The io_context the sessions run on, for answers from actors; weak (an
  /// answer after it is gone is dropped).
  std::weak_ptr<boost::asio::io_context> io() const noexcept {
    return ioc_;
  }

  void attach(const std::shared_ptr<ws_session>& s);
  void detach(ws_session* s);

  /// Sessions open; on any thread (/metrics).
  std::size_t clients() const noexcept {
    return clients_.load(std::memory_order_relaxed);
  }

private:
  using session_list = std::vector<std::weak_ptr<ws_session>>;

  /// Pushes `p` to `targets` from `next` on, one session per io handler.
  void push_from(std::shared_ptr<const session_list> targets,
                 std::size_t next, ws_push p);

  /// Closes the sessions, on the ws thread.
  void close_sessions();

  std::weak_ptr<boost::asio::io_context> http_io_;
  std::shared_ptr<boost::asio::io_context> ioc_; ///< the ws thread's
  boost::asio::executor_work_guard<boost::asio::io_context::executor_type>
    work_;
  std::thread thread_;
  api_context_ptr ctx_;
  std::shared_ptr<const authorizer> auth_;
  cfgactors::subscriber_actor serializer_; ///< every change, serialized
  cfgactors::subscription feed_;           ///< of serializer_
  std::unordered_map<ws_session*, std::weak_ptr<ws_session>> sessions_;
  std::atomic<std::size_t> clients_{0};
  ws_push newest_;
  uint64_t pushing_ = 0; ///< the version publish is handing out
  std::atomic<bool> stopped_{false};
};

} // namespace cfgd

#include "sources/ws_client.hpp"

#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "sources/backoff.hpp"

namespace cfgactors::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

std::string connect_failure(error_code ec,
                            std::chrono::milliseconds timeout) {
  if (ec == beast::error::timeout)
    return "connect timed out after " + std::to_string(timeout.count())
           + " ms";
  if (ec == asio::error::connection_refused)
    return "connection refused";
  return "connect failed: " + ec.message();
}

} // namespace

struct ws_client::impl {
  /// One connection attempt and, once it succeeded, the connection. The
  /// handlers of an attempt that was given up find it is no longer
  /// `current` and do nothing.
  struct session {
    explicit session(asio::io_context& ioc) : ws(ioc) {
      // nop
    }

    websocket::stream<beast::tcp_stream> ws;
    beast::flat_buffer buffer;
    websocket::response_type upgrade; ///< the server's answer to the upgrade
  };

  using session_ptr = std::shared_ptr<session>;

  ws_client_options options;
  ws_client_events events;
  asio::io_context ioc;
  asio::executor_work_guard<asio::io_context::executor_type> work;
  tcp::resolver resolver;
  asio::steady_timer retry_timer;
  backoff retry;
  session_ptr current;
  bool stopping = false;

  impl(ws_client_options opts, ws_client_events evs)
    : options(std::move(opts)),
      events(std::move(evs)),
      work(ioc.get_executor()),
      resolver(ioc),
      retry_timer(ioc),
      retry(options.min_backoff, options.max_backoff) {
    // nop
  }

  bool stale(const session_ptr& s) const {
    return stopping || s != current;
  }

  void connect() {
    auto s = std::make_shared<session>(ioc);
    current = s;
    resolver.async_resolve(
      options.endpoint.host, options.endpoint.port,
      [this, s](error_code ec, tcp::resolver::results_type endpoints) {
        if (stale(s))
          return;
        if (ec) {
          fail(s, "cannot resolve '" + options.endpoint.host
                    + "': " + ec.message());
          return;
        }
        auto& stream = beast::get_lowest_layer(s->ws);
        stream.expires_after(options.connect_timeout);
        stream.async_connect(endpoints,
                             [this, s](error_code ec, const tcp::endpoint&) {
                               if (stale(s))
                                 return;
                               if (ec)
                                 fail(s, connect_failure(
                                           ec, options.connect_timeout));
                               else
                                 handshake(s);
                             });
      });
  }

  void handshake(const session_ptr& s) {
    // From here on the WebSocket's own timeouts apply.
    beast::get_lowest_layer(s->ws).expires_never();
    websocket::stream_base::timeout limits;
    limits.handshake_timeout = options.connect_timeout;
    // A server that vanished without closing is noticed: after 15 s
    // without data Beast pings, after 15 s more it gives up.
    limits.idle_timeout = std::chrono::seconds{15};
    limits.keep_alive_pings = true;
    s->ws.set_option(limits);
    s->ws.set_option(websocket::stream_base::decorator(
      [token{options.token}](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "cfgactors");
        if (!token.empty())
          req.set(beast::http::field::authorization, "Bearer " + token);
      }));
    s->ws.async_handshake(
      s->upgrade, options.endpoint.authority(), options.target,
      [this, s](error_code ec) {
        if (stale(s))
          return;
        if (ec == websocket::error::upgrade_declined) {
          fail(s, "the server declined the WebSocket upgrade of "
                    + options.target + " (HTTP "
                    + std::to_string(s->upgrade.result_int()) + " "
                    + std::string{s->upgrade.reason()} + ")");
          return;
        }
        if (ec) {
          fail(s, ec == beast::error::timeout
                    ? "the WebSocket upgrade timed out"
                    : "the WebSocket upgrade failed: " + ec.message());
          return;
        }
        s->ws.text(true);
        s->ws.async_write(asio::buffer(options.hello),
                          [this, s](error_code ec, std::size_t) {
                            if (stale(s))
                              return;
                            if (ec) {
                              fail(s, "sending the register message "
                                      "failed: "
                                        + ec.message());
                              return;
                            }
                            retry.reset();
                            events.connected();
                            read(s);
                          });
      });
  }

  void read(const session_ptr& s) {
    s->ws.async_read(s->buffer, [this, s](error_code ec, std::size_t) {
      if (stale(s))
        return;
      if (ec) {
        fail(s, read_failure(*s, ec));
        return;
      }
      events.message(beast::buffers_to_string(s->buffer.data()));
      s->buffer.consume(s->buffer.size());
      read(s);
    });
  }

  static std::string read_failure(session& s, error_code ec) {
    if (ec == websocket::error::closed) {
      auto& why = s.ws.reason();
      auto out = "the server closed the connection (code "
                 + std::to_string(why.code);
      if (!why.reason.empty())
        out += ": " + std::string{why.reason.data(), why.reason.size()};
      return out + ")";
    }
    if (ec == beast::error::timeout)
      return "the connection went silent (no answer to a ping)";
    if (ec == asio::error::eof || ec == asio::error::connection_reset)
      return "the connection dropped";
    return "the connection failed: " + ec.message();
  }

  /// Gives up the attempt or connection `s` and schedules the next one.
  void fail(const session_ptr& s, std::string why) {
    beast::get_lowest_layer(s->ws).close();
    current.reset();
    auto delay = retry.next();
    events.disconnected(std::move(why), delay);
    retry_timer.expires_after(delay);
    retry_timer.async_wait([this](error_code ec) {
      if (!ec && !stopping)
        connect();
    });
  }

  void stop() {
    stopping = true;
    retry_timer.cancel();
    resolver.cancel();
    if (current)
      beast::get_lowest_layer(current->ws).close();
    current.reset();
    // Handlers still queued (aborted reads, Beast's ping timer) are
    // destroyed with the io_context, never run.
    ioc.stop();
  }
};

ws_client::ws_client(ws_client_options options, ws_client_events events)
  : impl_(std::make_unique<impl>(std::move(options), std::move(events))) {
  auto self = impl_.get();
  asio::post(self->ioc, [self] { self->connect(); });
  thread_ = std::thread{[self] { self->ioc.run(); }};
}

ws_client::~ws_client() {
  auto self = impl_.get();
  asio::post(self->ioc, [self] { self->stop(); });
  thread_.join();
}

} // namespace cfgactors::detail

#include "sources/ws_client.hpp"

#include <optional>
#include <utility>

#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <boost/beast/websocket/error.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "sources/backoff.hpp"

namespace cfgactors::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = boost::beast::websocket;
namespace ssl = boost::asio::ssl;
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
    session(asio::io_context& ioc, ssl::context* tls) {
      if (tls)
        secure.emplace(ioc, *tls);
      else
        plain.emplace(ioc);
    }

    /// Runs `f` on the WebSocket, whichever kind it is.
    template <class F>
    void visit(F&& f) {
      if (secure)
        f(*secure);
      else
        f(*plain);
    }

    beast::tcp_stream& lowest() {
      return secure ? beast::get_lowest_layer(*secure)
                    : beast::get_lowest_layer(*plain);
    }

    SSL* native() {
      return secure ? secure->next_layer().native_handle() : nullptr;
    }

    std::optional<websocket::stream<beast::tcp_stream>> plain;
    std::optional<websocket::stream<beast::ssl_stream<beast::tcp_stream>>>
      secure;
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
  std::optional<ssl::context> tls; ///< for wss, loaded at the first connect
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
    ssl::context* ctx = nullptr;
    std::string error;
    if (options.endpoint.scheme == "wss") {
      // A file that cannot be loaded is tried again on the next attempt.
      if (!tls)
        tls = make_tls_context(options.tls, error);
      ctx = tls ? &*tls : nullptr;
    }
    auto s = std::make_shared<session>(ioc, ctx);
    current = s;
    if (!error.empty()
        || (s->secure
            && !expect_peer_name(s->native(), options.endpoint.host, error))) {
      fail(s, error, true);
      return;
    }
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
        auto& stream = s->lowest();
        stream.expires_after(options.connect_timeout);
        stream.async_connect(endpoints,
                             [this, s](error_code ec, const tcp::endpoint&) {
                               if (stale(s))
                                 return;
                               if (ec)
                                 fail(s, connect_failure(
                                           ec, options.connect_timeout));
                               else if (s->secure)
                                 tls_handshake(s);
                               else
                                 handshake(s);
                             });
      });
  }

  void tls_handshake(const session_ptr& s) {
    s->secure->next_layer().async_handshake(
      ssl::stream_base::client, [this, s](error_code ec) {
        if (stale(s))
          return;
        if (!ec) {
          handshake(s);
          return;
        }
        if (ec == beast::error::timeout)
          fail(s, "TLS handshake timed out after "
                    + std::to_string(options.connect_timeout.count())
                    + " ms");
        else if (peer_refused(s->native()))
          // A refused certificate stays refused until someone changes it.
          fail(s, "TLS handshake failed: " + tls_error_text(s->native(), ec),
               true);
        else
          fail(s, "TLS handshake failed: " + ec.message());
      });
  }

  void handshake(const session_ptr& s) {
    // From here on the WebSocket's own timeouts apply.
    s->lowest().expires_never();
    websocket::stream_base::timeout limits;
    limits.handshake_timeout = options.connect_timeout;
    // A server that vanished without closing is noticed: after `heartbeat`
    // without data Beast pings, after as long again it gives up.
    limits.idle_timeout = options.heartbeat;
    limits.keep_alive_pings = true;
    s->visit([&](auto& ws) {
      ws.set_option(limits);
      ws.set_option(websocket::stream_base::decorator(
        [token{options.token}](websocket::request_type& req) {
          req.set(beast::http::field::user_agent, "cfgactors");
          if (!token.empty())
            req.set(beast::http::field::authorization, "Bearer " + token);
        }));
      ws.async_handshake(s->upgrade, options.endpoint.authority(),
                         options.target,
                         [this, s](error_code ec) { upgraded(s, ec); });
    });
  }

  void upgraded(const session_ptr& s, error_code ec) {
    if (stale(s))
      return;
    if (ec == websocket::error::upgrade_declined) {
      auto code = s->upgrade.result_int();
      // No token, a refused one, no such endpoint: a person must act.
      fail(s,
           "the server declined the WebSocket upgrade of " + options.target
             + " (HTTP " + std::to_string(code) + " "
             + std::string{s->upgrade.reason()} + ")",
           code == 401 || code == 403 || code == 404);
      return;
    }
    if (ec) {
      fail(s, ec == beast::error::timeout
                ? "the WebSocket upgrade timed out"
                : "the WebSocket upgrade failed: " + upgrade_failure(*s, ec));
      return;
    }
    s->visit([&](auto& ws) {
      ws.text(true);
      ws.async_write(asio::buffer(options.hello),
                     [this, s](error_code ec, std::size_t) {
                       if (stale(s))
                         return;
                       if (ec) {
                         fail(s, "sending the register message failed: "
                                   + ec.message());
                         return;
                       }
                       retry.reset();
                       events.connected();
                       read(s);
                     });
    });
  }

  /// TLS 1.3 finishes the client's handshake before the server checks the
  /// client certificate: a missing or refused one shows on the upgrade.
  std::string upgrade_failure(session& s, error_code ec) {
    if (certificate_required(ec))
      return options.tls.cert_file.empty()
               ? "the server requires a client certificate and none is set"
               : "the server requires a client certificate and did not "
                 "take ours";
    if (is_tls_error(ec)) {
      auto out = "TLS: " + tls_error_text(s.native(), ec);
      // Some servers (Python's asyncio) close without an alert instead.
      if (ec == ssl::error::stream_truncated)
        out += options.tls.cert_file.empty()
                 ? " (the server may want a client certificate; none is set)"
                 : " (the server may have refused the client certificate)";
      return out;
    }
    return ec.message();
  }

  void read(const session_ptr& s) {
    s->visit([&](auto& ws) {
      ws.async_read(s->buffer, [this, s](error_code ec, std::size_t) {
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
    });
  }

  static std::string read_failure(session& s, error_code ec) {
    if (ec == websocket::error::closed) {
      websocket::close_reason why;
      s.visit([&](auto& ws) { why = ws.reason(); });
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
  void fail(const session_ptr& s, std::string why, bool for_good = false) {
    s->lowest().close();
    current.reset();
    auto delay = retry.next();
    events.disconnected(std::move(why), delay, for_good);
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
      current->lowest().close();
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

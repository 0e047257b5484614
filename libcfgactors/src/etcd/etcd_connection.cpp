#include "etcd/etcd_connection.hpp"

#include <atomic>
#include <functional>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <openssl/ssl.h>

#include "sources/tls.hpp"
#include "sources/url.hpp"

namespace cfgactors::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using request = bhttp::request<bhttp::string_body>;
using tls_stream = beast::ssl_stream<beast::tcp_stream>;

std::string ms(std::chrono::milliseconds x) {
  return std::to_string(x.count()) + " ms";
}

etcd_error failure(const std::string& endpoint, etcd_error::kind what,
                   const std::string& message) {
  return {what, endpoint + ": " + message, 0};
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

struct etcd_connection::impl {
  etcd_options opts;
  // Declared before the streams, which must go first.
  asio::io_context ioc;
  std::optional<ssl::context> tls_ctx;
  std::optional<beast::tcp_stream> plain;
  std::optional<tls_stream> tls;
  std::string endpoint;
  url where;
  beast::flat_buffer buffer;
  std::optional<bhttp::response_parser<bhttp::string_body>> parser;
  std::string pending; ///< stream bytes after the last complete message
  std::function<std::size_t(std::uint64_t, beast::string_view, error_code&)>
    on_chunk;
  std::atomic<bool> interrupted{false};
  int answers = 0; ///< on this connection so far

  explicit impl(etcd_options o) : opts(std::move(o)) {
    // nop
  }

  beast::tcp_stream& lowest() {
    return tls ? beast::get_lowest_layer(*tls) : *plain;
  }

  bool is_open() {
    return (plain || tls) && lowest().socket().is_open();
  }

  void close() {
    if (plain || tls) {
      error_code ignored;
      lowest().socket().close(ignored);
    }
    tls.reset();
    plain.reset();
    answers = 0;
    parser.reset();
    buffer.clear();
    pending.clear();
  }

  /// Runs the operation `start` begins to completion on this thread. An
  /// interrupted connection never runs its io_context again, so the
  /// abandoned handler (which refers to this frame) never runs either.
  template <class Start>
  error_code run(Start&& start) {
    error_code result = asio::error::in_progress;
    if (interrupted)
      return asio::error::operation_aborted;
    start([&result](error_code ec, auto&&...) { result = ec; });
    ioc.restart();
    if (interrupted)
      return asio::error::operation_aborted;
    ioc.run();
    if (result == asio::error::in_progress)
      return asio::error::operation_aborted; // interrupt() stopped ioc
    return result;
  }

  template <class F>
  auto with_stream(F&& f) {
    return tls ? f(*tls) : f(*plain);
  }

  ssl::context* tls_context(etcd_error& err) {
    if (tls_ctx)
      return &*tls_ctx;
    std::string why;
    tls_ctx = make_tls_context({opts.cacert, opts.cert, opts.key}, why);
    if (!tls_ctx) {
      err = failure(endpoint, etcd_error::kind::refused, "TLS setup: " + why);
      return nullptr;
    }
    return &*tls_ctx;
  }

  request make_request(std::string_view rpc, const std::string& body,
                       const std::string& token) {
    request req{bhttp::verb::post, where.target("/v3/") + std::string{rpc},
                11};
    req.set(bhttp::field::host, where.authority());
    req.set(bhttp::field::content_type, "application/json");
    req.set(bhttp::field::user_agent, "cfgactors");
    if (!token.empty())
      req.set(bhttp::field::authorization, token);
    req.keep_alive(true);
    req.body() = body;
    req.prepare_payload();
    return req;
  }

  std::string transport_failure(const char* step, error_code ec,
                                std::chrono::milliseconds timeout) {
    if (ec == beast::error::timeout)
      return std::string{step} + ": timed out after " + ms(timeout);
    if (ec == bhttp::error::body_limit)
      return std::string{step} + ": the answer is larger than "
             + std::to_string(opts.max_body) + " bytes (max_body)";
    if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message
        || ec == asio::error::eof)
      return std::string{step} + ": the server closed the connection";
    if (is_tls_error(ec))
      return std::string{step} + ": TLS: "
             + tls_error_text(tls ? tls->native_handle() : nullptr, ec);
    return std::string{step} + ": " + ec.message();
  }

  bool fail_transport(const char* step, error_code ec,
                      std::chrono::milliseconds timeout, etcd_error& err) {
    auto why = transport_failure(step, ec, timeout);
    // TLS 1.3 finishes the client's handshake before the server checks the
    // client certificate: a refused one shows as a reset on first use.
    if (tls && answers == 0 && ec != beast::error::timeout
        && !contains(why, "TLS"))
      why += " (on a new TLS connection: the server may have refused the "
             "client certificate)";
    err = failure(endpoint, etcd_error::kind::unavailable, why);
    close();
    return false;
  }

  bool open(const std::string& ep, etcd_error& err) {
    close();
    endpoint = ep;
    std::string why;
    auto u = parse_url(ep, why);
    if (!u) {
      err = {etcd_error::kind::refused, why, 0};
      return false;
    }
    if (u->scheme != "http" && u->scheme != "https") {
      err = failure(ep, etcd_error::kind::refused,
                    "unsupported scheme '" + u->scheme
                      + "' (use http or https)");
      return false;
    }
    where = *u;
    // Blocking, but bounded by the resolver's own timeouts; the usual
    // numeric address never leaves the process.
    tcp::resolver resolver{ioc};
    error_code ec;
    auto addresses = resolver.resolve(where.host, where.port, ec);
    if (ec) {
      err = failure(ep, etcd_error::kind::unavailable,
                    "cannot resolve '" + where.host + "': " + ec.message());
      return false;
    }
    if (where.scheme == "https") {
      auto ctx = tls_context(err);
      if (!ctx)
        return false;
      tls.emplace(ioc, *ctx);
      if (!verify_name(err))
        return false;
    } else {
      plain.emplace(ioc);
    }
    lowest().expires_after(opts.connect_timeout);
    ec = run([&](auto handler) {
      lowest().async_connect(addresses, std::move(handler));
    });
    if (ec)
      return fail_transport("connect", ec, opts.connect_timeout, err);
    lowest().socket().set_option(tcp::no_delay{true}, ec);
    if (tls) {
      ec = run([&](auto handler) {
        tls->async_handshake(ssl::stream_base::client, std::move(handler));
      });
      if (ec)
        return fail_transport("TLS handshake", ec, opts.connect_timeout, err);
    }
    return true;
  }

  /// The certificate must name the host (sources/tls.hpp).
  bool verify_name(etcd_error& err) {
    std::string why;
    if (expect_peer_name(tls->native_handle(), where.host, why))
      return true;
    err = failure(endpoint, etcd_error::kind::refused, why);
    close();
    return false;
  }

  bool send(std::string_view rpc, const std::string& body,
            const std::string& token, etcd_error& err) {
    if (!is_open()) {
      err = failure(endpoint, etcd_error::kind::unavailable, "not connected");
      return false;
    }
    auto req = make_request(rpc, body, token);
    lowest().expires_after(opts.request_timeout);
    auto ec = run([&](auto handler) {
      with_stream([&](auto& s) {
        bhttp::async_write(s, req, std::move(handler));
        return 0;
      });
    });
    if (ec)
      return fail_transport("sending the request", ec, opts.request_timeout,
                            err);
    parser.emplace();
    return true;
  }

  /// Reads the answer's header into `parser`, within the request timeout.
  error_code read_header() {
    return run([&](auto handler) {
      with_stream([&](auto& s) {
        bhttp::async_read_header(s, buffer, *parser, std::move(handler));
        return 0;
      });
    });
  }

  /// Reads the rest of the answer into `parser`.
  error_code read_rest() {
    return run([&](auto handler) {
      with_stream([&](auto& s) {
        bhttp::async_read(s, buffer, *parser, std::move(handler));
        return 0;
      });
    });
  }

  std::optional<etcd_answer> post(std::string_view rpc,
                                  const std::string& body,
                                  const std::string& token, etcd_error& err) {
    if (!send(rpc, body, token, err))
      return std::nullopt;
    parser->body_limit(opts.max_body);
    // Beast 1.74 loses the body_limit error of a Content-Length body that
    // arrives with the header; that limit we check ourselves.
    auto ec = read_header();
    if (!ec && parser->content_length().value_or(0) > opts.max_body)
      ec = bhttp::error::body_limit;
    if (!ec && !parser->is_done())
      ec = read_rest();
    if (ec) {
      fail_transport("reading the answer", ec, opts.request_timeout, err);
      return std::nullopt;
    }
    auto res = parser->release();
    parser.reset();
    ++answers;
    if (!res.keep_alive())
      close();
    return etcd_answer{res.result_int(), std::move(res.body())};
  }

  std::optional<etcd_answer> post_stream(std::string_view rpc,
                                         const std::string& body,
                                         const std::string& token,
                                         etcd_error& err) {
    if (!send(rpc, body, token, err))
      return std::nullopt;
    auto ec = read_header();
    if (ec) {
      fail_transport("reading the answer", ec, opts.request_timeout, err);
      return std::nullopt;
    }
    auto status = parser->get().result_int();
    ++answers;
    if (status != 200) {
      // An error: one ordinary, bounded answer.
      parser->body_limit(opts.max_body);
      ec = read_rest();
      if (ec) {
        fail_transport("reading the answer", ec, opts.request_timeout, err);
        return std::nullopt;
      }
      auto res = parser->release();
      close();
      return etcd_answer{status, std::move(res.body())};
    }
    // The stream: messages may split across chunks or share one; the
    // gateway ends each with a newline. The body is never stored.
    on_chunk = [this](std::uint64_t, beast::string_view part, error_code&) {
      pending.append(part.data(), part.size());
      return part.size();
    };
    parser->body_limit(boost::none);
    parser->on_chunk_body(on_chunk);
    lowest().expires_never(); // the owner judges a quiet stream
    return etcd_answer{status, {}};
  }

  std::optional<nlohmann::json> next_message(etcd_error& err) {
    for (;;) {
      if (auto eol = pending.find('\n'); eol != std::string::npos) {
        auto line = pending.substr(0, eol);
        pending.erase(0, eol + 1);
        if (line.find_first_not_of(" \r\t") == std::string::npos)
          continue;
        auto msg = nlohmann::json::parse(line, nullptr, false);
        if (msg.is_discarded() || !msg.is_object()) {
          err = failure(endpoint, etcd_error::kind::bad_answer,
                        "a stream message is not a JSON object: "
                          + line.substr(0, 200));
          close();
          return std::nullopt;
        }
        return msg;
      }
      if (pending.size() > opts.max_body) {
        err = failure(endpoint, etcd_error::kind::bad_answer,
                      "a stream message is larger than "
                        + std::to_string(opts.max_body) + " bytes (max_body)");
        close();
        return std::nullopt;
      }
      if (!parser || parser->is_done()) {
        err = failure(endpoint, etcd_error::kind::unavailable,
                      "the stream ended");
        close();
        return std::nullopt;
      }
      auto ec = run([&](auto handler) {
        with_stream([&](auto& s) {
          bhttp::async_read_some(s, buffer, *parser, std::move(handler));
          return 0;
        });
      });
      if (ec) {
        fail_transport("reading the stream", ec, opts.request_timeout, err);
        return std::nullopt;
      }
      if (parser->is_done() && !pending.empty() && pending.back() != '\n')
        pending += '\n'; // a last message without its newline
    }
  }
};

etcd_connection::etcd_connection(etcd_options opts)
  : impl_(std::make_unique<impl>(std::move(opts))) {
  // nop
}

etcd_connection::~etcd_connection() {
  impl_->close();
}

bool etcd_connection::open(const std::string& endpoint, etcd_error& err) {
  return impl_->open(endpoint, err);
}

bool etcd_connection::is_open() const {
  return impl_->is_open();
}

const std::string& etcd_connection::endpoint() const {
  return impl_->endpoint;
}

void etcd_connection::close() {
  impl_->close();
}

std::optional<etcd_answer> etcd_connection::post(std::string_view rpc,
                                                 const std::string& body,
                                                 const std::string& token,
                                                 etcd_error& err) {
  return impl_->post(rpc, body, token, err);
}

std::optional<etcd_answer>
etcd_connection::post_stream(std::string_view rpc, const std::string& body,
                             const std::string& token, etcd_error& err) {
  return impl_->post_stream(rpc, body, token, err);
}

std::optional<nlohmann::json> etcd_connection::next_message(etcd_error& err) {
  return impl_->next_message(err);
}

void etcd_connection::interrupt() {
  impl_->interrupted = true;
  impl_->ioc.stop();
}

etcd_error grpc_error(const std::string& endpoint, int code,
                      const std::string& message, unsigned status) {
  etcd_error err;
  err.code = code;
  err.message = endpoint + ": ";
  if (status != 0)
    err.message += "HTTP " + std::to_string(status) + ": ";
  err.message += message.empty() ? std::string{"(no message)"} : message;
  if (code != 0)
    err.message += " (gRPC code " + std::to_string(code) + ")";
  // Transient: the member is cut off, has no leader or is overloaded.
  auto transient = code == 4 || code == 14 || code == 8
                   || contains(message, "no leader")
                   || contains(message, "request timed out")
                   || contains(message, "leader changed");
  // A definite no from etcd, whatever HTTP status the gateway chose.
  auto definite = code == 3 || code == 5 || code == 6 || code == 7
                  || code == 9 || code == 11 || code == 16;
  if (transient)
    err.what = etcd_error::kind::unavailable;
  else if (definite || (status >= 400 && status < 500))
    err.what = etcd_error::kind::refused;
  else
    err.what = etcd_error::kind::unavailable; // 5xx and anything else
  return err;
}

etcd_error answer_error(const std::string& endpoint, unsigned status,
                        const std::string& body) {
  auto doc = nlohmann::json::parse(body, nullptr, false);
  if (!doc.is_object() || !doc.contains("error")) {
    auto what = status >= 400 && status < 500 ? etcd_error::kind::refused
                                              : etcd_error::kind::unavailable;
    return failure(endpoint, what,
                   "HTTP " + std::to_string(status) + ": "
                     + body.substr(0, 200));
  }
  auto& error = doc["error"];
  if (error.is_object()) // the streaming form
    return grpc_error(endpoint, error.value("grpc_code", 0),
                      error.value("message", std::string{}),
                      error.value("http_code", status));
  auto message = doc.value("message", std::string{});
  if (message.empty() && error.is_string())
    message = error.get<std::string>();
  return grpc_error(endpoint, doc.value("code", 0), message, status);
}

bool is_token_error(const etcd_error& err) {
  return err.code == 16 || contains(err.message, "invalid auth token")
         || contains(err.message, "auth token is expired")
         || contains(err.message, "revision of auth store is old");
}

std::optional<std::string> authenticate(etcd_connection& conn,
                                        const etcd_options& opts,
                                        etcd_error& err) {
  nlohmann::json body{{"name", opts.user}, {"password", opts.password}};
  auto answer = conn.post("auth/authenticate", body.dump(), {}, err);
  if (!answer)
    return std::nullopt;
  if (answer->status != 200) {
    err = answer_error(conn.endpoint(), answer->status, answer->body);
    err.message = conn.endpoint() + ": authenticate as '" + opts.user + "'"
                  + err.message.substr(conn.endpoint().size());
    return std::nullopt;
  }
  auto doc = nlohmann::json::parse(answer->body, nullptr, false);
  if (!doc.is_object() || !doc.contains("token")
      || !doc["token"].is_string()) {
    err = failure(conn.endpoint(), etcd_error::kind::bad_answer,
                  "authenticate: no token in " + answer->body.substr(0, 200));
    return std::nullopt;
  }
  return doc["token"].get<std::string>();
}

} // namespace cfgactors::detail

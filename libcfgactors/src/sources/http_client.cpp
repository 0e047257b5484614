#include "sources/http_client.hpp"

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/empty_body.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>

namespace cfgactors::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using request = bhttp::request<bhttp::empty_body>;

/// Runs one asynchronous operation to completion on `ioc`. The operations
/// are asynchronous only because Beast's timeouts need them to be.
template <class Start>
error_code run(asio::io_context& ioc, Start&& start) {
  error_code result = asio::error::in_progress;
  start([&result](error_code ec, auto&&...) { result = ec; });
  ioc.restart();
  ioc.run();
  return result;
}

std::string ms(std::chrono::milliseconds x) {
  return std::to_string(x.count()) + " ms";
}

bool connect(asio::io_context& ioc, beast::tcp_stream& stream, const url& u,
             const http_limits& limits, std::string& error) {
  // Blocking, but bounded by the system resolver's own timeouts; a numeric
  // address never leaves the process.
  tcp::resolver resolver{ioc};
  error_code ec;
  auto endpoints = resolver.resolve(u.host, u.port, ec);
  if (ec) {
    error = "cannot resolve '" + u.host + "': " + ec.message();
    return false;
  }
  stream.expires_after(limits.connect_timeout);
  ec = run(ioc, [&](auto handler) {
    stream.async_connect(endpoints, std::move(handler));
  });
  if (!ec)
    return true;
  if (ec == beast::error::timeout)
    error = "connect timed out after " + ms(limits.connect_timeout);
  else if (ec == asio::error::connection_refused)
    error = "connection refused";
  else
    error = "connect failed: " + ec.message();
  return false;
}

std::string read_failure(error_code ec, const http_limits& limits) {
  if (ec == beast::error::timeout)
    return "no complete answer within " + ms(limits.read_timeout);
  if (ec == bhttp::error::body_limit)
    return "the body is larger than " + std::to_string(limits.max_body)
           + " bytes (max_body)";
  if (ec == bhttp::error::end_of_stream || ec == bhttp::error::partial_message
      || ec == asio::error::eof)
    return "the server closed the connection before a complete answer";
  return "reading the answer failed: " + ec.message();
}

template <class Stream>
std::optional<http_reply> exchange(asio::io_context& ioc, Stream& stream,
                                   const request& req,
                                   const http_limits& limits,
                                   std::string& error) {
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(limits.read_timeout);
  auto ec = run(ioc, [&](auto handler) {
    bhttp::async_write(stream, req, std::move(handler));
  });
  if (ec) {
    error = ec == beast::error::timeout
              ? "sending the request timed out after " + ms(limits.read_timeout)
              : "sending the request failed: " + ec.message();
    return std::nullopt;
  }
  beast::flat_buffer buffer;
  bhttp::response_parser<bhttp::string_body> parser;
  // Beast checks the limit while reading a chunked body or one that ends at
  // EOF; Content-Length we check after the header ourselves, because 1.74's
  // parser loses that error when the body arrived with the header.
  parser.body_limit(limits.max_body);
  ec = run(ioc, [&](auto handler) {
    bhttp::async_read_header(stream, buffer, parser, std::move(handler));
  });
  if (!ec && parser.content_length().value_or(0) > limits.max_body)
    ec = bhttp::error::body_limit;
  if (!ec && !parser.is_done())
    ec = run(ioc, [&](auto handler) {
      bhttp::async_read(stream, buffer, parser, std::move(handler));
    });
  if (ec) {
    error = read_failure(ec, limits);
    return std::nullopt;
  }
  auto res = parser.release();
  http_reply reply;
  reply.status = res.result_int();
  reply.reason = std::string{res.reason()};
  if (auto i = res.find(bhttp::field::etag); i != res.end())
    reply.etag = std::string{i->value()};
  reply.body = std::move(res.body());
  error_code ignored;
  lowest.socket().shutdown(tcp::socket::shutdown_both, ignored);
  return reply;
}

} // namespace

struct http_client::impl {
  asio::io_context ioc;
  std::optional<ssl::context> tls;

  ssl::context* tls_context(std::string& error) {
    if (tls)
      return &*tls;
    ssl::context ctx{ssl::context::tls_client};
    error_code ec;
    ctx.set_default_verify_paths(ec);
    if (ec) {
      error = "cannot load the system's CA certificates: " + ec.message();
      return nullptr;
    }
    ctx.set_verify_mode(ssl::verify_peer);
    tls.emplace(std::move(ctx));
    return &*tls;
  }
};

http_client::http_client(http_limits limits)
  : limits_(limits), impl_(std::make_unique<impl>()) {
  // nop
}

http_client::~http_client() = default;

std::optional<http_reply> http_client::get(const url& endpoint,
                                           const std::string& target,
                                           const http_headers& headers,
                                           std::string& error) {
  request req{bhttp::verb::get, target, 11};
  auto host = endpoint.authority();
  if (endpoint.port == (endpoint.scheme == "https" ? "443" : "80"))
    host.erase(host.rfind(':'));
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "cfgactors");
  req.set(bhttp::field::accept, "application/json");
  req.keep_alive(false);
  for (auto& [name, value] : headers)
    req.set(name, value);
  auto& ioc = impl_->ioc;
  if (endpoint.scheme == "http") {
    beast::tcp_stream stream{ioc};
    if (!connect(ioc, stream, endpoint, limits_, error))
      return std::nullopt;
    return exchange(ioc, stream, req, limits_, error);
  }
  if (endpoint.scheme == "https") {
    auto ctx = impl_->tls_context(error);
    if (!ctx)
      return std::nullopt;
    beast::ssl_stream<beast::tcp_stream> stream{ioc, *ctx};
    // SNI, and the name the certificate must carry.
    if (!SSL_set_tlsext_host_name(stream.native_handle(),
                                  endpoint.host.c_str())) {
      error = "cannot set the TLS server name '" + endpoint.host + "'";
      return std::nullopt;
    }
    stream.set_verify_callback(ssl::host_name_verification{endpoint.host});
    if (!connect(ioc, beast::get_lowest_layer(stream), endpoint, limits_,
                 error))
      return std::nullopt;
    beast::get_lowest_layer(stream).expires_after(limits_.connect_timeout);
    auto ec = run(ioc, [&](auto handler) {
      stream.async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (ec) {
      error = ec == beast::error::timeout
                ? "TLS handshake timed out after " + ms(limits_.connect_timeout)
                : "TLS handshake failed: " + ec.message();
      return std::nullopt;
    }
    return exchange(ioc, stream, req, limits_, error);
  }
  error = "unsupported scheme '" + endpoint.scheme + "' (use http or https)";
  return std::nullopt;
}

} // namespace cfgactors::detail

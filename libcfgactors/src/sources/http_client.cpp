#include "sources/http_client.hpp"

#include <boost/asio/connect.hpp>
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
#include <openssl/err.h>

namespace cfgactors::detail {

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace ssl = boost::asio::ssl;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;
using request = bhttp::request<bhttp::string_body>;

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

/// Why the exchange failed; sets `for_good` when retrying cannot help.
std::string read_failure(error_code ec, const http_limits& limits,
                         bool client_cert, bool& for_good) {
  if (is_tls_error(ec)) {
    // TLS 1.3 finishes the client's handshake before the server checks the
    // client certificate: a missing or refused one shows here.
    auto reason = ERR_GET_REASON(static_cast<unsigned long>(ec.value()));
    if (certificate_required(ec)) {
      for_good = true;
      return client_cert ? "the server requires a client certificate and "
                           "did not take ours"
                         : "the server requires a client certificate and "
                           "none is set";
    }
    if (reason == SSL_R_TLSV1_ALERT_UNKNOWN_CA
        || reason == SSL_R_SSLV3_ALERT_BAD_CERTIFICATE
        || reason == SSL_R_SSLV3_ALERT_CERTIFICATE_UNKNOWN) {
      for_good = true;
      return "the server refused the client certificate (TLS: "
             + ec.message() + ")";
    }
    return "TLS: " + ec.message();
  }
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
                                   bool client_cert, bool& for_good,
                                   std::string& error) {
  auto& lowest = beast::get_lowest_layer(stream);
  lowest.expires_after(limits.read_timeout);
  auto ec = run(ioc, [&](auto handler) {
    bhttp::async_write(stream, req, std::move(handler));
  });
  beast::flat_buffer buffer;
  if (ec && ec != beast::error::timeout && !is_tls_error(ec)) {
    // A TLS 1.3 server that refused our client certificate may have closed
    // before the request went out; its alert waits to be read.
    bhttp::response_parser<bhttp::string_body> alert;
    auto why = run(ioc, [&](auto handler) {
      bhttp::async_read_header(stream, buffer, alert, std::move(handler));
    });
    if (is_tls_error(why))
      ec = why;
  }
  if (ec) {
    error = ec == beast::error::timeout
              ? "sending the request timed out after " + ms(limits.read_timeout)
              : "sending the request failed: "
                  + (is_tls_error(ec)
                       ? read_failure(ec, limits, client_cert, for_good)
                       : ec.message());
    return std::nullopt;
  }
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
    error = read_failure(ec, limits, client_cert, for_good);
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
  tls_files files;
  std::optional<ssl::context> tls;

  /// Loaded on first use; a file that cannot be loaded is tried again on
  /// the next request (someone may be fixing it).
  ssl::context* tls_context(std::string& error) {
    if (!tls)
      tls = make_tls_context(files, error);
    return tls ? &*tls : nullptr;
  }
};

http_client::http_client(http_limits limits, tls_files tls)
  : limits_(limits), impl_(std::make_unique<impl>()) {
  impl_->files = std::move(tls);
}

http_client::~http_client() = default;

std::optional<http_reply> http_client::get(const url& endpoint,
                                           const std::string& target,
                                           const http_headers& headers,
                                           std::string& error) {
  return send("GET", endpoint, target, headers, {}, error);
}

std::optional<http_reply>
http_client::send(const std::string& method, const url& endpoint,
                  const std::string& target, const http_headers& headers,
                  const std::string& body, std::string& error) {
  auto verb = bhttp::string_to_verb(method);
  if (verb == bhttp::verb::unknown) {
    error = "unknown HTTP method '" + method + "'";
    return std::nullopt;
  }
  request req{verb, target, 11};
  auto host = endpoint.authority();
  if (endpoint.port == (endpoint.scheme == "https" ? "443" : "80"))
    host.erase(host.rfind(':'));
  req.set(bhttp::field::host, host);
  req.set(bhttp::field::user_agent, "cfgactors");
  req.set(bhttp::field::accept, "application/json");
  req.keep_alive(false);
  for (auto& [name, value] : headers)
    req.set(name, value);
  if (!body.empty()) {
    req.set(bhttp::field::content_type, "application/json");
    req.body() = body;
    req.prepare_payload();
  }
  auto& ioc = impl_->ioc;
  failed_for_good_ = false;
  auto client_cert = !impl_->files.cert_file.empty();
  if (endpoint.scheme == "http") {
    beast::tcp_stream stream{ioc};
    if (!connect(ioc, stream, endpoint, limits_, error))
      return std::nullopt;
    return exchange(ioc, stream, req, limits_, client_cert, failed_for_good_,
                    error);
  }
  if (endpoint.scheme == "https") {
    auto ctx = impl_->tls_context(error);
    if (!ctx) {
      failed_for_good_ = true;
      return std::nullopt;
    }
    beast::ssl_stream<beast::tcp_stream> stream{ioc, *ctx};
    // SNI, and the name the certificate must carry.
    if (!expect_peer_name(stream.native_handle(), endpoint.host, error)) {
      failed_for_good_ = true;
      return std::nullopt;
    }
    if (!connect(ioc, beast::get_lowest_layer(stream), endpoint, limits_,
                 error))
      return std::nullopt;
    beast::get_lowest_layer(stream).expires_after(limits_.connect_timeout);
    auto ec = run(ioc, [&](auto handler) {
      stream.async_handshake(ssl::stream_base::client, std::move(handler));
    });
    if (ec) {
      if (ec == beast::error::timeout) {
        error = "TLS handshake timed out after " + ms(limits_.connect_timeout);
      } else if (peer_refused(stream.native_handle())) {
        // A refused certificate stays refused until someone changes it.
        failed_for_good_ = true;
        error = "TLS handshake failed: "
                + tls_error_text(stream.native_handle(), ec);
      } else {
        error = "TLS handshake failed: "
                + (is_tls_error(ec)
                     ? read_failure(ec, limits_, client_cert, failed_for_good_)
                     : ec.message());
      }
      return std::nullopt;
    }
    return exchange(ioc, stream, req, limits_, client_cert, failed_for_good_,
                    error);
  }
  error = "unsupported scheme '" + endpoint.scheme + "' (use http or https)";
  failed_for_good_ = true;
  return std::nullopt;
}

} // namespace cfgactors::detail

// Beast sessions and the accept loop of cfgd's HTTP API.
#include "http/server.hpp"

#include <algorithm>
#include <chrono>
#include <exception>
#include <map>
#include <optional>
#include <string_view>
#include <unordered_map>
#include <utility>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/beast/core/bind_handler.hpp>
#include <boost/beast/core/error.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/version.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <spdlog/spdlog.h>

namespace cfgd::http {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

class session;

namespace {

const boost::system::error_category& http_error_category() {
  return bhttp::make_error_code(bhttp::error::bad_method).category();
}

} // namespace

struct server::state {
  state(std::shared_ptr<asio::io_context> io, std::shared_ptr<const router> r,
        server_limits l)
    : ioc(*io), io_owner(io), acceptor(*io), retry(*io), routes(std::move(r)),
      limits(l) {
    // nop
  }

  asio::io_context& ioc;
  /// For answers from other threads. Weak: a strong one here (and in every
  /// session's answer) would keep the io_context, its pending handlers, the
  /// sessions and the routes alive in a cycle after cfgd stopped.
  std::weak_ptr<asio::io_context> io_owner;
  tcp::acceptor acceptor;
  asio::steady_timer retry; ///< delays accepting after an error (EMFILE)
  std::shared_ptr<const router> routes;
  server_limits limits;
  std::unordered_map<session*, std::weak_ptr<session>> sessions;
  std::size_t open = 0; ///< connections, WebSockets included
  std::map<asio::ip::address, std::size_t> open_by_peer;
  bool stopped = false;
};

namespace {

using state_ptr = std::shared_ptr<server::state>;

/// One open connection, counted until the last holder lets go (always on
/// the io thread: sessions live and die there).
struct counted_connection {
  counted_connection(state_ptr st, asio::ip::address peer)
    : st(std::move(st)), peer(std::move(peer)) {
    ++this->st->open;
    ++this->st->open_by_peer[this->peer];
  }

  ~counted_connection() {
    --st->open;
    if (auto i = st->open_by_peer.find(peer); --i->second == 0)
      st->open_by_peer.erase(i);
  }

  state_ptr st;
  asio::ip::address peer;
};

} // namespace

/// One connection: read a request, answer it, repeat while keep-alive.
class session : public std::enable_shared_from_this<session> {
public:
  session(tcp::socket socket, state_ptr st, connection_ticket ticket)
    : stream_(std::move(socket)), state_(std::move(st)),
      ticket_(std::move(ticket)) {
    // nop
  }

  ~session() {
    state_->sessions.erase(this);
  }

  void start() {
    state_->sessions.emplace(this, weak_from_this());
    read();
  }

  void close() {
    error_code ignored;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

private:
  void read() {
    counted_ = false;
    started_.reset();
    parser_.emplace();
    parser_->body_limit(state_->limits.body_limit);
    parser_->header_limit(static_cast<uint32_t>(state_->limits.header_limit));
    stream_.expires_after(state_->limits.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_,
                             beast::bind_front_handler(&session::on_header,
                                                       shared_from_this()));
  }

  /// Ends the session on a read error, answering what deserves an answer;
  /// false when there was none.
  bool failed(error_code ec) {
    if (!ec)
      return false;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout
        || ec == asio::error::operation_aborted)
      close();
    else if (ec == bhttp::error::body_limit)
      reply_and_close(status::payload_too_large, "request too large",
                      "the body exceeds "
                        + std::to_string(state_->limits.body_limit)
                        + " bytes");
    else if (ec == bhttp::error::header_limit)
      reply_and_close(status::request_header_fields_too_large,
                      "request header too large",
                      "the header exceeds "
                        + std::to_string(state_->limits.header_limit)
                        + " bytes");
    else if (ec.category() == http_error_category())
      reply_and_close(status::bad_request, "bad request", ec.message());
    else
      close();
    return true;
  }

  /// The headers are in: a request its route refuses (no or a wrong token,
  /// a foreign Host) is answered now and its body never read, so nobody
  /// without a token makes us buffer a body.
  void on_header(error_code ec, std::size_t) {
    if (failed(ec))
      return;
    auto& head = parser_->get();
    started_ = std::chrono::steady_clock::now();
    if (!beast::websocket::is_upgrade(head))
      if (auto refusal = state_->routes->admit(head))
        return write(std::move(*refusal), true);
    stream_.expires_after(state_->limits.idle_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      beast::bind_front_handler(&session::on_read,
                                                shared_from_this()));
  }

  void on_read(error_code ec, std::size_t) {
    if (failed(ec))
      return;
    auto req = parser_->release();
    if (beast::websocket::is_upgrade(req)) {
      if (auto fn = state_->routes->upgrade_for(req)) {
        // The handler takes the stream (and this session ends) or refuses.
        stream_.expires_never();
        auto refusal = (*fn)(stream_, req, ticket_);
        observe(req, refusal ? refusal->result_int() : 101);
        if (!refusal)
          return;
        return write(std::move(*refusal), true);
      }
    }
    if (auto fn = state_->routes->stream_for(req)) {
      // An event stream: its handler takes the connection (the headers
      // passed the route's gate in on_header) or refuses it.
      stream_.expires_never();
      auto refusal = (*fn)(stream_, req, ticket_);
      observe(req, refusal ? refusal->result_int() : 200);
      if (!refusal)
        return;
      return write(std::move(*refusal), true);
    }
    // The handler may answer later, from an actor's thread: the session
    // keeps the request until then and writes the answer on the io thread.
    req_ = std::move(req);
    rc_.emplace(http::request_context{*req_, {}, {}, {}});
    // The session lives on in the answer: its last reference must be let go
    // on the io thread (where the session list lives), never on the actor's
    // thread that answered, so the sink hands its reference to the post.
    http::responder respond{
      [self = shared_from_this(),
       io = state_->io_owner](response res) mutable {
        auto ioc = io.lock();
        if (!ioc)
          return; // cfgd stopped: nobody waits for the answer any more
        asio::post(*ioc, [self = std::move(self),
                          res = std::move(res)]() mutable {
          self->answer(std::move(res));
        });
      }};
    state_->routes->dispatch(*rc_, std::move(respond));
  }

  void answer(response res) {
    auto& req = *req_;
    spdlog::debug("event=http_request method={} target=\"{}\" status={}",
                  std::string_view{req.method_string().data(),
                                   req.method_string().size()},
                  std::string_view{req.target().data(), req.target().size()},
                  res.result_int());
    auto close_after = !req.keep_alive();
    if (req.method() == verb::head) {
      // The length of the body a GET would have sent, without the body.
      res.prepare_payload();
      auto length = res.body().size();
      res.body().clear();
      res.content_length(length);
      return write(std::move(res), close_after, false);
    }
    write(std::move(res), close_after);
  }

  void reply_and_close(status code, std::string error, std::string detail) {
    request req;
    req.version(11);
    write(error_response(req, code, std::move(error), {std::move(detail)}),
          true);
  }

  /// Counts `req` as answered with `code` (the metrics' observer).
  void observe(const request& req, unsigned code) {
    if (counted_)
      return;
    counted_ = true;
    auto now = std::chrono::steady_clock::now();
    auto since = started_ ? *started_ : now;
    state_->routes->observe(
      req, code, std::chrono::duration<double>(now - since).count());
  }

  void write(response res, bool close_after, bool set_length = true) {
    // The request answered, once: the handler's, else what the parser has
    // (a refusal on the headers alone, or of a request that never parsed).
    if (req_)
      observe(*req_, res.result_int());
    else if (parser_)
      observe(parser_->get(), res.result_int());
    res.keep_alive(!close_after);
    if (set_length)
      res.prepare_payload();
    res_ = std::make_shared<response>(std::move(res));
    stream_.expires_after(state_->limits.idle_timeout);
    bhttp::async_write(stream_, *res_,
                       [self = shared_from_this(),
                        close_after](error_code ec, std::size_t) {
                         self->res_.reset();
                         self->rc_.reset();
                         self->req_.reset();
                         if (ec || close_after || self->state_->stopped)
                           return self->close();
                         self->read();
                       });
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  std::shared_ptr<response> res_;
  /// When the current request's headers were in (its duration's start).
  std::optional<std::chrono::steady_clock::time_point> started_;
  bool counted_ = false; ///< the current request was told to the observer
  std::optional<request> req_;                ///< the one being answered
  std::optional<request_context> rc_;         ///< refers to req_
  state_ptr state_;
  connection_ticket ticket_;
};

namespace {

/// Answers a connection over the limits with 503 and closes it, without
/// ever waiting for the peer (a full send buffer drops the answer).
void refuse(tcp::socket socket, const std::string& peer, std::size_t open) {
  spdlog::warn("event=http_connection_refused peer={} open={}", peer, open);
  static const std::string body
    = R"({"error":"unavailable","details":["too many connections, try again"]})"
      "\n";
  static const std::string answer
    = "HTTP/1.1 503 Service Unavailable\r\nServer: cfgd\r\n"
      "Content-Type: application/json\r\nConnection: close\r\n"
      "Content-Length: "
      + std::to_string(body.size()) + "\r\n\r\n" + body;
  error_code ignored;
  socket.non_blocking(true, ignored);
  socket.write_some(asio::buffer(answer.data(), answer.size()), ignored);
  socket.shutdown(tcp::socket::shutdown_both, ignored);
  socket.close(ignored);
}

void accept(const state_ptr& st) {
  st->acceptor.async_accept([st](error_code ec, tcp::socket socket) {
    if (st->stopped || ec == asio::error::operation_aborted)
      return;
    if (ec) {
      // Out of descriptors and the like: retry shortly instead of spinning.
      spdlog::warn("event=http_accept_failed error=\"{}\"", ec.message());
      st->retry.expires_after(std::chrono::milliseconds{100});
      st->retry.async_wait([st](error_code wait_ec) {
        if (!wait_ec && !st->stopped)
          accept(st);
      });
      return;
    }
    error_code peer_ec;
    auto peer = socket.remote_endpoint(peer_ec).address();
    auto& limits = st->limits;
    auto by_peer = st->open_by_peer.find(peer);
    if (peer_ec || st->open >= limits.max_connections
        || (by_peer != st->open_by_peer.end()
            && by_peer->second >= limits.max_per_peer)) {
      refuse(std::move(socket), peer_ec ? std::string{"?"} : peer.to_string(),
             st->open);
      return accept(st);
    }
    auto ticket = std::make_shared<const counted_connection>(st, peer);
    std::make_shared<session>(std::move(socket), st, std::move(ticket))
      ->start();
    accept(st);
  });
}

} // namespace

server::server(std::shared_ptr<asio::io_context> ioc,
               std::shared_ptr<const router> routes,
               server_limits limits)
  : state_(std::make_shared<state>(std::move(ioc), std::move(routes),
                                   limits)) {
  // nop
}

server::~server() {
  stop();
}

std::optional<std::string> server::listen(const std::string& host,
                                          uint16_t port) {
  error_code ec;
  tcp::resolver resolver{state_->ioc};
  auto endpoints = resolver.resolve(host, std::to_string(port),
                                    tcp::resolver::passive
                                      | tcp::resolver::numeric_service,
                                    ec);
  if (ec)
    return "cannot resolve '" + host + "': " + ec.message();
  std::string last_error = "no address for '" + host + "'";
  for (auto& entry : endpoints) {
    auto& acc = state_->acceptor;
    error_code step;
    acc.open(entry.endpoint().protocol(), step);
    if (!step)
      acc.set_option(tcp::acceptor::reuse_address(true), step);
    if (!step)
      acc.bind(entry.endpoint(), step);
    if (!step)
      acc.listen(asio::socket_base::max_listen_connections, step);
    if (!step) {
      accept(state_);
      return std::nullopt;
    }
    last_error = "cannot listen on " + entry.endpoint().address().to_string()
                 + ":" + std::to_string(port) + ": " + step.message();
    error_code ignored;
    acc.close(ignored);
  }
  return last_error;
}

tcp::endpoint server::local_endpoint() const {
  error_code ec;
  return state_->acceptor.local_endpoint(ec);
}

void server::stop() {
  if (state_->stopped)
    return;
  state_->stopped = true;
  error_code ignored;
  state_->acceptor.close(ignored);
  state_->retry.cancel();
  // Copy first: closing may destroy sessions, which erase themselves.
  std::vector<std::shared_ptr<session>> open;
  for (auto& [ptr, weak] : state_->sessions)
    if (auto s = weak.lock())
      open.push_back(std::move(s));
  for (auto& s : open)
    s->close();
}

} // namespace cfgd::http

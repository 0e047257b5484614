#include "link/link_gate.hpp"

#include <future>

#include <unistd.h>

#include <boost/asio/ip/address.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "cfgactors/errc.hpp"
#include "core/log.hpp"
#include "link/link_crypto.hpp"
#include "link/link_tunnel.hpp"

namespace cfgactors::detail {

namespace asio = boost::asio;
using asio::ip::tcp;

/// Remote addresses whose refusal was logged, at most: a scan from many
/// addresses logs this many lines, then counts only.
constexpr std::size_t max_logged = 1024;

/// One new connection until it proved the secret (or did not).
class gate_handshake : public std::enable_shared_from_this<gate_handshake> {
public:
  gate_handshake(std::shared_ptr<link_gate> gate, tcp::socket sock,
                 std::string address)
    : gate_(std::move(gate)),
      sock_(std::move(sock)),
      address_(std::move(address)),
      timer_(sock_.get_executor()) {
    // nop
  }

  void start() {
    auto& opts = gate_->options_;
    timer_.expires_after(opts.handshake_timeout);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (!ec)
        self->finish("link_handshake_timeout");
    });
    if (!random_link_nonce(primary_nonce_))
      return finish("link_no_entropy");
    out_.assign(link_magic.begin(), link_magic.end());
    out_.insert(out_.end(), primary_nonce_.begin(), primary_nonce_.end());
    asio::async_write(sock_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec,
                                                  std::size_t) {
                        if (ec)
                          return self->finish("link_closed_in_handshake");
                        self->read_proof();
                      });
  }

private:
  void read_proof() {
    asio::async_read(sock_, asio::buffer(in_),
                     [self = shared_from_this()](boost::system::error_code ec,
                                                 std::size_t) {
                       if (ec)
                         return self->finish("link_closed_in_handshake");
                       self->check_proof();
                     });
  }

  void check_proof() {
    if (!std::equal(link_magic.begin(), link_magic.end(), in_.begin()))
      return finish("link_bad_magic");
    link_nonce peer;
    link_mac proof;
    auto pos = in_.begin() + link_magic.size();
    std::copy(pos, pos + link_nonce_size, peer.begin());
    pos += link_nonce_size;
    std::copy(pos, pos + link_mac_size, proof.begin());
    auto& secret = gate_->options_.secret;
    if (!same_link_mac(link_client_proof(secret, primary_nonce_, peer), proof))
      return finish("link_bad_proof");
    peer_nonce_ = peer;
    auto mine = link_server_proof(secret, primary_nonce_, peer);
    out_.assign(mine.begin(), mine.end());
    asio::async_write(sock_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec,
                                                  std::size_t) {
                        if (ec)
                          return self->finish("link_closed_in_handshake");
                        self->admit();
                      });
  }

  void admit() {
    if (done_)
      return;
    asio::local::stream_protocol::socket ours{sock_.get_executor()};
    int basp_fd = -1;
    auto& gate = *gate_;
    if (gate.links_.load() >= gate.options_.max_links)
      return finish("link_too_many");
    if (!make_basp_pair(gate.io_, ours, basp_fd))
      return finish("link_no_descriptors");
    done_ = true;
    timer_.cancel();
    gate.handshake_done(address_, true);
    ++gate.links_;
    auto& secret = gate.options_.secret;
    auto to_peer = link_key_to_peer(secret, primary_nonce_, peer_nonce_);
    auto to_primary = link_key_to_primary(secret, primary_nonce_, peer_nonce_);
    log().info("event=cluster_link_open peer={}", address_);
    start_tunnel(std::move(sock_), std::move(ours), to_peer, to_primary,
                 gate.options_,
                 [gate = gate_, address = address_](const char* why) {
                   --gate->links_;
                   log().info("event=cluster_link_closed peer={} reason={}",
                              address, why);
                 });
    gate.admit_(basp_fd);
  }

  void finish(const char* reason) {
    if (done_)
      return;
    done_ = true;
    // Counted before the peer can see the close.
    gate_->handshake_done(address_, false);
    gate_->refuse(address_, reason);
    boost::system::error_code ignored;
    timer_.cancel();
    sock_.close(ignored);
  }

  std::shared_ptr<link_gate> gate_;
  tcp::socket sock_;
  std::string address_;
  asio::steady_timer timer_;
  link_nonce primary_nonce_{};
  link_nonce peer_nonce_{};
  std::vector<unsigned char> out_;
  std::array<unsigned char,
             link_magic.size() + link_nonce_size + link_mac_size>
    in_{};
  bool done_ = false;
};

caf::expected<link_gate_ptr>
link_gate::open(link_context_ptr ctx, const std::string& address,
                uint16_t port, link_options options, admit_fn admit) {
  auto gate = std::make_shared<link_gate>(ctx->io(), std::move(options),
                                          std::move(admit));
  auto where = address + ":" + std::to_string(port);
  boost::system::error_code ec;
  auto addr = asio::ip::make_address(address.empty() ? "0.0.0.0" : address,
                                     ec);
  if (ec) {
    // A host name: take its first address.
    tcp::resolver resolver{ctx->io()};
    auto found = resolver.resolve(address, std::to_string(port), ec);
    if (ec || found.empty())
      return make_error(errc::invalid_argument,
                        "cluster listen address " + where + ": "
                          + (ec ? ec.message() : "no address"));
    addr = found.begin()->endpoint().address();
  }
  tcp::endpoint ep{addr, port};
  auto& acc = gate->acceptor_;
  if (acc.open(ep.protocol(), ec), !ec)
    acc.set_option(tcp::acceptor::reuse_address(true), ec);
  if (!ec)
    acc.bind(ep, ec);
  if (!ec)
    acc.listen(asio::socket_base::max_listen_connections, ec);
  if (ec)
    return make_error(errc::unavailable,
                      "cluster port " + where + ": " + ec.message());
  gate->port_ = acc.local_endpoint().port();
  // Accepting starts on the link thread, like everything the gate does.
  asio::post(ctx->io(), [gate] { gate->accept(); });
  // The context outlives the gate: the node (or test) holds both.
  return gate;
}

link_gate::link_gate(asio::io_context& io, link_options options,
                     admit_fn admit)
  : io_(io),
    options_(std::move(options)),
    admit_(std::move(admit)),
    acceptor_(io),
    retry_(io) {
  // nop
}

link_gate::~link_gate() {
  boost::system::error_code ignored;
  acceptor_.close(ignored);
}

void link_gate::close() {
  auto shut = [self = shared_from_this()] {
    boost::system::error_code ignored;
    self->acceptor_.close(ignored);
    self->retry_.cancel();
  };
  if (io_.stopped()) // no thread runs handlers: nothing races with us
    return shut();
  // The acceptor belongs to the link thread: close it there, and wait, so
  // that the port is free when this returns.
  auto done = std::make_shared<std::promise<void>>();
  auto closed = done->get_future();
  asio::post(io_, [shut, done] {
    shut();
    done->set_value();
  });
  closed.wait_for(std::chrono::seconds{2});
}

void link_gate::accept() {
  acceptor_.async_accept([self = shared_from_this()](
                           boost::system::error_code ec, tcp::socket sock) {
    if (ec == asio::error::operation_aborted || !self->acceptor_.is_open())
      return;
    if (!ec) {
      boost::system::error_code ignored;
      auto remote = sock.remote_endpoint(ignored);
      auto address = remote.address().to_string();
      auto& n = self->pending_by_address_[address];
      if (self->pending_.load() >= self->options_.max_pending
          || n >= self->options_.max_pending_per_address) {
        if (n == 0)
          self->pending_by_address_.erase(address);
        self->refuse(address, "link_too_many_pending");
        sock.close(ignored);
      } else {
        ++n;
        ++self->pending_;
        std::make_shared<gate_handshake>(self, std::move(sock),
                                         std::move(address))
          ->start();
      }
    } else {
      // Out of descriptors (EMFILE) and the like: do not spin on it.
      log().warn("event=cluster_accept_failed error=\"{}\"", ec.message());
      self->retry_.expires_after(std::chrono::milliseconds{100});
      self->retry_.async_wait([self](boost::system::error_code ec) {
        if (!ec)
          self->accept();
      });
      return;
    }
    self->accept();
  });
}

void link_gate::handshake_done(const std::string& address, bool) {
  --pending_;
  auto i = pending_by_address_.find(address);
  if (i != pending_by_address_.end() && --i->second == 0)
    pending_by_address_.erase(i);
}

void link_gate::refuse(const std::string& address, const char* reason) {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    ++refused_[reason];
  }
  if (logged_.size() < max_logged && logged_.insert(address).second)
    log().warn("event=cluster_refused reason={} peer={} (logged once per "
               "peer address)",
               reason, address);
}

std::map<std::string, uint64_t> link_gate::refused() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return refused_;
}

} // namespace cfgactors::detail

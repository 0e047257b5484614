#include "link/link_dialer.hpp"

#include <array>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include "core/log.hpp"
#include "link/link_crypto.hpp"
#include "link/link_tunnel.hpp"

namespace cfgactors::detail {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;

/// One dial, from resolving the name to the tunnel.
class dial_attempt : public std::enable_shared_from_this<dial_attempt> {
public:
  dial_attempt(asio::io_context& io, const link_options& options,
               std::string host, uint16_t port,
               std::function<void(link_result)> done)
    : io_(io),
      options_(options),
      host_(std::move(host)),
      port_(port),
      where_(host_ + ":" + std::to_string(port_)),
      done_(std::move(done)),
      resolver_(io_),
      sock_(io_),
      timer_(io_) {
    // nop
  }

  void start() {
    arm(options_.connect_timeout, "did not connect within "
                                    + std::to_string(
                                      options_.connect_timeout.count())
                                    + " ms");
    resolver_.async_resolve(
      host_, std::to_string(port_),
      [self = shared_from_this()](boost::system::error_code ec,
                                  tcp::resolver::results_type found) {
        if (ec)
          return self->fail("cannot resolve " + self->host_ + ": "
                            + ec.message());
        asio::async_connect(self->sock_, found,
                            [self](boost::system::error_code ec,
                                   const tcp::endpoint&) {
                              if (ec)
                                return self->fail(ec.message());
                              self->read_challenge();
                            });
      });
  }

private:
  /// Fails the dial with `why` unless it is done by `timeout`.
  void arm(std::chrono::milliseconds timeout, std::string why) {
    timer_.expires_after(timeout);
    timer_.async_wait([self = shared_from_this(),
                       why = std::move(why)](boost::system::error_code ec) {
      if (!ec)
        self->fail(why);
    });
  }

  void read_challenge() {
    arm(options_.handshake_timeout,
        "no handshake within "
          + std::to_string(options_.handshake_timeout.count()) + " ms");
    asio::async_read(sock_, asio::buffer(challenge_),
                     [self = shared_from_this()](boost::system::error_code ec,
                                                 std::size_t) {
                       if (ec)
                         return self->fail("closed before its challenge: "
                                           + ec.message());
                       self->prove();
                     });
  }

  void prove() {
    if (!std::equal(link_magic.begin(), link_magic.end(), challenge_.begin()))
      return fail("not a cfgactors cluster link");
    std::copy(challenge_.begin() + link_magic.size(), challenge_.end(),
              primary_nonce_.begin());
    if (!random_link_nonce(peer_nonce_))
      return fail("no entropy for a nonce");
    auto proof = link_client_proof(options_.secret, primary_nonce_,
                                   peer_nonce_);
    out_.assign(link_magic.begin(), link_magic.end());
    out_.insert(out_.end(), peer_nonce_.begin(), peer_nonce_.end());
    out_.insert(out_.end(), proof.begin(), proof.end());
    asio::async_write(sock_, asio::buffer(out_),
                      [self = shared_from_this()](boost::system::error_code ec,
                                                  std::size_t) {
                        if (ec)
                          return self->fail(ec.message());
                        self->read_accept();
                      });
  }

  void read_accept() {
    asio::async_read(
      sock_, asio::buffer(accept_),
      [self = shared_from_this()](boost::system::error_code ec, std::size_t) {
        if (ec)
          return self->fail("the primary closed the link after our proof "
                            "(a different cluster secret?)");
        auto expected = link_server_proof(self->options_.secret,
                                          self->primary_nonce_,
                                          self->peer_nonce_);
        if (!same_link_mac(expected, self->accept_))
          return self->fail("the primary did not prove the cluster secret");
        self->open();
      });
  }

  void open() {
    asio::local::stream_protocol::socket ours{io_};
    int basp_fd = -1;
    if (!make_basp_pair(io_, ours, basp_fd))
      return fail("no file descriptors left");
    finished_ = true;
    timer_.cancel();
    auto& secret = options_.secret;
    start_tunnel(std::move(sock_), std::move(ours),
                 link_key_to_primary(secret, primary_nonce_, peer_nonce_),
                 link_key_to_peer(secret, primary_nonce_, peer_nonce_),
                 options_, [where = where_](const char* why) {
                   log().info("event=cluster_link_closed primary={} "
                              "reason={}",
                              where, why);
                 });
    done_(link_result{basp_fd, {}});
  }

  void fail(std::string why) {
    if (finished_)
      return;
    finished_ = true;
    boost::system::error_code ignored;
    timer_.cancel();
    resolver_.cancel();
    sock_.close(ignored);
    done_(link_result{-1, "cluster link to " + where_ + ": " + why});
  }

  // Not the link_context: the context holds this attempt's handlers.
  asio::io_context& io_;
  link_options options_;
  std::string host_;
  uint16_t port_;
  std::string where_;
  std::function<void(link_result)> done_;
  tcp::resolver resolver_;
  tcp::socket sock_;
  asio::steady_timer timer_;
  std::array<unsigned char, link_magic.size() + link_nonce_size> challenge_{};
  link_nonce primary_nonce_{};
  link_nonce peer_nonce_{};
  link_mac accept_{};
  std::vector<unsigned char> out_;
  bool finished_ = false;
};

} // namespace

link_dialer::link_dialer(link_context_ptr ctx, link_options options)
  : ctx_(std::move(ctx)), options_(std::move(options)) {
  // nop
}

void link_dialer::dial(const std::string& host, uint16_t port,
                       std::function<void(link_result)> done) {
  auto attempt = std::make_shared<dial_attempt>(ctx_->io(), options_, host,
                                                port, std::move(done));
  asio::post(ctx_->io(), [attempt] { attempt->start(); });
}

} // namespace cfgactors::detail

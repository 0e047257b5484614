#include "link/link_tunnel.hpp"

#include <chrono>
#include <deque>
#include <vector>

#include <sys/socket.h>
#include <unistd.h>

#include <boost/asio/read.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

namespace cfgactors::detail {

namespace {

namespace asio = boost::asio;
using asio::ip::tcp;
using local_socket = asio::local::stream_protocol::socket;
using clock_type = std::chrono::steady_clock;

/// Bytes read from BASP per frame.
constexpr std::size_t chunk_size = 64 * 1024;

/// Frames queued for the remote end before BASP's socket is no longer read:
/// a slow peer slows BASP down instead of growing this queue.
constexpr std::size_t max_queued = 4;

class tunnel : public std::enable_shared_from_this<tunnel> {
public:
  tunnel(tcp::socket remote, local_socket local, const link_key& seal_key,
         const link_key& open_key, const link_options& options,
         std::function<void(const char*)> on_close)
    : remote_(std::move(remote)),
      local_(std::move(local)),
      seal_(seal_key),
      open_(open_key),
      options_(options),
      on_close_(std::move(on_close)),
      timer_(remote_.get_executor()) {
    chunk_.resize(chunk_size);
  }

  void start() {
    last_rx_ = last_tx_ = clock_type::now();
    read_local();
    read_header();
    tick();
  }

private:
  void close(const char* why) {
    if (closed_)
      return;
    closed_ = true;
    boost::system::error_code ignored;
    timer_.cancel();
    remote_.shutdown(tcp::socket::shutdown_both, ignored);
    remote_.close(ignored);
    local_.shutdown(local_socket::shutdown_both, ignored);
    local_.close(ignored);
    if (on_close_)
      on_close_(why);
  }

  // -- BASP -> remote ------------------------------------------------------

  void read_local() {
    local_.async_read_some(
      asio::buffer(chunk_),
      [self = shared_from_this()](boost::system::error_code ec,
                                  std::size_t n) { self->on_local(ec, n); });
  }

  void on_local(boost::system::error_code ec, std::size_t n) {
    if (closed_)
      return;
    if (ec)
      return close("local_closed");
    std::vector<unsigned char> frame;
    if (!seal_.seal(chunk_.data(), n, frame))
      return close("seal_failed");
    queue_.push_back(std::move(frame));
    write_remote();
    if (queue_.size() < max_queued)
      read_local();
    else
      local_paused_ = true;
  }

  void write_remote() {
    if (writing_ || queue_.empty() || closed_)
      return;
    writing_ = true;
    asio::async_write(remote_, asio::buffer(queue_.front()),
                      [self = shared_from_this()](boost::system::error_code ec,
                                                  std::size_t) {
                        self->on_remote_written(ec);
                      });
  }

  void on_remote_written(boost::system::error_code ec) {
    writing_ = false;
    if (closed_)
      return;
    if (ec)
      return close("remote_closed");
    last_tx_ = clock_type::now();
    queue_.pop_front();
    if (local_paused_ && queue_.size() < max_queued) {
      local_paused_ = false;
      read_local();
    }
    write_remote();
  }

  // -- remote -> BASP ------------------------------------------------------

  void read_header() {
    asio::async_read(remote_, asio::buffer(header_),
                     [self = shared_from_this()](boost::system::error_code ec,
                                                 std::size_t) {
                       self->on_header(ec);
                     });
  }

  void on_header(boost::system::error_code ec) {
    if (closed_)
      return;
    if (ec)
      return close("remote_closed");
    auto length = frame_cipher::frame_length(header_.data());
    if (length < 0)
      return close("oversized_frame");
    body_.resize(static_cast<std::size_t>(length) + link_tag_size);
    asio::async_read(remote_, asio::buffer(body_),
                     [self = shared_from_this(),
                      length](boost::system::error_code ec, std::size_t) {
                       self->on_body(ec, static_cast<std::size_t>(length));
                     });
  }

  void on_body(boost::system::error_code ec, std::size_t length) {
    if (closed_)
      return;
    if (ec)
      return close("remote_closed");
    if (!open_.open(header_.data(), body_.data(), length))
      return close("bad_frame");
    last_rx_ = clock_type::now();
    if (length == 0) // a heartbeat
      return read_header();
    asio::async_write(local_, asio::buffer(body_.data(), length),
                      [self = shared_from_this()](boost::system::error_code ec,
                                                  std::size_t) {
                        if (self->closed_)
                          return;
                        if (ec)
                          return self->close("local_closed");
                        self->read_header();
                      });
  }

  // -- heartbeats and silence ----------------------------------------------

  void tick() {
    timer_.expires_after(options_.heartbeat);
    timer_.async_wait([self = shared_from_this()](boost::system::error_code ec) {
      if (ec || self->closed_)
        return;
      auto now = clock_type::now();
      if (now - self->last_rx_ > self->options_.idle_timeout)
        return self->close("idle_timeout");
      if (!self->writing_ && self->queue_.empty()
          && now - self->last_tx_ >= self->options_.heartbeat) {
        std::vector<unsigned char> frame;
        if (!self->seal_.seal(nullptr, 0, frame))
          return self->close("seal_failed");
        self->queue_.push_back(std::move(frame));
        self->write_remote();
      }
      self->tick();
    });
  }

  tcp::socket remote_;
  local_socket local_;
  frame_cipher seal_;
  frame_cipher open_;
  link_options options_;
  std::function<void(const char*)> on_close_;
  asio::steady_timer timer_;
  std::vector<unsigned char> chunk_;
  std::deque<std::vector<unsigned char>> queue_;
  std::array<unsigned char, link_header_size> header_{};
  std::vector<unsigned char> body_;
  clock_type::time_point last_rx_;
  clock_type::time_point last_tx_;
  bool writing_ = false;
  bool local_paused_ = false;
  bool closed_ = false;
};

} // namespace

void start_tunnel(tcp::socket remote, local_socket local,
                  const link_key& seal_key, const link_key& open_key,
                  const link_options& options,
                  std::function<void(const char* why)> on_close) {
  boost::system::error_code ignored;
  remote.set_option(tcp::no_delay{true}, ignored);
  std::make_shared<tunnel>(std::move(remote), std::move(local), seal_key,
                           open_key, options, std::move(on_close))
    ->start();
}

bool make_basp_pair(asio::io_context& io, local_socket& ours, int& basp_fd) {
  int fds[2];
  if (::socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, fds) != 0)
    return false;
  boost::system::error_code ec;
  local_socket tmp{io};
  tmp.assign(asio::local::stream_protocol{}, fds[0], ec);
  if (ec) {
    ::close(fds[0]);
    ::close(fds[1]);
    return false;
  }
  ours = std::move(tmp);
  basp_fd = fds[1];
  return true;
}

} // namespace cfgactors::detail

// The OFREP event stream: a close-delimited `text/event-stream` response per
// client, fed from one subscription to `features`.
#include "api/ofrep_events.hpp"

#include <array>
#include <chrono>
#include <deque>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/write.hpp>

#include <spdlog/spdlog.h>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/change.hpp"

namespace cfgd {

namespace asio = boost::asio;
namespace beast = boost::beast;
using cfgactors::json;
using error_code = boost::system::error_code;

namespace {

using message = std::shared_ptr<const std::string>;

/// Events a client may leave unsent before it is dropped. Events carry no
/// state (each says "re-fetch"), so a client this far behind loses nothing
/// by reconnecting, and its backlog costs us nothing meanwhile.
constexpr std::size_t max_unsent_events = 16;

/// A comment line that keeps proxies from closing an idle stream and finds
/// peers that went away without a FIN.
constexpr std::chrono::seconds heartbeat_interval{15};

/// The kernel's send buffer of a stream (Linux doubles it for its books).
constexpr std::size_t send_buffer_bytes = 32 * 1024;

/// How long one write may take before the client counts as too slow.
constexpr std::chrono::seconds write_timeout{30};

const std::string& preamble() {
  // No length and no chunking: the body ends when the connection does,
  // which is how an event stream ends anyway. `retry` asks EventSource
  // clients to wait 5 s before reconnecting.
  static const std::string text
    = "HTTP/1.1 200 OK\r\nServer: cfgd\r\n"
      "Content-Type: text/event-stream\r\nCache-Control: no-cache\r\n"
      "X-Accel-Buffering: no\r\nConnection: close\r\n\r\n"
      "retry: 5000\n\n";
  return text;
}

/// The event for `version`, as ADR-0008 of the protocol shapes it: the
/// envelope's `event` is always `message`, the JSON data says what.
/// `lastModified` is the version's commit time in Unix seconds, the form
/// the protocol recommends.
message refetch_event(uint64_t version, int64_t committed_ms) {
  json data{{"type", "refetchEvaluation"},
            {"lastModified", committed_ms / 1000}};
  return std::make_shared<const std::string>(
    "id: " + std::to_string(version) + "\nevent: message\ndata: "
    + data.dump() + "\n\n");
}

} // namespace

/// One client of the event stream.
class ofrep_stream : public std::enable_shared_from_this<ofrep_stream> {
public:
  ofrep_stream(beast::tcp_stream stream, std::weak_ptr<ofrep_events> hub,
               http::connection_ticket ticket)
    : stream_(std::move(stream)), hub_(std::move(hub)),
      ticket_(std::move(ticket)), heartbeat_(stream_.get_executor()) {
    // nop
  }

  ~ofrep_stream() {
    if (auto hub = hub_.lock())
      hub->detach(this);
  }

  void start() {
    // Events are tiny: a small kernel buffer still holds hundreds, and a
    // client that stops reading is found (and dropped) after those rather
    // than after the megabytes a loopback socket would otherwise take.
    error_code ignored;
    stream_.socket().set_option(asio::socket_base::send_buffer_size{
                                  static_cast<int>(send_buffer_bytes)},
                                ignored);
    static const auto head = std::make_shared<const std::string>(preamble());
    enqueue(head);
    read();
    tick();
  }

  void push(const message& msg) {
    enqueue(msg);
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    heartbeat_.cancel();
    error_code ignored;
    stream_.socket().shutdown(asio::ip::tcp::socket::shutdown_both, ignored);
    stream_.close();
  }

private:
  /// Reads only to notice the client leaving; what it sends is discarded
  /// into a fixed buffer.
  void read() {
    stream_.socket().async_read_some(
      asio::buffer(discard_),
      [self = shared_from_this()](error_code ec, std::size_t) {
        if (ec)
          return self->close();
        self->read();
      });
  }

  void tick() {
    heartbeat_.expires_after(heartbeat_interval);
    heartbeat_.async_wait([weak = weak_from_this()](error_code ec) {
      auto self = weak.lock();
      if (ec || !self || self->closed_)
        return;
      static const auto ping
        = std::make_shared<const std::string>(": ping\n\n");
      self->enqueue(ping);
      self->tick();
    });
  }

  void enqueue(message msg) {
    if (closed_)
      return;
    if (outbox_.size() >= max_unsent_events) {
      // Too slow: reset (no linger) so neither the pending write nor the
      // kernel's buffer for it outlives the decision.
      spdlog::warn("event=ofrep_stream_dropped reason=\"send queue full\" "
                   "queued={}",
                   outbox_.size());
      if (auto hub = hub_.lock())
        hub->note_dropped();
      error_code ignored;
      stream_.socket().set_option(asio::socket_base::linger{true, 0}, ignored);
      close();
      return;
    }
    outbox_.push_back(std::move(msg));
    if (outbox_.size() == 1)
      write_next();
  }

  void write_next() {
    if (outbox_.empty() || closed_)
      return;
    stream_.expires_after(write_timeout);
    asio::async_write(stream_, asio::buffer(*outbox_.front()),
                      [self = shared_from_this()](error_code ec, std::size_t) {
                        if (ec)
                          return self->close();
                        self->outbox_.pop_front();
                        // An expiry left set would fail the next write
                        // (the heartbeat's) if it came later than that.
                        if (self->outbox_.empty())
                          self->stream_.expires_never();
                        self->write_next();
                      });
  }

  beast::tcp_stream stream_;
  std::weak_ptr<ofrep_events> hub_;
  http::connection_ticket ticket_; ///< counts this connection while open
  asio::steady_timer heartbeat_;
  std::deque<message> outbox_; ///< the front one is being written
  std::array<char, 512> discard_{};
  bool closed_ = false;
};

namespace {

/// Hands each change under `features` to the hub on the io thread. A
/// change without paths only flips a replica's staleness: no new flags.
cfgactors::subscriber_actor::behavior_type
feed(std::weak_ptr<ofrep_events> hub, std::weak_ptr<asio::io_context> ioc) {
  return {[hub, ioc](const cfgactors::change& c) {
    if (c.paths.empty())
      return;
    auto committed_ms = c.after ? c.after->timestamp_ms : 0;
    if (auto io = ioc.lock())
      asio::post(*io, [hub, version = c.version, committed_ms] {
        if (auto h = hub.lock())
          h->publish(version, committed_ms);
      });
  }};
}

} // namespace

ofrep_events::ofrep_events(std::shared_ptr<asio::io_context> ioc,
                           api_context_ptr ctx, std::size_t max_streams)
  : ioc_(std::move(ioc)), ctx_(std::move(ctx)), max_streams_(max_streams) {
  // nop
}

ofrep_events::~ofrep_events() {
  caf::anon_send_exit(feed_actor_, caf::exit_reason::user_shutdown);
}

std::optional<std::string> ofrep_events::start() {
  feed_actor_ = ctx_->sys.spawn(feed, weak_from_this(), ioc_);
  auto sub = ctx_->node.subscribe_actor("features", feed_actor_);
  if (!sub) {
    caf::anon_send_exit(feed_actor_, caf::exit_reason::user_shutdown);
    return "ofrep events: " + ctx_->sys.render(sub.error());
  }
  feed_ = std::move(*sub);
  return std::nullopt;
}

void ofrep_events::stop() {
  if (stopped_)
    return;
  stopped_ = true;
  ctx_->node.unsubscribe(feed_);
  caf::anon_send_exit(feed_actor_, caf::exit_reason::user_shutdown);
  std::vector<std::shared_ptr<ofrep_stream>> open;
  for (auto& [ptr, weak] : streams_)
    if (auto s = weak.lock())
      open.push_back(std::move(s));
  for (auto& s : open)
    s->close();
}

std::optional<http::response>
ofrep_events::open(beast::tcp_stream& stream, http::request& req,
                   http::connection_ticket ticket) {
  if (stopped_)
    return http::error_response(req, http::status::service_unavailable,
                                "stopping");
  if (streams_.size() >= max_streams_) {
    ++refused_;
    spdlog::warn("event=ofrep_stream_refused open={} limit={}",
                 streams_.size(), max_streams_);
    auto res = http::error_response(
      req, http::status::service_unavailable, "unavailable",
      {"too many OFREP event streams (" + std::to_string(max_streams_)
       + "), try again later; clients fall back to polling"});
    res.set(beast::http::field::retry_after, "30");
    return res;
  }
  auto s = std::make_shared<ofrep_stream>(std::move(stream), weak_from_this(),
                                          std::move(ticket));
  streams_.emplace(s.get(), s);
  s->start();
  return std::nullopt;
}

void ofrep_events::publish(uint64_t version, int64_t committed_ms) {
  if (stopped_ || streams_.empty())
    return;
  auto event = refetch_event(version, committed_ms);
  // Copy first: a push may drop its client, which detaches itself.
  std::vector<std::shared_ptr<ofrep_stream>> open;
  open.reserve(streams_.size());
  for (auto& [ptr, weak] : streams_)
    if (auto s = weak.lock())
      open.push_back(std::move(s));
  for (auto& s : open)
    s->push(event);
}

void ofrep_events::detach(ofrep_stream* s) {
  streams_.erase(s);
}

} // namespace cfgd

#include "api/ws.hpp"

#include <chrono>
#include <deque>
#include <functional>
#include <memory>
#include <string>
#include <utility>

#include <unistd.h>

#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/websocket.hpp>


#include <spdlog/spdlog.h>

#include <caf/send.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/async_request.hpp"
#include "cfgactors/change_reason.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/secrets.hpp"

#include "api/context.hpp"
#include "api/writes.hpp"

namespace cfgd {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using cfgactors::json;
using error_code = boost::system::error_code;

namespace {

/// A message as every client gets it: serialized once, shared by all.
using message = std::shared_ptr<const std::string>;

/// Replies and pushes a client may leave unread before it is closed.
constexpr std::size_t max_unread_messages = 64;

/// The push of `snap`, secrets masked unless `with_secrets`.
message serialize(const cfgactors::snapshot& snap, bool with_secrets) {
  return std::make_shared<const std::string>(
    json{{"action", "update_config"},
         {"config", snap.shown(with_secrets)},
         {"version", snap.version},
         {"hash", snap.hash}}
      .dump());
}

/// Both forms of the push of `snap`; one serialization when it has no
/// secrets.
ws_push serialize_push(const cfgactors::snapshot& snap) {
  ws_push p;
  p.version = snap.version;
  p.masked = serialize(snap, false);
  p.full = snap.secrets ? serialize(snap, true) : p.masked;
  return p;
}

} // namespace

/// One WebSocket client.
class ws_session : public std::enable_shared_from_this<ws_session> {
public:
  ws_session(beast::tcp_stream stream, std::weak_ptr<ws_hub> hub,
             std::optional<identity> who, bool can_write,
             http::connection_ticket ticket)
    : ws_(std::move(stream)), hub_(std::move(hub)), who_(std::move(who)),
      can_write_(can_write), ticket_(std::move(ticket)) {
    // nop
  }

  /// True if this client's token may see secret values.
  bool sees_secrets() const noexcept {
    return who_ && who_->has(scope_secrets);
  }

  ~ws_session() {
    if (auto hub = hub_.lock())
      hub->detach(this);
  }

  void start(http::request req) {
    ws_.set_option(
      websocket::stream_base::timeout::suggested(beast::role_type::server));
    ws_.set_option(websocket::stream_base::decorator(
      [](websocket::response_type& res) {
        res.set(beast::http::field::server, "cfgd");
      }));
    ws_.read_message_max(std::size_t{4} << 20);
    // One frame per message: Beast otherwise cuts a push into 4 KB frames,
    // each its own write, 256 of them per client for a 1 MB config.
    ws_.auto_fragment(false);
    ws_.async_accept(req, [self = shared_from_this()](error_code ec) {
      self->on_accept(ec);
    });
  }

  /// Queues `msg`, the push of version `version` (serialized once for all
  /// clients); a queued, unsent config is replaced.
  void push(uint64_t version, const message& msg) {
    if (version <= last_version_)
      return;
    last_version_ = version;
    if (outbox_.size() > 1 && outbox_.back().second)
      outbox_.back().first = msg; // latest wins
    else
      enqueue(msg, true);
  }

  void close() {
    if (closed_)
      return;
    closed_ = true;
    ws_.async_close(websocket::close_code::going_away,
                    [self = shared_from_this()](error_code) {});
  }

private:
  void on_accept(error_code ec) {
    auto hub = hub_.lock();
    if (ec || !hub)
      return;
    hub->attach(shared_from_this());
    // Start in sync: the newest push first; attached, this session is in
    // every later round.
    if (auto& newest = hub->newest(); newest.masked)
      push(newest.version, newest.for_client(sees_secrets()));
    read();
  }

  void read() {
    ws_.async_read(in_, [self = shared_from_this()](error_code ec,
                                                    std::size_t) {
      self->on_read(ec);
    });
  }

  void on_read(error_code ec) {
    if (ec) {
      closed_ = true;
      return;
    }
    auto text = beast::buffers_to_string(in_.data());
    in_.consume(in_.size());
    if (auto hub = hub_.lock())
      handle(*hub, text);
    read();
  }

  void reply(const json& msg) {
    enqueue(std::make_shared<const std::string>(msg.dump()), false);
  }

  void handle(ws_hub& hub, const std::string& text) {
    auto msg = json::parse(text, nullptr, false);
    if (!msg.is_object() || !msg.contains("action")
        || !msg["action"].is_string()) {
      reply({{"action", "error"},
             {"error", "bad message"},
             {"details", {"expected a JSON object with a string `action`"}}});
      return;
    }
    auto action = msg["action"].get<std::string>();
    if (action == "register") {
      service_ = msg.value("service", std::string{"unknown"});
      spdlog::info("event=ws_client_registered service=\"{}\" version=\"{}\"",
                   service_, msg.value("version", std::string{"?"}));
      return;
    }
    std::vector<cfgactors::operation> ops;
    std::string problem;
    if (action == "update_config") {
      if (msg.contains("config") && msg["config"].is_object())
        ops.push_back(cfgactors::operation::set("", msg["config"]));
      else
        problem = "update_config needs an object `config`";
    } else if (action == "set_feature") {
      if (msg.contains("feature") && msg["feature"].is_string()
          && msg.contains("enabled") && msg["enabled"].is_boolean())
        ops.push_back(cfgactors::operation::flag(
          msg["feature"].get<std::string>(), msg["enabled"].get<bool>()));
      else
        problem = "set_feature needs a string `feature` and a bool `enabled`";
    } else if (action == "set_log_level") {
      if (msg.contains("level") && msg["level"].is_string())
        ops.push_back(
          cfgactors::operation::set("logging.level", msg["level"]));
      else
        problem = "set_log_level needs a string `level`";
    } else if (action == "reload") {
      auto overrides = msg.value("overrides", json::object());
      if (overrides.is_object())
        ops.push_back(cfgactors::operation::set("", std::move(overrides)));
      else
        problem = "reload takes an object `overrides`";
    } else {
      problem = "unknown action '" + action + "'";
    }
    // Why, as the HTTP writes' X-Change-Reason says it: checked the same way.
    std::string reason;
    if (problem.empty() && msg.contains("reason")) {
      if (!msg["reason"].is_string())
        problem = "`reason` must be a string";
      else if (auto bad = cfgactors::reason_problem(
                 msg["reason"].get_ref<const std::string&>()))
        problem = "reason is " + *bad;
      else
        reason = msg["reason"].get<std::string>();
    }
    // `"dry_run": true`: admitted fully, nothing committed (as ?dry_run=1).
    bool dry_run = false;
    if (problem.empty() && msg.contains("dry_run")) {
      if (!msg["dry_run"].is_boolean())
        problem = "`dry_run` must be true or false";
      else if ((dry_run = msg["dry_run"].get<bool>()) && action == "reload")
        problem = "reload has no dry run: it re-reads every source";
    }
    if (!problem.empty()) {
      reply({{"action", "error"}, {"error", "bad message"},
             {"details", {problem}}});
      return;
    }
    if (!can_write_) {
      reply({{"action", "error"},
             {"error", "unauthorized"},
             {"details", {action + " needs a write token on the upgrade "
                                   "request"}}});
      return;
    }
    // The write (after a reload, every source re-read first) is answered on
    // an actor thread; the reply is queued on the ws thread.
    // A named token writes as itself, whatever the client says it is.
    auto origin = who_ && !who_->name.empty()
                    ? "api:" + who_->name
                    : "ws:" + (service_.empty() ? std::string{"client"}
                                                : service_);
    auto reply_later = [weak = weak_from_this(), ioc = hub.io()](json out) {
      auto io = ioc.lock();
      if (!io)
        return;
      asio::post(*io, [weak, out = std::move(out)] {
        if (auto self = weak.lock())
          self->reply(out);
      });
    };
    auto& ctx = hub.context();
    std::vector<cfgactors::source_actor> reloads;
    if (action == "reload")
      reloads = ctx.node.sources();
    cfgactors::write_request req{std::move(ops), origin, 0, {}};
    req.author = who_ ? who_->name : std::string{};
    req.reason = std::move(reason);
    req.dry_run = dry_run;
    write_after_reloads(ctx.sys, ctx.timeout, ctx.writer,
                        std::move(reloads), std::move(req),
                        [action, reply_later, &sys = ctx.sys, dry_run,
                         secrets = sees_secrets()](
                          caf::expected<cfgactors::write_result> result) {
                          if (!result)
                            return reply_later(
                              {{"action", "error"},
                               {"error", "unavailable"},
                               {"details", {sys.render(result.error())}}});
                          json out{{"action", "result"},
                                   {"request", action},
                                   {"status", to_string(result->status)},
                                   {"version", result->version}};
                          if (dry_run && result->ok()) {
                            auto view = result->diff.view.is_null()
                                          ? json::object()
                                          : result->diff.view;
                            if (!secrets && !result->diff.secrets.empty())
                              cfgactors::secret_paths{result->diff.secrets}
                                .mask_view(view);
                            out["dry_run"] = true;
                            out["changes"] = std::move(view);
                          }
                          if (!result->ok()) {
                            out["error"] = to_string(result->code);
                            auto details = json::array();
                            for (auto& e : result->errors)
                              details.push_back(e.str());
                            out["details"] = std::move(details);
                          }
                          reply_later(std::move(out));
                        });
  }

  /// Asks each of `sources` to re-read, one after the other, then sends
  /// `req` to the node's writer; `done` gets the write's answer.
  /// Runs on actor threads: uses nothing of the hub or the node.
  static void
  write_after_reloads(caf::actor_system& sys, std::chrono::milliseconds timeout,
                      cfgactors::writer_actor writer,
                      std::vector<cfgactors::source_actor> sources,
                      cfgactors::write_request req,
                      std::function<void(caf::expected<cfgactors::write_result>)>
                        done) {
    if (sources.empty()) {
      cfgactors::async_request<cfgactors::write_result>(
        sys, writer, timeout, std::move(done), cfgactors::write_atom::value,
        std::move(req));
      return;
    }
    // Lowest precedence first, as the sources are listed.
    auto next = sources.front();
    sources.erase(sources.begin());
    cfgactors::async_request<cfgactors::source_status>(
      sys, next, timeout,
      [&sys, timeout, writer, sources = std::move(sources),
       req = std::move(req),
       done = std::move(done)](caf::expected<cfgactors::source_status>) mutable {
        write_after_reloads(sys, timeout, std::move(writer), std::move(sources),
                            std::move(req), std::move(done));
      },
      cfgactors::reload_atom::value);
  }

  void enqueue(message msg, bool is_config) {
    if (closed_)
      return;
    // A client that sends but never reads must not grow our memory: past
    // the cap it is closed, with the reason.
    if (outbox_.size() >= max_unread_messages) {
      spdlog::warn("event=ws_client_dropped service=\"{}\" reason=\"send "
                   "queue full\" queued={}",
                   service_, outbox_.size());
      closed_ = true;
      // A close frame would queue behind the write this client does not
      // read, and wait for it for ever: reset the connection instead (no
      // linger), which ends the pending operations and frees the data the
      // kernel holds for it.
      auto& stream = beast::get_lowest_layer(ws_);
      error_code ignored;
      stream.socket().set_option(asio::socket_base::linger{true, 0}, ignored);
      stream.close();
      return;
    }
    outbox_.emplace_back(std::move(msg), is_config);
    if (outbox_.size() == 1)
      write_next();
  }

  void write_next() {
    if (outbox_.empty() || closed_)
      return;
    ws_.text(true);
    ws_.async_write(asio::buffer(*outbox_.front().first),
                    [self = shared_from_this()](error_code ec, std::size_t) {
                      if (ec) {
                        self->closed_ = true;
                        return;
                      }
                      self->outbox_.pop_front();
                      self->write_next();
                    });
  }

  websocket::stream<beast::tcp_stream> ws_;
  std::weak_ptr<ws_hub> hub_;
  std::optional<identity> who_; ///< of the upgrade request's token
  bool can_write_;
  http::connection_ticket ticket_; ///< counts this connection while open
  bool closed_ = false;
  std::string service_;
  uint64_t last_version_ = 0;
  beast::flat_buffer in_;
  /// Messages to send; the front one is being written. `second` marks a
  /// config push, which a newer one may replace while it waits.
  std::deque<std::pair<message, bool>> outbox_;
};

ws_hub::ws_hub(std::shared_ptr<asio::io_context> http_io,
               api_context_ptr ctx, std::shared_ptr<const authorizer> auth)
  : http_io_(http_io),
    ioc_(std::make_shared<asio::io_context>(1)),
    work_(asio::make_work_guard(*ioc_)),
    ctx_(std::move(ctx)),
    auth_(std::move(auth)) {
  // nop
}

namespace {

/// Serializes each change it is sent and hands the push to `hub` on the ws
/// thread. (Its state comes as spawn arguments: CAF 0.17 binds a reference
/// to a null argument tuple when a function is spawned without any, which
/// UBSan reports.)
cfgactors::subscriber_actor::behavior_type
serializer(std::weak_ptr<ws_hub> hub, std::weak_ptr<asio::io_context> ioc) {
  return {[hub, ioc](const cfgactors::change& c) {
    ws_push p;
    try {
      p = serialize_push(*c.after);
    } catch (const std::exception& e) {
      // Skip this version, keep the feed: an exception would end it.
      spdlog::error("event=ws_serialize_failed version={} error=\"{}\"",
                    c.after->version, e.what());
      return;
    }
    if (auto io = ioc.lock())
      asio::post(*io, [hub, p = std::move(p)]() mutable {
        if (auto h = hub.lock())
          h->publish(std::move(p));
      });
  }};
}

/// A descriptor on its way from the io thread to the ws thread: closed if
/// it never arrives (the ws thread stopped first).
struct released_socket {
  int fd = -1;

  explicit released_socket(int x) : fd(x) {
    // nop
  }
  released_socket(released_socket&& other) noexcept
    : fd(std::exchange(other.fd, -1)) {
    // nop
  }
  released_socket& operator=(released_socket&&) = delete;
  ~released_socket() {
    if (fd >= 0)
      ::close(fd);
  }
};

/// `ticket`, given back on the io thread whichever thread lets go of it:
/// the server's connection counts are the io thread's alone. With the io
/// thread gone (cfgd stopping), where it is let go of.
http::connection_ticket
on_io_thread(http::connection_ticket ticket,
             std::weak_ptr<asio::io_context> http_io) {
  return http::connection_ticket{
    nullptr, [ticket = std::move(ticket),
              http_io = std::move(http_io)](const void*) mutable {
      if (auto io = http_io.lock())
        asio::post(*io, [t = std::move(ticket)]() mutable { t.reset(); });
      ticket.reset();
    }};
}

} // namespace

ws_hub::~ws_hub() {
  caf::anon_send_exit(serializer_, caf::exit_reason::user_shutdown);
  work_.reset();
  ioc_->stop();
  if (thread_.joinable()) {
    if (thread_.get_id() == std::this_thread::get_id())
      thread_.detach(); // the last handler of the ws thread let go of us
    else
      thread_.join();
  }
}

std::optional<std::string> ws_hub::start() {
  // Each change is serialized once, on a thread of its own (a detached
  // actor): a 1 MB config takes tens of milliseconds, which neither the ws
  // thread (every client waits for it) nor the scheduler (where the store
  // answers reads) should spend. While it is busy the router folds versions
  // into the latest.
  serializer_ = ctx_->sys.spawn<caf::detached>(
    serializer, weak_from_this(), std::weak_ptr<asio::io_context>{ioc_});
  auto feed = ctx_->node.subscribe_actor("", serializer_);
  if (!feed) {
    caf::anon_send_exit(serializer_, caf::exit_reason::user_shutdown);
    return "ws: " + ctx_->sys.render(feed.error());
  }
  feed_ = std::move(*feed);
  // What a client that connects before the first change starts from.
  newest_ = serialize_push(*ctx_->node.snapshot());
  thread_ = std::thread{[io = ioc_] { io->run(); }};
  return std::nullopt;
}

void ws_hub::stop() {
  if (stopped_.exchange(true))
    return;
  ctx_->node.unsubscribe(feed_);
  caf::anon_send_exit(serializer_, caf::exit_reason::user_shutdown);
  // The sessions start their close handshakes (each sends its close frame
  // at once where the socket takes it), then the ws thread ends, as the io
  // thread does: nobody waits for slow clients to answer.
  asio::post(*ioc_, [hub = shared_from_this()] { hub->close_sessions(); });
  asio::post(*ioc_, [io = ioc_] { io->stop(); });
  if (thread_.joinable() && thread_.get_id() != std::this_thread::get_id())
    thread_.join();
}

void ws_hub::close_sessions() {
  std::vector<std::shared_ptr<ws_session>> open;
  for (auto& [ptr, weak] : sessions_)
    if (auto s = weak.lock())
      open.push_back(std::move(s));
  for (auto& s : open)
    s->close();
}

std::optional<http::response> ws_hub::upgrade(beast::tcp_stream& stream,
                                              http::request& req,
                                              http::connection_ticket ticket) {
  if (stopped_)
    return http::error_response(req, http::status::service_unavailable,
                                "stopping");
  if (auto refusal = auth_->check(req, access::read))
    return refusal;
  // Writing through the socket needs a write token on the upgrade request.
  auto can_write = !auth_->check(req, access::write).has_value();
  // The connection moves to the ws thread: the socket leaves this thread's
  // io_context as a plain descriptor and joins the ws thread's.
  error_code ec;
  auto& socket = stream.socket();
  auto protocol = socket.local_endpoint(ec).protocol();
  if (ec)
    return http::error_response(req, http::status::bad_request,
                                "connection lost: " + ec.message());
  auto fd = released_socket{socket.release(ec)};
  if (ec)
    return http::error_response(req, http::status::internal_server_error,
                                "cannot hand over the connection: "
                                  + ec.message());
  asio::post(*ioc_, [hub = shared_from_this(), fd = std::move(fd), protocol,
                     who = auth_->identify(req), can_write,
                     ticket = on_io_thread(std::move(ticket), http_io_),
                     req = std::move(req)]() mutable {
    asio::ip::tcp::socket socket{*hub->ioc_};
    error_code ec;
    socket.assign(protocol, fd.fd, ec);
    if (ec)
      return; // fd closes with its guard
    fd.fd = -1;
    auto s = std::make_shared<ws_session>(beast::tcp_stream{std::move(socket)},
                                          hub->weak_from_this(),
                                          std::move(who), can_write,
                                          std::move(ticket));
    s->start(std::move(req));
  });
  return std::nullopt;
}

void ws_hub::publish(ws_push p) {
  // In the feed's order, which is the versions' (a replica's versions start
  // again when its primary restarted empty).
  newest_ = p;
  if (sessions_.empty())
    return;
  auto targets = std::make_shared<session_list>();
  targets->reserve(sessions_.size());
  for (auto& [ptr, weak] : sessions_)
    targets->push_back(weak);
  pushing_ = p.version;
  push_from(targets, 0, std::move(p));
}

void ws_hub::push_from(std::shared_ptr<const session_list> targets,
                       std::size_t next, ws_push p) {
  // A newer version ends this round: its own reaches every session.
  if (stopped_ || pushing_ != p.version)
    return;
  // A push's first write copies what the socket buffer takes at once (Asio
  // writes before it waits): one session per handler, so that the sessions'
  // own requests are served between them rather than after all of them.
  if (auto s = (*targets)[next].lock())
    s->push(p.version, p.for_client(s->sees_secrets()));
  if (++next == targets->size())
    return;
  asio::post(*ioc_, [hub = weak_from_this(), targets = std::move(targets),
                     next, p = std::move(p)]() mutable {
    if (auto h = hub.lock())
      h->push_from(std::move(targets), next, std::move(p));
  });
}

void ws_hub::attach(const std::shared_ptr<ws_session>& s) {
  sessions_.emplace(s.get(), s);
  clients_.store(sessions_.size(), std::memory_order_relaxed);
}

void ws_hub::detach(ws_session* s) {
  sessions_.erase(s);
  clients_.store(sessions_.size(), std::memory_order_relaxed);
}

} // namespace cfgd

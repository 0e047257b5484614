#define CAF_SUITE ws_source
// ws_source against a real WebSocket server (Boost.Beast, its own thread) on
// 127.0.0.1, on CAF's real scheduler, feeding a real pipeline.
#include "remote_fixture.hpp"

#include <atomic>
#include <condition_variable>
#include <deque>
#include <mutex>
#include <thread>

#include <boost/asio/post.hpp>
#include <boost/beast/core/buffers_to_string.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/http/read.hpp>
#include <boost/beast/http/string_body.hpp>
#include <boost/beast/http/write.hpp>
#include <boost/beast/websocket/stream.hpp>

#include "cfgactors/ws_source.hpp"

namespace ws_source_suite {

using namespace cfgactors;
using namespace cfgactors::test;
using namespace std::chrono_literals;

namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace websocket = boost::beast::websocket;
using tcp = asio::ip::tcp;
using error_code = boost::system::error_code;

/// A WebSocket server for one client at a time: records what it receives,
/// pushes on request, can drop the connection. Refuses the upgrade with 401
/// when a token is set and the client's does not match.
class ws_server {
public:
  explicit ws_server(std::string token = {}, unsigned short port = 0)
    : token_(std::move(token)), acceptor_(ioc_) {
    tcp::endpoint ep{asio::ip::address_v4::loopback(), port};
    acceptor_.open(ep.protocol());
    acceptor_.set_option(asio::socket_base::reuse_address(true));
    acceptor_.bind(ep);
    acceptor_.listen();
    port_ = acceptor_.local_endpoint().port();
    accept();
    thread_ = std::thread{[this] { ioc_.run(); }};
  }

  ~ws_server() {
    asio::post(ioc_, [this] {
      error_code ignored;
      acceptor_.close(ignored);
      if (current_)
        current_->ws.next_layer().close(ignored);
      ioc_.stop();
    });
    thread_.join();
  }

  std::string endpoint() const {
    return "ws://127.0.0.1:" + std::to_string(port_);
  }

  /// Sends `text` to the connected client.
  void push(std::string text) {
    asio::post(ioc_, [this, text{std::move(text)}]() mutable {
      if (!current_)
        return;
      current_->outbox.push_back(std::move(text));
      if (current_->outbox.size() == 1)
        write(current_);
    });
  }

  void push(const json& msg) {
    push(msg.dump());
  }

  /// Closes the TCP connection without a WebSocket close handshake.
  void drop() {
    asio::post(ioc_, [this] {
      if (current_) {
        error_code ignored;
        current_->ws.next_layer().close(ignored);
        current_.reset();
      }
    });
  }

  std::vector<std::string> received() {
    std::lock_guard<std::mutex> guard{mtx_};
    return received_;
  }

  int upgrades() {
    std::lock_guard<std::mutex> guard{mtx_};
    return upgrades_;
  }

  int refused() {
    std::lock_guard<std::mutex> guard{mtx_};
    return refused_;
  }

  /// Connections whose client went away (read failed).
  int closed() {
    std::lock_guard<std::mutex> guard{mtx_};
    return closed_;
  }

  std::string last_authorization() {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_authorization_;
  }

  /// From now on, upgraded connections are never read: pings go unanswered.
  void deafen() {
    std::lock_guard<std::mutex> guard{mtx_};
    deaf_ = true;
  }

  std::string last_target() {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_target_;
  }

private:
  struct connection {
    explicit connection(tcp::socket socket) : ws(std::move(socket)) {
      // nop
    }
    websocket::stream<tcp::socket> ws;
    beast::flat_buffer buffer;
    bhttp::request<bhttp::string_body> upgrade;
    bhttp::response<bhttp::string_body> refusal;
    std::deque<std::string> outbox;
  };

  using connection_ptr = std::shared_ptr<connection>;

  void accept() {
    acceptor_.async_accept([this](error_code ec, tcp::socket socket) {
      if (ec)
        return;
      auto c = std::make_shared<connection>(std::move(socket));
      bhttp::async_read(c->ws.next_layer(), c->buffer, c->upgrade,
                        [this, c](error_code ec, std::size_t) {
                          if (!ec)
                            upgrade(c);
                        });
      accept();
    });
  }

  void upgrade(const connection_ptr& c) {
    auto auth = std::string{c->upgrade[bhttp::field::authorization]};
    {
      std::lock_guard<std::mutex> guard{mtx_};
      last_authorization_ = auth;
      last_target_ = std::string{c->upgrade.target()};
    }
    if (!token_.empty() && auth != "Bearer " + token_) {
      // Counted before the answer goes out: the client may read it (and a
      // test look at the count) before the write's handler runs.
      {
        std::lock_guard<std::mutex> guard{mtx_};
        ++refused_;
      }
      c->refusal = {bhttp::status::unauthorized, c->upgrade.version()};
      c->refusal.body() = "unauthorized";
      c->refusal.prepare_payload();
      bhttp::async_write(c->ws.next_layer(), c->refusal,
                         [c](error_code, std::size_t) {
                           error_code ignored;
                           c->ws.next_layer().close(ignored);
                         });
      return;
    }
    c->ws.async_accept(c->upgrade, [this, c](error_code ec) {
      if (ec)
        return;
      c->buffer.clear();
      current_ = c;
      bool deaf;
      {
        std::lock_guard<std::mutex> guard{mtx_};
        ++upgrades_;
        deaf = deaf_;
      }
      if (!deaf)
        read(c);
    });
  }

  void read(const connection_ptr& c) {
    c->ws.async_read(c->buffer, [this, c](error_code ec, std::size_t) {
      std::lock_guard<std::mutex> guard{mtx_};
      if (ec) {
        ++closed_;
        return;
      }
      received_.push_back(beast::buffers_to_string(c->buffer.data()));
      c->buffer.consume(c->buffer.size());
      read(c);
    });
  }

  void write(const connection_ptr& c) {
    c->ws.text(true);
    c->ws.async_write(asio::buffer(c->outbox.front()),
                      [this, c](error_code ec, std::size_t) {
                        if (ec)
                          return;
                        c->outbox.pop_front();
                        if (!c->outbox.empty())
                          write(c);
                      });
  }

  std::string token_;
  asio::io_context ioc_;
  tcp::acceptor acceptor_;
  unsigned short port_ = 0;
  std::thread thread_;
  connection_ptr current_; ///< only touched on the server thread
  std::mutex mtx_;
  std::vector<std::string> received_;
  int upgrades_ = 0;
  int refused_ = 0;
  bool deaf_ = false;
  int closed_ = 0;
  std::string last_authorization_;
  std::string last_target_;
};

/// A source that counts reloads and answers them only when released (with
/// tick_atom), so the test sees whether ws_source waits for it.
struct probe_state {
  std::atomic<int> reloads{0};
};

caf::behavior probe_source(caf::event_based_actor* self,
                           std::shared_ptr<probe_state> state) {
  auto held = std::make_shared<std::vector<caf::response_promise>>();
  auto status = [] {
    source_status s;
    s.kind = "probe";
    s.layer = "probe";
    return s;
  };
  return {
    [status](status_atom) { return status(); },
    [self, state, held](reload_atom) {
      ++state->reloads;
      held->push_back(self->make_response_promise());
      return held->back();
    },
    [held, status](tick_atom) {
      for (auto& rp : *held)
        rp.deliver(status());
      held->clear();
    },
  };
}

struct fixture : remote_fixture {
  source_actor spawn(const std::string& endpoint, std::string token = {},
                     std::vector<source_actor> reload = {}) {
    ws_source_options opts;
    opts.endpoint = endpoint;
    opts.token = std::move(token);
    opts.service = "billing";
    opts.service_version = "1.2.3";
    opts.min_backoff = 50ms;
    opts.max_backoff = 500ms;
    opts.connect_timeout = 2s;
    opts.store = pipe.store;
    opts.reload = std::move(reload);
    auto src = spawn_ws_source(sys, pipe.validator, std::move(opts));
    sources.push_back(src);
    return src;
  }

  /// Waits until the server received at least `n` messages.
  std::vector<std::string> wait_received(ws_server& srv, size_t n) {
    std::vector<std::string> out;
    if (!wait_until([&] { return (out = srv.received()).size() >= n; }))
      CAF_FAIL("the server received " << out.size() << " of " << n
                                      << " messages");
    return out;
  }

  uint64_t version() {
    return current()->version;
  }
};

json layer_of(const snapshot& snap, const std::string& name) {
  auto data = snap.layers.get(name);
  return data ? *data : json{};
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(ws_source_tests, fixture)

CAF_TEST(the source registers and applies each pushed action) {
  // An object flag in a layer below the ws layer: set_feature keeps its
  // rollout.
  auto flags = write(operation::replace_layer(
    "file:flags.yaml",
    json{{"features", {{"beta_ui", {{"enabled", false}, {"rollout", 30}}}}}}));
  CAF_REQUIRE_EQUAL(flags.version, 2u);
  auto probe_log = std::make_shared<probe_state>();
  auto probe = sys.spawn(probe_source, probe_log);
  ws_server srv{"s3cret"};
  auto src = spawn(srv.endpoint(), "s3cret",
                   {caf::actor_cast<source_actor>(probe)});
  auto layer = "ws:" + srv.endpoint();
  // Register: service and version, with the token on the upgrade.
  auto hello = json::parse(wait_received(srv, 1)[0]);
  CAF_CHECK_EQUAL(hello["action"], "register");
  CAF_CHECK_EQUAL(hello["service"], "billing");
  CAF_CHECK_EQUAL(hello["version"], "1.2.3");
  CAF_CHECK_EQUAL(srv.last_authorization(), "Bearer s3cret");
  CAF_CHECK_EQUAL(srv.last_target(), "/ws");
  auto st = wait_status(src,
                        [](auto& s) { return s.state == source_state::ok; });
  CAF_CHECK_EQUAL(st.kind, "ws");
  CAF_CHECK_EQUAL(st.layer, layer);
  // update_config: the layer becomes the config.
  srv.push(json{{"action", "update_config"},
                {"config",
                 {{"buffer_size", 4096},
                  {"features", {{"new_algorithm", true}}}}}});
  auto snap = wait_snapshot([](auto& s) { return s.version == 3; });
  CAF_CHECK_EQUAL(snap->origin, layer);
  CAF_CHECK_EQUAL((*snap->effective)["buffer_size"], 4096);
  CAF_CHECK_EQUAL((*snap->effective)["features"]["new_algorithm"], true);
  // set_feature on an object flag flips only `enabled`.
  srv.push(json{{"action", "set_feature"},
                {"feature", "beta_ui"},
                {"enabled", true}});
  snap = wait_snapshot([](auto& s) { return s.version == 4; });
  CAF_CHECK_EQUAL((*snap->effective)["features"]["beta_ui"],
                  (json{{"enabled", true}, {"rollout", 30}}));
  // set_feature on a plain flag sets it; earlier edits of the layer stay.
  srv.push(json{{"action", "set_feature"},
                {"feature", "enhanced_monitoring"},
                {"enabled", false}});
  snap = wait_snapshot([](auto& s) { return s.version == 5; });
  CAF_CHECK_EQUAL((*snap->effective)["features"]["enhanced_monitoring"], false);
  CAF_CHECK_EQUAL((*snap->effective)["buffer_size"], 4096);
  // set_log_level.
  srv.push(json{{"action", "set_log_level"}, {"level", "DEBUG"}});
  snap = wait_snapshot([](auto& s) { return s.version == 6; });
  CAF_CHECK_EQUAL((*snap->effective)["logging"]["level"], "DEBUG");
  CAF_CHECK_EQUAL((*snap->effective)["logging"]["format"], "text");
  CAF_CHECK_EQUAL(layer_of(*snap, layer),
                  (json{{"buffer_size", 4096},
                        {"features",
                         {{"new_algorithm", true},
                          {"beta_ui", {{"enabled", true}}},
                          {"enhanced_monitoring", false}}},
                        {"logging", {{"level", "DEBUG"}}}}));
  // Bad messages are skipped, a refused level changes nothing, and the
  // connection stays: the next valid push is version 7.
  auto before = status_of(src);
  srv.push(std::string{"{\"action\": \"set_log_level\",\n \"level\": }"});
  srv.push(json{{"action", "explode"}});
  srv.push(json{{"action", "set_feature"}, {"feature", "beta_ui"}});
  srv.push(json{{"action", "set_log_level"}, {"level", "LOUD"}});
  srv.push(json{{"action", "set_log_level"}, {"level", "WARNING"}});
  snap = wait_snapshot(
    [](auto& s) { return (*s.effective)["logging"]["level"] == "WARNING"; });
  CAF_CHECK_EQUAL(snap->version, 7u);
  // The version is in the store before the source has its write's answer
  // (which sets it back to ok after the refused level): wait for that.
  st = wait_status(src, [&](auto& s) {
    return s.state == source_state::ok && s.reads == before.reads + 5;
  });
  CAF_CHECK_EQUAL(st.errors, before.errors + 3);
  CAF_CHECK_EQUAL(st.rejected, before.rejected + 1);
  CAF_CHECK_EQUAL(st.reads, before.reads + 5);
  CAF_CHECK_EQUAL(st.state, source_state::ok);
  CAF_CHECK_EQUAL(srv.upgrades(), 1);
  auto skipped = logs.events("ws_message_skipped");
  CAF_REQUIRE_EQUAL(skipped.size(), 3u);
  CHECK_WHY(contains(skipped[0], "malformed JSON: message:2:"), skipped[0]);
  CHECK_WHY(contains(skipped[1], "unknown action 'explode'"), skipped[1]);
  CHECK_WHY(contains(skipped[2], "set_feature needs"), skipped[2]);
  // The server drops the connection: the source reconnects, registers
  // again, and the next push applies.
  srv.drop();
  auto again = json::parse(wait_received(srv, 2)[1]);
  CAF_CHECK_EQUAL(again["action"], "register");
  CAF_CHECK_EQUAL(again["service"], "billing");
  CAF_CHECK_EQUAL(srv.upgrades(), 2);
  st = wait_status(src, [&](auto& s) {
    return s.state == source_state::ok && s.errors > before.errors + 3;
  });
  auto down = logs.events("ws_source_disconnected");
  CAF_REQUIRE_GREATER_OR_EQUAL(down.size(), 1u);
  CHECK_WHY(contains(down[0], "endpoint=\"" + srv.endpoint() + "\"")
              && contains(down[0], "retry_in_ms="),
            down[0]);
  srv.push(json{{"action", "update_config"},
                {"config", {{"buffer_size", 8192}}}});
  snap = wait_snapshot([](auto& s) { return s.version == 8; });
  CAF_CHECK_EQUAL((*snap->effective)["buffer_size"], 8192);
  CAF_CHECK_EQUAL((*snap->effective)["logging"]["level"], "INFO");
  // reload: the other sources re-read first, then the overrides become the
  // runtime layer.
  srv.push(json{{"action", "reload"}, {"overrides", {{"sample_rate", 0.5}}}});
  CAF_REQUIRE(wait_until([&] { return probe_log->reloads.load() == 1; }));
  CAF_CHECK_EQUAL(version(), 8u); // the probe has not answered yet
  self->send(probe, tick_atom::value);
  snap = wait_snapshot([](auto& s) { return s.version == 9; });
  CAF_CHECK_EQUAL((*snap->effective)["sample_rate"], 0.5);
  CAF_CHECK_EQUAL(layer_of(*snap, "runtime"), (json{{"sample_rate", 0.5}}));
  CAF_CHECK_EQUAL((*snap->effective)["buffer_size"], 8192);
  // Stopping the source closes its connection.
  self->send_exit(src, caf::exit_reason::user_shutdown);
  CAF_CHECK(wait_until([&] { return srv.closed() == 2; }));
  self->send_exit(probe, caf::exit_reason::user_shutdown);
}

CAF_TEST(a source without a server is degraded until one appears) {
  auto port = free_port();
  auto endpoint = "ws://127.0.0.1:" + std::to_string(port);
  auto src = spawn(endpoint);
  auto st = wait_status(src, [](auto& s) { return s.errors >= 4; });
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CHECK_WHY(contains(st.last_error, endpoint + ": connection refused"),
            st.last_error);
  // Each retry waits min_backoff × 2^n (±20 %).
  auto down = logs.events("ws_source_disconnected");
  CAF_REQUIRE_GREATER_OR_EQUAL(down.size(), 4u);
  for (size_t i = 0; i < 4; ++i) {
    auto pos = down[i].find("retry_in_ms=");
    CAF_REQUIRE_NOT_EQUAL(pos, std::string::npos);
    auto delay = std::stoll(down[i].substr(pos + 12));
    auto nominal = int64_t{50} << i;
    CHECK_WHY(delay >= nominal * 8 / 10 && delay <= nominal * 12 / 10,
              "retry " << i << ": " << delay << " ms, nominal " << nominal);
  }
  ws_server srv{{}, port};
  auto hello = json::parse(wait_received(srv, 1)[0]);
  CAF_CHECK_EQUAL(hello["service"], "billing");
  wait_status(src, [](auto& s) { return s.state == source_state::ok; });
  srv.push(json{{"action", "set_log_level"}, {"level", "ERROR"}});
  auto snap = wait_snapshot([](auto& s) { return s.version == 2; });
  CAF_CHECK_EQUAL((*snap->effective)["logging"]["level"], "ERROR");
}

CAF_TEST(a refused upgrade leaves the source degraded and says why) {
  ws_server srv{"right"};
  auto src = spawn(srv.endpoint(), "wr0ng-t0ken");
  auto st = wait_status(src, [](auto& s) { return s.errors >= 1; });
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CHECK_WHY(contains(st.last_error, "declined the WebSocket upgrade of /ws "
                                    "(HTTP 401 Unauthorized)"),
            st.last_error);
  CAF_CHECK_EQUAL(srv.last_authorization(), "Bearer wr0ng-t0ken");
  CAF_CHECK_EQUAL(srv.upgrades(), 0);
  CAF_CHECK_GREATER_OR_EQUAL(srv.refused(), 1);
  for (auto& line : logs.sink->lines())
    CHECK_WHY(!contains(line, "wr0ng-t0ken"), "token in the log: " << line);
}

CAF_TEST(the configured heartbeat drops a connection that went silent) {
  // One server each: a ws_server serves one client at a time.
  ws_server srv;
  ws_server other;
  srv.deafen();
  other.deafen();
  auto spawn_with = [&](ws_server& to, std::chrono::milliseconds heartbeat) {
    ws_source_options opts;
    opts.endpoint = to.endpoint();
    opts.min_backoff = 5s; // one connection each for this test
    opts.max_backoff = 5s;
    opts.heartbeat = heartbeat;
    auto src = spawn_ws_source(sys, pipe.validator, std::move(opts));
    sources.push_back(src);
    return src;
  };
  auto quick = spawn_with(srv, 200ms);
  auto patient = spawn_with(other, 15s);
  auto start = std::chrono::steady_clock::now();
  auto st = wait_status(quick, [](auto& s) { return s.errors >= 1; });
  auto took = std::chrono::steady_clock::now() - start;
  CHECK_WHY(contains(st.last_error, "went silent (no answer to a ping)"),
            st.last_error);
  CAF_CHECK(took >= 150ms);
  CAF_CHECK(took < 3s);
  // The default heartbeat has not given up on the same silence.
  st = wait_status(patient,
                   [](auto& s) { return s.state == source_state::ok; });
  CAF_CHECK_EQUAL(st.state, source_state::ok);
  CAF_CHECK_EQUAL(st.errors, 0u);
  ws_source_options bad;
  bad.endpoint = srv.endpoint();
  bad.heartbeat = 0ms;
  CHECK_WHY(contains(options_error(bad), "heartbeat must be positive, got 0"),
            options_error(bad));
  bad.heartbeat = 1s;
  CAF_CHECK(options_error(bad).empty());
}

CAF_TEST(an endpoint that is not ws is refused by name) {
  auto src = spawn("wxx://127.0.0.1:1/base");
  auto st = status_of(src);
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CHECK_WHY(contains(st.last_error, "'wxx://127.0.0.1:1/base'")
              && contains(st.last_error, "scheme must be ws or wss"),
            st.last_error);
  st = status_of(spawn("ws://127.0.0.1:99999"));
  CHECK_WHY(contains(st.last_error, "out of range"), st.last_error);
  st = status_of(spawn("ws://127.0.0.1:1", "abc\nX-Evil: 1"));
  CHECK_WHY(contains(st.last_error, "contains a line break")
              && !contains(st.last_error, "X-Evil"),
            st.last_error);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace ws_source_suite

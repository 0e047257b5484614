// The seed's WebSocketConfig, as an actor: connect to `{endpoint}/ws`,
// register, and apply what the server pushes — update_config, set_feature,
// set_log_level, reload — each one validated like any other change. A push
// the schema refuses changes nothing.
//
// The WebSocket server here is a small Boost.Beast server in the same
// process that pushes one action after another.
#include <chrono>
#include <condition_variable>
#include <deque>
#include <iostream>
#include <mutex>
#include <thread>

#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <cfgactors/ws_source.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;
namespace asio = boost::asio;
namespace beast = boost::beast;
using tcp = asio::ip::tcp;

namespace {

/// Accepts one client, prints its register message, then sends whatever is
/// queued until an empty string says stop.
struct push_server {
  asio::io_context ioc;
  tcp::acceptor acceptor{ioc, {asio::ip::make_address("127.0.0.1"), 0}};
  std::mutex mtx;
  std::condition_variable cv;
  std::deque<std::string> queue;
  std::thread thread;

  void start() {
    thread = std::thread{[this] { run(); }};
  }

  void push(std::string msg) {
    std::lock_guard<std::mutex> guard{mtx};
    queue.push_back(std::move(msg));
    cv.notify_all();
  }

  void run() {
    try {
      beast::websocket::stream<tcp::socket> ws{acceptor.accept()};
      ws.accept();
      beast::flat_buffer buf;
      ws.read(buf);
      std::cout << "server got: " << beast::buffers_to_string(buf.data())
                << '\n';
      for (;;) {
        std::unique_lock<std::mutex> guard{mtx};
        cv.wait(guard, [this] { return !queue.empty(); });
        auto msg = std::move(queue.front());
        queue.pop_front();
        guard.unlock();
        if (msg.empty())
          break;
        ws.write(asio::buffer(msg));
      }
      ws.close(beast::websocket::close_code::normal);
    } catch (const std::exception& e) {
      std::cerr << "server: " << e.what() << '\n';
    }
  }

  void stop() {
    push("");
    thread.join();
  }
};

snapshot_ptr current(caf::scoped_actor& self, const store_actor& store) {
  snapshot_ptr snap;
  self->request(store, 10s, get_atom::value)
    .receive([&](snapshot_ptr& x) { snap = std::move(x); },
             [](caf::error&) {});
  return snap;
}

/// Waits until the effective config has `want` at `ptr`.
bool wait_value(caf::scoped_actor& self, const store_actor& store,
                const char* ptr, const json& want) {
  for (int i = 0; i < 400; ++i) {
    auto& eff = *current(self, store)->effective;
    if (eff.contains(json::json_pointer{ptr})
        && eff.at(json::json_pointer{ptr}) == want)
      return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  std::string err;
  auto schema = json_schema::from_file(dir + "/schema.json", &err);
  auto doc = parse_file(dir + "/config.yaml");
  if (!schema || !doc) {
    std::cerr << (schema ? doc.error->str() : err) << '\n';
    return 1;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  push_server server;
  auto port = server.acceptor.local_endpoint().port();
  server.start();
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  pipeline_options opts;
  opts.validation.schema = schema;
  auto pipe = spawn_pipeline(sys, opts);
  caf::scoped_actor self{sys};
  self->request(pipe.validator, 10s, write_atom::value,
                write_request{{operation::replace_layer("file:config.yaml",
                                                        doc.value)},
                              "example", 0, {}})
    .receive([](write_result&) {}, [](caf::error&) {});
  ws_source_options wopts;
  wopts.endpoint = "ws://127.0.0.1:" + std::to_string(port);
  wopts.service = "example-service";
  wopts.service_version = "1.2.3";
  wopts.store = pipe.store;
  auto src = spawn_ws_source(sys, pipe.validator, wopts);
  auto step = [&](const char* what, std::string msg, const char* ptr,
                  json want) {
    server.push(std::move(msg));
    auto ok = wait_value(self, pipe.store, ptr, want);
    std::cout << what << ": " << ptr << " = " << want.dump()
              << (ok ? "" : "  (NOT APPLIED)") << '\n';
    return ok;
  };
  // update_config replaces this source's whole layer, so it goes first.
  auto ok = step("update_config",
                 R"({"action":"update_config","config":{"buffer_size":4096}})",
                 "/buffer_size", 4096);
  ok = step("set_log_level", R"({"action":"set_log_level","level":"DEBUG"})",
            "/logging/level", "DEBUG")
       && ok;
  ok = step("set_feature",
            R"({"action":"set_feature","feature":"new_algorithm","enabled":true})",
            "/features/new_algorithm", true)
       && ok;
  // Refused by the schema: nothing changes.
  auto before = current(self, pipe.store)->version;
  server.push(R"({"action":"set_log_level","level":"LOUD"})");
  ok = step("reload",
            R"({"action":"reload","overrides":{"sample_rate":0.5}})",
            "/sample_rate", 0.5)
       && ok;
  auto after = current(self, pipe.store);
  std::cout << "LOUD was refused: logging.level is still "
            << (*after->effective)["logging"]["level"] << '\n';
  ok = ok && (*after->effective)["logging"]["level"] == "DEBUG"
       && after->version == before + 1;
  self->send_exit(src, caf::exit_reason::user_shutdown);
  server.stop();
  shutdown(pipe);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's RemoteConfig.connect(): fetch the initial configuration from the
// config server before the service goes on. With `remote_required`,
// `node::primary` returns only once the first poll succeeded, with the
// server's values already in the first snapshot; it returns an error when
// the server fails for good (here 403) or does not answer in time. The poll
// interval and the backoff after errors are options too (the seed polls
// every `interval` and backs off `interval * 2`).
//
// The config server is a small cpp-httplib server in the same process that
// answers 503 for its first 300 ms, as a server still warming up.
#include <atomic>
#include <chrono>
#include <iostream>
#include <thread>

#include <httplib.h>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct config_server {
  httplib::Server http;
  int port = 0;
  std::thread thread;
  std::atomic<int> status{503};
  std::atomic<int> polls{0};

  void start() {
    http.Get("/config", [this](const httplib::Request&,
                               httplib::Response& res) {
      ++polls;
      res.status = status;
      if (res.status == 200)
        res.set_content(R"({"buffer_size": 4096})", "application/json");
    });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread{[this] { http.listen_after_bind(); }};
    // httplib drops a stop() that comes before its loop runs: the server
    // would then outlive its destructor's join.
    while (!http.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }

  ~config_server() {
    http.stop();
    if (thread.joinable())
      thread.join();
  }

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port);
  }
};

node_options remote_of(const config_server& server) {
  return node_options{}
    .remote(server.endpoint())
    .remote_poll(30s)                 // the seed's `interval`
    .remote_backoff(50ms, 200ms)      // after an error: 50 ms, doubling
    .remote_required(10s);            // connect(): wait for the first fetch
}

} // namespace

int main() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto ok = true;
  {
    config_server server;
    server.start();
    std::thread warm_up{[&] {
      std::this_thread::sleep_for(300ms);
      server.status = 200;
    }};
    auto start = clock_type::now();
    auto n = node::primary(sys, remote_of(server));
    auto took = std::chrono::duration_cast<std::chrono::milliseconds>(
      clock_type::now() - start);
    warm_up.join();
    if (!n) {
      std::cout << "FAILED: " << sys.render(n.error()) << '\n';
      return 1;
    }
    auto size = n->get<int>("buffer_size", 0);
    std::cout << "connected after " << server.polls << " polls ("
              << (took >= 300ms ? "at least 300 ms" : "too soon")
              << "): buffer_size=" << size << '\n';
    ok = ok && size == 4096 && took >= 300ms && server.polls >= 2;
  }
  {
    config_server server;
    server.status = 403;
    server.start();
    auto n = node::primary(sys, remote_of(server));
    auto why = n ? std::string{"started"} : sys.render(n.error());
    std::cout << "a server answering 403: "
              << (n ? "started" : "refused at once") << '\n';
    ok = ok && !n && why.find("answered 403") != std::string::npos
         && server.polls == 1;
  }
  {
    config_server server;
    server.start();
    auto n = node::primary(sys, remote_of(server).remote_poll(0ms));
    auto why = n ? std::string{"started"} : sys.render(n.error());
    std::cout << "a poll interval of 0 ms: "
              << (n ? "accepted" : "refused by name") << '\n';
    ok = ok && !n && why.find("interval must be positive") != std::string::npos;
  }
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's RemoteConfig, as an actor: poll `GET {endpoint}/config` with a
// bearer token and the last ETag; a 304 costs nothing, a new body becomes the
// remote layer, and when the server is down the service keeps its last good
// config and retries with backoff.
//
// The config server here is a small cpp-httplib server in the same process;
// point `endpoint` at a running cfgd (`cfgd --http 127.0.0.1:7070`) and it
// works the same way.
#include <atomic>
#include <chrono>
#include <iostream>
#include <mutex>
#include <thread>

#include <httplib.h>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <cfgactors/http_source.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

/// The remote config server: one JSON document, its hash as ETag.
struct config_server {
  std::mutex mtx;
  json config;
  std::atomic<int> polls{0};
  std::atomic<int> not_modified{0};
  httplib::Server http;
  int port = 0;
  std::thread thread;

  void start() {
    http.Get("/config", [this](const httplib::Request& req,
                               httplib::Response& res) {
      ++polls;
      if (req.get_header_value("Authorization") != "Bearer example-token") {
        res.status = 401;
        return;
      }
      std::lock_guard<std::mutex> guard{mtx};
      auto etag = "\"" + canonical_hash(config) + "\"";
      res.set_header("ETag", etag);
      if (req.get_header_value("If-None-Match") == etag) {
        ++not_modified;
        res.status = 304;
        return;
      }
      res.set_content(config.dump(), "application/json");
    });
    port = http.bind_to_any_port("127.0.0.1");
    thread = std::thread{[this] { http.listen_after_bind(); }};
    // httplib drops a stop() that comes before its loop runs: the server
    // would then outlive its destructor's join.
    while (!http.is_running())
      std::this_thread::sleep_for(std::chrono::milliseconds{1});
  }

  void stop() {
    http.stop();
    if (thread.joinable())
      thread.join();
  }

  void put(json x) {
    std::lock_guard<std::mutex> guard{mtx};
    config = std::move(x);
  }
};

snapshot_ptr current(caf::scoped_actor& self, const store_actor& store) {
  snapshot_ptr snap;
  self->request(store, 10s, get_atom::value)
    .receive([&](snapshot_ptr& x) { snap = std::move(x); },
             [](caf::error&) {});
  return snap;
}

source_status status_of(caf::scoped_actor& self, const source_actor& src) {
  source_status st;
  self->request(src, 10s, status_atom::value)
    .receive([&](source_status& x) { st = std::move(x); },
             [](caf::error&) {});
  return st;
}

/// Waits until `pred(snapshot)` or ten seconds pass.
template <class Pred>
bool wait_until(caf::scoped_actor& self, const store_actor& store, Pred pred) {
  for (int i = 0; i < 400; ++i) {
    if (pred(*current(self, store)))
      return true;
    std::this_thread::sleep_for(25ms);
  }
  return false;
}

} // namespace

int main() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  config_server server;
  server.put({{"feature_flags", {{"new_feature", false}}}});
  server.start();
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto pipe = spawn_pipeline(sys, {});
  http_source_options hopts;
  hopts.endpoint = "http://127.0.0.1:" + std::to_string(server.port);
  hopts.token = "example-token";
  hopts.interval = 100ms;
  hopts.max_backoff = 400ms;
  auto src = spawn_http_source(sys, pipe.validator, hopts);
  caf::scoped_actor self{sys};
  auto flag = [](const snapshot& s) {
    return s.effective->value(json::json_pointer{"/feature_flags/new_feature"},
                             false);
  };
  auto ok = wait_until(self, pipe.store, [&](const snapshot& s) {
    return s.effective->contains("feature_flags") && !flag(s);
  });
  std::cout << "polled: new_feature=" << flag(*current(self, pipe.store))
            << '\n';
  // Nothing changed on the server: the next polls cost a 304 each.
  for (int i = 0; i < 400 && server.not_modified == 0; ++i)
    std::this_thread::sleep_for(25ms);
  // The server flips the flag; the next poll brings it.
  server.put({{"feature_flags", {{"new_feature", true}}}});
  ok = wait_until(self, pipe.store, flag) && ok;
  auto version = current(self, pipe.store)->version;
  std::cout << "server flipped it: new_feature=true in version " << version
            << '\n';
  // The server goes away: the last good config stays.
  server.stop();
  std::this_thread::sleep_for(500ms);
  auto st = status_of(self, src);
  std::cout << "server down: source " << to_string(st.state) << " ("
            << st.last_error << "), still version "
            << current(self, pipe.store)->version << '\n';
  ok = ok && st.state == source_state::degraded
       && current(self, pipe.store)->version == version;
  std::cout << "polls: " << server.polls << ", answered 304: "
            << server.not_modified << '\n';
  ok = ok && server.not_modified > 0;
  self->send_exit(src, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's RemoteConfig.fetch_config and push_config: a service fetches
// the config from the config server with a bearer token, changes it and
// pushes the whole document back (PUT /config), where it becomes the
// server's runtime layer. A dry run shows what a push would change; an
// invalid push is refused with every reason, named with the HTTP status.
//
// With CFGD_URL (and CFGD_TOKEN) set it talks to that cfgd — the process
// test tests/process/cfgd_push_test.py runs it so. Without, the config
// server is a small cpp-httplib front in this process over a real node
// (as in remote_polling), answering PUT and GET /config as cfgd does.
#include <chrono>
#include <cstdlib>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <thread>

#include <httplib.h>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>

using namespace cfgactors;

namespace {

constexpr const char* example_token = "example-token-0123456789abcdef";

/// cfgd's PUT and GET /config over `n`, for when no cfgd is given.
struct config_server {
  node& n;
  httplib::Server http;
  int port = 0;
  std::thread thread;

  explicit config_server(node& served) : n(served) {
    // nop
  }

  static void answer(httplib::Response& res, int status, const json& body) {
    res.status = status;
    res.set_content(body.dump(), "application/json");
  }

  bool authorized(const httplib::Request& req, httplib::Response& res) {
    if (req.get_header_value("Authorization")
        == std::string{"Bearer "} + example_token)
      return true;
    answer(res, 401, json{{"error", "unauthorized"}, {"details", json::array()}});
    return false;
  }

  void start() {
    http.Get("/config", [this](const httplib::Request& req,
                               httplib::Response& res) {
      if (authorized(req, res))
        answer(res, 200, *n.snapshot()->effective);
    });
    http.Put("/config", [this](const httplib::Request& req,
                               httplib::Response& res) {
      if (!authorized(req, res))
        return;
      auto doc = json::parse(req.body, nullptr, false);
      if (!doc.is_object())
        return answer(res, 400, json{{"error", "bad request"},
                                     {"details", {"an object, please"}}});
      write_request w{{operation::set("", std::move(doc))}, "api", 0, {}};
      w.dry_run = req.get_param_value("dry_run") == "1";
      auto r = n.write(std::move(w)).result;
      if (!r.ok()) {
        auto details = json::array();
        for (auto& e : r.errors)
          details.push_back(e.str());
        return answer(res, r.code == errc::validation_failed ? 422 : 409,
                      json{{"error", to_string(r.code)},
                           {"details", std::move(details)}});
      }
      json body{{"status", to_string(r.status)},
                {"version", r.version},
                {"hash", r.hash}};
      if (w.dry_run) {
        body["dry_run"] = true;
        body["changes"] = r.diff.view;
        body["patch"] = r.diff.patch;
      }
      answer(res, 200, body);
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
};

} // namespace

int main() {
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  system_config cfg;
  caf::actor_system sys{cfg};
  std::optional<node> local;
  std::unique_ptr<config_server> server;
  std::string url;
  std::string token;
  if (auto given = std::getenv("CFGD_URL")) {
    url = given;
    token = std::getenv("CFGD_TOKEN") ? std::getenv("CFGD_TOKEN") : "";
  } else {
    std::string dir = CFGACTORS_EXAMPLES_DIR;
    auto n = node::primary(sys, node_options{}
                                  .file(dir + "/config.yaml")
                                  .schema(dir + "/schema.json"));
    if (!n) {
      std::cout << "FAILED: " << sys.render(n.error()) << '\n';
      return 1;
    }
    local.emplace(std::move(*n));
    server = std::make_unique<config_server>(*local);
    server->start();
    url = "http://127.0.0.1:" + std::to_string(server->port);
    token = example_token;
  }
  try {
    config_client remote{url, token};
    // fetch_config
    auto config = remote.fetch();
    check(config.contains("buffer_size"), "fetched the served config");
    // push_config: change it, push it whole.
    config["logging"]["level"] = "DEBUG";
    auto pushed = remote.push(config);
    std::cout << "pushed: " << pushed.dump() << '\n';
    check(pushed.value("status", "") == "committed", "the push committed");
    check(remote.fetch()["logging"]["level"] == "DEBUG",
          "the server serves the pushed level");
    // A dry run: what a push would change, nothing committed.
    auto bigger = config;
    bigger["buffer_size"] = config["buffer_size"].get<int>() * 2;
    auto dry = remote.push(bigger, true);
    std::cout << "dry run: " << dry.dump() << '\n';
    check(dry.value("status", "") == "accepted"
            && dry["changes"].contains("buffer_size"),
          "the dry run names the change");
    check(remote.fetch()["buffer_size"] == config["buffer_size"],
          "the dry run committed nothing");
    // An invalid push: refused with every reason and the status.
    auto bad = config;
    bad["buffer_size"] = -204;
    bad["logging"]["level"] = "LOUD";
    try {
      remote.push(bad);
      check(false, "an invalid push is refused");
    } catch (const config_client_error& e) {
      std::cout << "refused: " << e.what() << '\n';
      check(e.status() == 422 && e.details().size() == 2,
            "refused with 422 and both reasons");
    }
  } catch (const std::exception& e) {
    // A wrong token, an unreachable server: named with status and body.
    std::cout << "FAILED: " << e.what() << '\n';
    ok = false;
  }
  server.reset();
  if (local)
    local->stop();
  if (ok)
    std::cout << "example ok\n";
  return ok ? 0 : 1;
}

#define CAF_SUITE http_source
// http_source against a real HTTP server (cpp-httplib) on 127.0.0.1, on
// CAF's real scheduler, feeding a real pipeline.
#include "remote_fixture.hpp"

#include <unistd.h>

#include <chrono>
#include <condition_variable>
#include <cstdio>
#include <filesystem>
#include <map>
#include <mutex>
#include <regex>
#include <thread>

#include <httplib.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include "cfgactors/http_source.hpp"

#include "sources/backoff.hpp"
#include "sources/http_client.hpp"
#include "sources/url.hpp"

namespace http_source_suite {

using namespace cfgactors;
using namespace cfgactors::test;
using namespace std::chrono_literals;

namespace {

// -- the config server --------------------------------------------------------

enum class mode {
  config,     ///< the config with its ETag; 304 if If-None-Match matches
  fail,       ///< 500
  stall_head, ///< reads the request, never answers
  stall_body, ///< sends the headers and part of the body, then stalls
  garbage,    ///< 200 with a body that is not JSON
  array,      ///< 200 with a JSON array
  oversized,  ///< 200 with a body over the source's max_body
  chunked,    ///< the same, chunked
  invalid,    ///< 200 with a config the schema refuses
};

class config_server {
public:
  /// Listens on `port` (0 = any free port) on 127.0.0.1.
  explicit config_server(std::string token = {}, int port = 0)
    : token_(std::move(token)) {
    srv_.Get("/config", [this](const httplib::Request& req,
                               httplib::Response& res) { handle(req, res); });
    if (port == 0)
      port_ = srv_.bind_to_any_port("127.0.0.1");
    else if (srv_.bind_to_port("127.0.0.1", port))
      port_ = port;
    if (port_ <= 0)
      CAF_FAIL("cannot bind the config server");
    thread_ = std::thread{[this] { srv_.listen_after_bind(); }};
  }

  ~config_server() {
    {
      std::lock_guard<std::mutex> guard{mtx_};
      stopping_ = true;
    }
    cv_.notify_all();
    srv_.stop();
    thread_.join();
  }

  int port() const {
    return port_;
  }

  std::string endpoint() const {
    return "http://127.0.0.1:" + std::to_string(port_);
  }

  void serve(json config, std::string etag) {
    std::lock_guard<std::mutex> guard{mtx_};
    config_ = std::move(config);
    etag_ = std::move(etag);
    mode_ = mode::config;
    cv_.notify_all();
  }

  void set_mode(mode x) {
    std::lock_guard<std::mutex> guard{mtx_};
    mode_ = x;
    cv_.notify_all(); // releases a stalled answer
  }

  /// Requests answered (or stalled) in mode `x`.
  int served(mode x) {
    std::lock_guard<std::mutex> guard{mtx_};
    return served_[x];
  }

  int not_modified() {
    std::lock_guard<std::mutex> guard{mtx_};
    return not_modified_;
  }

  std::string last_authorization() {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_authorization_;
  }

  std::string last_if_none_match() {
    std::lock_guard<std::mutex> guard{mtx_};
    return last_if_none_match_;
  }

private:
  /// Blocks until the mode changes away from `x` (or the server stops).
  void stall(std::unique_lock<std::mutex>& guard, mode x) {
    cv_.wait_for(guard, 20s, [&] { return stopping_ || mode_ != x; });
  }

  void handle(const httplib::Request& req, httplib::Response& res) {
    std::unique_lock<std::mutex> guard{mtx_};
    last_authorization_ = req.get_header_value("Authorization");
    last_if_none_match_ = req.get_header_value("If-None-Match");
    auto current = mode_;
    ++served_[current];
    if (!token_.empty() && last_authorization_ != "Bearer " + token_) {
      res.status = 401;
      res.set_content(R"({"error":"unauthorized"})", "application/json");
      return;
    }
    switch (current) {
      case mode::config:
        if (last_if_none_match_ == etag_) {
          ++not_modified_;
          res.status = 304;
          return;
        }
        res.set_header("ETag", etag_);
        res.set_content(config_.dump(), "application/json");
        return;
      case mode::fail:
        res.status = 500;
        res.set_content("backend down", "text/plain");
        return;
      case mode::stall_head:
        stall(guard, current);
        res.status = 500;
        return;
      case mode::stall_body:
        res.set_content_provider(
          200, "application/json",
          [this](size_t offset, size_t, httplib::DataSink& sink) {
            if (offset == 0) {
              sink.write(R"({"buffer_size":)", 15);
              return true;
            }
            std::unique_lock<std::mutex> guard{mtx_};
            stall(guard, mode::stall_body);
            return false;
          });
        return;
      case mode::garbage:
        res.set_content("{\"buffer_size\": 2048,\n  oops}", "application/json");
        return;
      case mode::array:
        res.set_content("[1, 2, 3]", "application/json");
        return;
      case mode::oversized:
        res.set_content(json{{"blob", std::string(64 * 1024, 'x')}}.dump(),
                        "application/json");
        return;
      case mode::chunked:
        res.set_chunked_content_provider(
          "application/json", [](size_t offset, httplib::DataSink& sink) {
            if (offset == 0)
              sink.write("{\"blob\": \"", 10);
            else if (offset < 64 * 1024)
              sink.write(std::string(1024, 'x').data(), 1024);
            else
              sink.done();
            return true;
          });
        return;
      case mode::invalid:
        res.set_header("ETag", "\"bad\"");
        res.set_content(R"({"logging": {"level": "LOUD"}})",
                        "application/json");
        return;
    }
  }

  httplib::Server srv_;
  std::thread thread_;
  int port_ = -1;
  std::string token_;
  std::mutex mtx_;
  std::condition_variable cv_;
  bool stopping_ = false;
  mode mode_ = mode::config;
  json config_ = json::object();
  std::string etag_;
  std::map<mode, int> served_;
  int not_modified_ = 0;
  std::string last_authorization_;
  std::string last_if_none_match_;
};

struct fixture : remote_fixture {
  static http_source_options options(const std::string& endpoint,
                                     std::string token = {}) {
    http_source_options opts;
    opts.endpoint = endpoint;
    opts.token = std::move(token);
    opts.interval = 25ms;
    opts.max_backoff = 250ms;
    opts.connect_timeout = 2s;
    opts.read_timeout = 300ms;
    opts.max_body = 4096;
    return opts;
  }

  source_actor spawn(http_source_options opts) {
    auto src = spawn_http_source(sys, pipe.validator, std::move(opts));
    sources.push_back(src);
    return src;
  }
};

/// Writes a self-signed certificate for 127.0.0.1 and its key to `dir`.
void write_self_signed(const std::filesystem::path& dir) {
  auto key = EVP_EC_gen("P-256");
  auto cert = X509_new();
  ASN1_INTEGER_set(X509_get_serialNumber(cert), 1);
  X509_gmtime_adj(X509_getm_notBefore(cert), 0);
  X509_gmtime_adj(X509_getm_notAfter(cert), 3600);
  X509_set_pubkey(cert, key);
  auto name = X509_get_subject_name(cert);
  X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC,
                             reinterpret_cast<const unsigned char*>(
                               "127.0.0.1"),
                             -1, -1, 0);
  X509_set_issuer_name(cert, name);
  X509_sign(cert, key, EVP_sha256());
  auto out = std::fopen((dir / "cert.pem").c_str(), "w");
  PEM_write_X509(out, cert);
  std::fclose(out);
  out = std::fopen((dir / "key.pem").c_str(), "w");
  PEM_write_PrivateKey(out, key, nullptr, nullptr, 0, nullptr, nullptr);
  std::fclose(out);
  X509_free(cert);
  EVP_PKEY_free(key);
}

} // namespace

// -- helpers without actors ---------------------------------------------------

CAF_TEST(the backoff doubles up to its cap with jitter and resets) {
  detail::backoff exact{100ms, 1000ms, 0.0};
  std::vector<int64_t> seen;
  for (int i = 0; i < 6; ++i)
    seen.push_back(exact.next().count());
  CAF_CHECK_EQUAL(seen, (std::vector<int64_t>{100, 200, 400, 800, 1000, 1000}));
  CAF_CHECK_EQUAL(exact.failures(), 6u);
  for (int i = 0; i < 200; ++i) // far past any overflow of 2^n
    exact.next();
  CAF_CHECK_EQUAL(exact.next().count(), 1000);
  exact.reset();
  CAF_CHECK_EQUAL(exact.failures(), 0u);
  CAF_CHECK_EQUAL(exact.next().count(), 100);
  // ±20 %: every delay within its band, and not all the same.
  detail::backoff jittered{100ms, 1000ms, 0.2, 42};
  int64_t lowest = 10000;
  int64_t highest = 0;
  for (int i = 0; i < 100; ++i) {
    auto nominal = std::min<int64_t>(100 << std::min(i, 10), 1000);
    auto d = jittered.next().count();
    CAF_CHECK_GREATER_OR_EQUAL(d, nominal * 8 / 10);
    CAF_CHECK_LESS_OR_EQUAL(d, nominal * 12 / 10);
    if (i >= 4) {
      lowest = std::min(lowest, d);
      highest = std::max(highest, d);
    }
  }
  CAF_CHECK_LESS(lowest, highest);
}

CAF_TEST(endpoint urls split into scheme host port and base) {
  std::string err;
  auto u = detail::parse_url("HTTP://config.local:8080/api/v1/", err);
  CAF_REQUIRE(u);
  CAF_CHECK_EQUAL(u->scheme, "http");
  CAF_CHECK_EQUAL(u->host, "config.local");
  CAF_CHECK_EQUAL(u->port, "8080");
  CAF_CHECK_EQUAL(u->target("/config"), "/api/v1/config");
  u = detail::parse_url("wss://[::1]", err);
  CAF_REQUIRE(u);
  CAF_CHECK_EQUAL(u->host, "::1");
  CAF_CHECK_EQUAL(u->port, "443");
  CAF_CHECK_EQUAL(u->authority(), "[::1]:443");
  CAF_CHECK_EQUAL(u->target("/ws"), "/ws");
  for (auto bad : {"localhost:80", "http://", "http://h:0", "http://h:99999",
                   "http://h:x1", "http://u:p@h", "http://h/c?x=1",
                   "gopher://h"})
    CHECK_WHY(!detail::parse_url(bad, err), bad << " was accepted");
  detail::parse_url("http://h:99999", err);
  CAF_CHECK(contains(err, "http://h:99999") && contains(err, "out of range"));
}

CAF_TEST(the client refuses an oversized body however it arrives) {
  // Beast 1.74 loses the Content-Length check when header and body arrive
  // together; it depends on timing, hence the repetitions.
  config_server srv;
  std::string err;
  auto endpoint = detail::parse_url(srv.endpoint(), err);
  CAF_REQUIRE(endpoint);
  detail::http_client client{detail::http_limits{2s, 2s, 4096}};
  for (auto m : {mode::oversized, mode::chunked}) {
    srv.set_mode(m);
    for (int i = 0; i < 20; ++i) {
      err.clear();
      auto reply = client.get(*endpoint, "/config", {}, err);
      CHECK_WHY(!reply,
                "accepted a body of " << reply->body.size() << " bytes");
      CAF_CHECK(contains(err, "larger than 4096 bytes (max_body)"));
    }
  }
  srv.serve(json{{"buffer_size", 2048}}, "\"v1\"");
  auto reply = client.get(*endpoint, "/config", {}, err);
  CAF_REQUIRE(reply);
  CAF_CHECK_EQUAL(reply->status, 200u);
  CAF_CHECK_EQUAL(reply->etag, "\"v1\"");
  CAF_CHECK_EQUAL(reply->body, "{\"buffer_size\":2048}");
}

// -- the source against a real server -----------------------------------------

CAF_TEST_FIXTURE_SCOPE(http_source_tests, fixture)

CAF_TEST(the source follows the server and keeps the last good config) {
  const std::string token = "t0ken-that-never-shows";
  config_server srv{token};
  srv.serve(json{{"buffer_size", 2048}, {"features", {{"beta_ui", true}}}},
            "\"v1\"");
  auto src = spawn(options(srv.endpoint(), token));
  auto layer = "http:" + srv.endpoint();
  // The first poll commits a new version with the server's layer on top.
  auto st = wait_status(src, [](auto& s) { return s.committed == 1; });
  CAF_CHECK_EQUAL(st.kind, "http");
  CAF_CHECK_EQUAL(st.layer, layer);
  CAF_CHECK_EQUAL(st.state, source_state::ok);
  CAF_CHECK_EQUAL(st.version, 2u);
  auto snap = current();
  CAF_CHECK_EQUAL(snap->version, 2u);
  CAF_CHECK_EQUAL(snap->origin, layer);
  CAF_CHECK_EQUAL((*snap->effective)["buffer_size"], 2048);
  CAF_CHECK_EQUAL((*snap->effective)["features"]["beta_ui"], true);
  CAF_CHECK_EQUAL((*snap->effective)["logging"]["level"], "INFO");
  CAF_CHECK_EQUAL(srv.last_authorization(), "Bearer " + token);
  // Later polls send the ETag and get 304: reads, but no proposal.
  CAF_REQUIRE(wait_until([&] { return srv.not_modified() >= 2; }));
  CAF_CHECK_EQUAL(srv.last_if_none_match(), "\"v1\"");
  st = status_of(src);
  CAF_CHECK_EQUAL(st.state, source_state::ok);
  CAF_CHECK_EQUAL(st.proposals, 1u);
  CAF_CHECK_GREATER_OR_EQUAL(st.reads, 3u);
  CAF_CHECK_EQUAL(current()->version, 2u);
  // Each failure leaves the source degraded with its reason, and version 2
  // in place. Two requests in a mode mean one poll in it has completed.
  auto expect_failure = [&](mode m, const std::string& reason) {
    srv.set_mode(m);
    CAF_REQUIRE(wait_until([&] { return srv.served(m) >= 2; }));
    auto s = status_of(src);
    CAF_CHECK_EQUAL(s.state, source_state::degraded);
    CHECK_WHY(contains(s.last_error, reason),
                      "expected '" << reason << "' in: " << s.last_error);
    CAF_CHECK_EQUAL(current()->version, 2u);
    CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 2048);
    return s;
  };
  auto config_url = srv.endpoint() + "/config";
  expect_failure(mode::fail, "answered 500");
  expect_failure(mode::stall_head, "no complete answer within 300 ms");
  expect_failure(mode::stall_body, "no complete answer within 300 ms");
  expect_failure(mode::garbage, config_url + ":2:");
  expect_failure(mode::array, "not an object");
  expect_failure(mode::oversized, "larger than 4096 bytes");
  expect_failure(mode::chunked, "larger than 4096 bytes");
  st = expect_failure(mode::invalid, "logging.level");
  CAF_CHECK_GREATER_OR_EQUAL(st.rejected, 1u);
  CAF_CHECK_GREATER_OR_EQUAL(st.errors, 6u);
  // The refused body's ETag was not taken: the source still asks for v1.
  CAF_CHECK_EQUAL(srv.last_if_none_match(), "\"v1\"");
  // The server recovers: a new version, and the source is ok again.
  srv.serve(json{{"buffer_size", 4096}}, "\"v2\"");
  st = wait_status(src, [](auto& s) { return s.committed == 2; });
  CAF_CHECK_EQUAL(st.state, source_state::ok);
  snap = current();
  CAF_CHECK_EQUAL(snap->version, 3u);
  CAF_CHECK_EQUAL((*snap->effective)["buffer_size"], 4096);
  CAF_CHECK(!(*snap->effective)["features"].contains("beta_ui")
            || (*snap->effective)["features"]["beta_ui"] == false);
  // The retry delay doubled from 2 × interval up to max_backoff, with
  // jitter: the n-th failure of a streak announced its delay. (A streak
  // ends with a recovery; under load an early poll may time out as well.)
  std::regex retry_in{"retry_in_ms=([0-9]+)"};
  size_t streak = 0;
  size_t longest = 0;
  for (auto& line : logs.sink->lines()) {
    if (contains(line, "event=http_source_recovered ")) {
      streak = 0;
      continue;
    }
    if (!contains(line, "event=http_source_failed "))
      continue;
    std::smatch m;
    CAF_REQUIRE(std::regex_search(line, m, retry_in));
    auto delay = std::stoll(m[1]);
    auto nominal = std::min<int64_t>(50 << std::min<size_t>(streak, 10), 250);
    CHECK_WHY(delay >= nominal * 8 / 10 && delay <= nominal * 12 / 10,
              "failure " << streak << ": retry_in_ms=" << delay
                         << ", nominal " << nominal);
    CAF_CHECK(contains(line, "endpoint=\"" + srv.endpoint() + "\""));
    longest = std::max(longest, ++streak);
  }
  CAF_CHECK_GREATER_OR_EQUAL(longest, 16u);
  CAF_CHECK_GREATER_OR_EQUAL(logs.events("http_source_recovered").size(), 1u);
  for (auto& line : logs.sink->lines())
    CHECK_WHY(!contains(line, token), "token in the log: " << line);
}

CAF_TEST(a refused token leaves the source degraded and says unauthorized) {
  config_server srv{"right"};
  srv.serve(json{{"buffer_size", 2048}}, "\"v1\"");
  auto wrong = spawn(options(srv.endpoint(), "wrong"));
  auto st = wait_status(wrong, [](auto& s) { return s.errors >= 1; });
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CAF_CHECK(contains(st.last_error, "401"));
  CAF_CHECK(contains(st.last_error, "unauthorized (the server refused"));
  CAF_CHECK_EQUAL(srv.last_authorization(), "Bearer wrong");
  auto none = spawn(options(srv.endpoint()));
  st = wait_status(none, [](auto& s) { return s.errors >= 1; });
  CAF_CHECK(contains(st.last_error, "unauthorized (the server wants a token"));
  CAF_CHECK_EQUAL(st.proposals, 0u);
  CAF_CHECK_EQUAL(current()->version, 1u);
}

CAF_TEST(a source without a server is degraded until one appears) {
  auto port = free_port();
  CAF_REQUIRE_GREATER(port, 0);
  auto endpoint = "http://127.0.0.1:" + std::to_string(port);
  auto src = spawn(options(endpoint));
  auto st = wait_status(src, [](auto& s) { return s.errors >= 2; });
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CAF_CHECK(contains(st.last_error, "GET " + endpoint + "/config"));
  CAF_CHECK(contains(st.last_error, "connection refused"));
  CAF_CHECK_EQUAL(current()->version, 1u);
  config_server srv{{}, port};
  srv.serve(json{{"sample_rate", 0.5}}, "\"v1\"");
  st = wait_status(src, [](auto& s) { return s.committed == 1; });
  CAF_CHECK_EQUAL(st.state, source_state::ok);
  CAF_CHECK_EQUAL((*current()->effective)["sample_rate"], 0.5);
  CAF_CHECK_GREATER_OR_EQUAL(logs.events("http_source_recovered").size(), 1u);
}

CAF_TEST(reload polls at once and answers after the proposal) {
  config_server srv;
  srv.serve(json{{"buffer_size", 2048}}, "\"v1\"");
  auto opts = options(srv.endpoint());
  opts.interval = 1h; // only the first poll and reloads
  auto src = spawn(opts);
  wait_status(src, [](auto& s) { return s.committed == 1; });
  srv.serve(json{{"buffer_size", 3072}}, "\"v2\"");
  source_status st;
  self->request(src, 30s, reload_atom::value)
    .receive([&](source_status& x) { st = x; },
             [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
  CAF_CHECK_EQUAL(st.committed, 2u);
  CAF_CHECK_EQUAL(st.version, 3u);
  CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 3072);
  // Unchanged on the server: the reload reads a 304 and proposes nothing.
  self->request(src, 30s, reload_atom::value)
    .receive([&](source_status& x) { st = x; },
             [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
  CAF_CHECK_EQUAL(srv.not_modified(), 1);
  CAF_CHECK_EQUAL(st.proposals, 2u);
  CAF_CHECK_EQUAL(st.state, source_state::ok);
}

CAF_TEST(the configured interval and error backoff are the ones used) {
  // The source logs each delay it schedules (next_in_ms at debug after a
  // good poll, retry_in_ms after a failure): its schedule, observed.
  auto level = spdlog::default_logger()->level();
  spdlog::default_logger()->set_level(spdlog::level::debug);
  config_server srv;
  srv.serve(json{{"buffer_size", 2048}}, "\"v1\"");
  auto opts = options(srv.endpoint());
  opts.interval = 370ms;
  opts.error_backoff = 260ms;
  opts.max_backoff = 2000ms;
  auto src = spawn(opts);
  // The server counts a poll when it answers, the source logs it after it
  // read the answer: wait for the log lines, not only for the server.
  CAF_REQUIRE(wait_until([&] {
    return srv.not_modified() >= 2
           && logs.events("http_source_polled").size() >= 3;
  }));
  auto polled = logs.events("http_source_polled");
  CAF_REQUIRE_GREATER_OR_EQUAL(polled.size(), 3u);
  for (auto& line : polled)
    CHECK_WHY(contains(line, "next_in_ms=370"), line);
  srv.set_mode(mode::fail);
  CAF_REQUIRE(wait_until(
    [&] { return logs.events("http_source_failed").size() >= 2; }));
  spdlog::default_logger()->set_level(level);
  auto failed = logs.events("http_source_failed");
  // error_backoff × 2^n ± 20 %, not 2 × interval (740 ms).
  std::regex retry_in{"retry_in_ms=([0-9]+)"};
  for (size_t i = 0; i < 2; ++i) {
    std::smatch m;
    CAF_REQUIRE(std::regex_search(failed[i], m, retry_in));
    auto delay = std::stoll(m[1]);
    auto nominal = int64_t{260} << i;
    CHECK_WHY(delay >= nominal * 8 / 10 && delay <= nominal * 12 / 10,
              "failure " << i << ": retry_in_ms=" << delay << ", nominal "
                         << nominal);
  }
  CAF_CHECK(options_error(opts).empty());
  opts.interval = 0ms;
  CHECK_WHY(contains(options_error(opts), "interval must be positive, got 0"),
            options_error(opts));
  // Refused by the source itself too, by name.
  auto bad = spawn(opts);
  auto st = wait_status(bad, [](auto& s) { return s.errors >= 1; });
  CHECK_WHY(contains(st.last_error, "interval must be positive"),
            st.last_error);
}

CAF_TEST(https verifies the server certificate and bad endpoints are named) {
  auto dir = std::filesystem::temp_directory_path()
             / ("cfgactors-https-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  write_self_signed(dir);
  httplib::SSLServer tls{(dir / "cert.pem").c_str(),
                         (dir / "key.pem").c_str()};
  CAF_REQUIRE(tls.is_valid());
  tls.Get("/config", [](const httplib::Request&, httplib::Response& res) {
    res.set_content(R"({"buffer_size": 2048})", "application/json");
  });
  auto port = tls.bind_to_any_port("127.0.0.1");
  std::thread runner{[&] { tls.listen_after_bind(); }};
  auto src = spawn(options("https://127.0.0.1:" + std::to_string(port)));
  auto st = wait_status(src, [](auto& s) { return s.errors >= 1; });
  CAF_CHECK_EQUAL(st.state, source_state::degraded);
  CHECK_WHY(contains(st.last_error, "certificate verify failed"),
                    st.last_error);
  CAF_CHECK_EQUAL(current()->version, 1u);
  tls.stop();
  runner.join();
  std::filesystem::remove_all(dir);
  auto bad = spawn(options("ftp://127.0.0.1:21"));
  st = wait_status(bad, [](auto& s) { return s.errors >= 1; });
  CAF_CHECK(contains(st.last_error, "ftp://127.0.0.1:21"));
  CAF_CHECK(contains(st.last_error, "scheme must be http or https"));
  auto broken = spawn(options("http://127.0.0.1:1", "abc\r\nX-Evil: 1"));
  st = wait_status(broken, [](auto& s) { return s.errors >= 1; });
  CAF_CHECK(contains(st.last_error, "contains a line break"));
  CAF_CHECK(!contains(st.last_error, "X-Evil"));
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace http_source_suite

#define CAF_SUITE remote_tls
// TLS of the remote sources against real TLS servers (cpp-httplib over
// OpenSSL) on 127.0.0.1: the CA file, the server's name, mutual TLS, the
// errors of each, and await_first_poll. The certificates come from the
// openssl CLI at test time (tests/process/make_test_certs.sh).
#include "remote_fixture.hpp"

#include <unistd.h>

#include <atomic>
#include <cstdlib>
#include <filesystem>
#include <thread>

#include <httplib.h>

#include "cfgactors/errc.hpp"
#include "cfgactors/http_source.hpp"
#include "cfgactors/node.hpp"
#include "cfgactors/node_options.hpp"

#include "sources/http_client.hpp"
#include "sources/tls.hpp"
#include "sources/url.hpp"

namespace remote_tls_suite {

using namespace cfgactors;
using namespace cfgactors::test;
using namespace std::chrono_literals;

#define REQUIRE_WHY(cond, msg)                                                 \
  if (!(cond))                                                                 \
  CAF_FAIL(msg)

namespace {

namespace fs = std::filesystem;

/// A throwaway PKI in a fresh directory, removed afterwards.
struct pki {
  fs::path dir;

  pki() {
    static std::atomic<int> n{0};
    dir = fs::temp_directory_path()
          / ("cfgactors-pki-" + std::to_string(::getpid()) + "-"
             + std::to_string(n++));
    fs::create_directories(dir);
    auto script = std::string{CFGACTORS_SOURCE_DIR}
                  + "/tests/process/make_test_certs.sh";
    auto cmd = "sh '" + script + "' '" + dir.string() + "' > '"
               + file("make.log") + "' 2>&1";
    if (std::system(cmd.c_str()) != 0)
      CAF_FAIL("openssl failed; see " << file("make.log"));
  }

  ~pki() {
    std::error_code ignored;
    fs::remove_all(dir, ignored);
  }

  std::string file(const std::string& name) const {
    return (dir / name).string();
  }
};

/// `GET /config` over TLS with the certificate `name` of `certs`; with
/// `client_ca`, it demands a client certificate signed by it.
class tls_server {
public:
  tls_server(const pki& certs, const std::string& name, int status = 200,
             const char* client_ca = nullptr)
    : srv_(certs.file(name + ".crt").c_str(),
           certs.file(name + ".key").c_str(),
           client_ca ? certs.file(client_ca).c_str() : nullptr) {
    if (!srv_.is_valid())
      CAF_FAIL("the TLS server cannot load " << name);
    srv_.Get("/config", [status](const httplib::Request&,
                                 httplib::Response& res) {
      res.status = status;
      res.set_content(status == 200 ? R"({"buffer_size": 4096})"
                                    : R"({"error": "no"})",
                      "application/json");
    });
    port_ = srv_.bind_to_any_port("127.0.0.1");
    thread_ = std::thread{[this] { srv_.listen_after_bind(); }};
  }

  ~tls_server() {
    srv_.stop();
    thread_.join();
  }

  std::string url(const std::string& host = "127.0.0.1") const {
    return "https://" + host + ":" + std::to_string(port_);
  }

private:
  httplib::SSLServer srv_;
  int port_ = -1;
  std::thread thread_;
};

/// One GET with `files`; the reply or the error (and whether for good).
struct outcome {
  std::optional<detail::http_reply> reply;
  std::string error;
  bool for_good = false;
};

outcome get(const std::string& endpoint, detail::tls_files files) {
  outcome out;
  auto u = detail::parse_url(endpoint, out.error);
  if (!u)
    CAF_FAIL(out.error);
  detail::http_client client{detail::http_limits{2s, 2s, 4096},
                             std::move(files)};
  out.reply = client.get(*u, "/config", {}, out.error);
  out.for_good = client.failed_for_good();
  return out;
}

} // namespace

CAF_TEST(tls files that cannot be used are named with the reason) {
  pki certs;
  std::string err;
  auto missing = certs.file("absent.pem");
  auto garbage = certs.file("garbage.pem");
  // The same three fields, each with a missing file, then a file that is
  // not PEM: every error names the field's file.
  using F = detail::tls_files;
  struct row {
    F files;
    std::string expect;
  };
  for (auto& [files, expect] : std::vector<row>{
         {F{missing, {}, {}}, "cannot read the CA file '" + missing
                                + "': No such file or directory"},
         {F{garbage, {}, {}}, "cannot load the CA file '" + garbage + "'"},
         {F{certs.file("ca.crt"), missing, {}},
          "cannot read the client certificate '" + missing + "'"},
         {F{certs.file("ca.crt"), garbage, {}},
          "cannot load the client certificate '" + garbage + "'"},
         {F{certs.file("ca.crt"), certs.file("client.crt"), missing},
          "cannot read the client key '" + missing + "'"},
         {F{certs.file("ca.crt"), certs.file("client.crt"), garbage},
          "cannot load the client key '" + garbage + "'"},
         {F{certs.file("ca.crt"), certs.file("client.crt"),
            certs.file("server.key")},
          "cannot load the client key '" + certs.file("server.key") + "'"},
         {F{{}, {}, certs.file("client.key")}, "needs its client certificate"},
       }) {
    err.clear();
    CHECK_WHY(!detail::make_tls_context(files, err), expect << " accepted");
    CHECK_WHY(contains(err, expect), "expected '" << expect << "' in: " << err);
  }
  err.clear();
  CHECK_WHY(detail::make_tls_context(F{certs.file("ca.crt"),
                                       certs.file("client.crt"),
                                       certs.file("client.key")},
                                     err),
            err);
}

CAF_TEST(https verifies the server against the ca file and its name) {
  pki certs;
  detail::tls_files ca{certs.file("ca.crt"), {}, {}};
  {
    tls_server srv{certs, "server"};
    // By address (an IP SAN) and by name (a DNS SAN, sent as SNI).
    for (auto host : {"127.0.0.1", "localhost"}) {
      auto got = get(srv.url(host), ca);
      REQUIRE_WHY(got.reply, host << ": " << got.error);
      CAF_CHECK_EQUAL(got.reply->status, 200u);
      CAF_CHECK_EQUAL(got.reply->body, R"({"buffer_size": 4096})");
    }
    // The system's CAs do not know this one.
    auto got = get(srv.url(), {});
    CAF_CHECK(!got.reply);
    CHECK_WHY(contains(got.error, "certificate verify failed"), got.error);
    CAF_CHECK(got.for_good);
  }
  {
    // The same certificate signed by another CA of the same name.
    tls_server srv{certs, "server-other"};
    auto got = get(srv.url("localhost"), ca);
    CAF_CHECK(!got.reply);
    CHECK_WHY(contains(got.error, "TLS handshake failed: certificate verify "
                                  "failed (unable to get local issuer "
                                  "certificate)"),
              got.error);
    CAF_CHECK(got.for_good);
  }
  {
    // Signed by the right CA, for another name.
    tls_server srv{certs, "wrong-name"};
    for (auto host : {"127.0.0.1", "localhost"}) {
      auto got = get(srv.url(host), ca);
      CAF_CHECK(!got.reply);
      CHECK_WHY(contains(got.error, host == std::string{"localhost"}
                                      ? "(hostname mismatch)"
                                      : "(IP address mismatch)"),
                got.error);
      CAF_CHECK(got.for_good);
    }
  }
}

CAF_TEST(mutual tls presents the client certificate) {
  pki certs;
  tls_server srv{certs, "server", 200, "ca.crt"};
  auto ca = certs.file("ca.crt");
  auto got = get(srv.url(), {ca, {}, {}});
  CAF_CHECK(!got.reply);
  CHECK_WHY(contains(got.error, "the server requires a client certificate "
                                "and none is set"),
            got.error);
  CAF_CHECK(got.for_good);
  got = get(srv.url(), {ca, certs.file("other-client.crt"),
                        certs.file("other-client.key")});
  CAF_CHECK(!got.reply);
  CHECK_WHY(contains(got.error, "the server refused the client certificate"),
            got.error);
  CAF_CHECK(got.for_good);
  got = get(srv.url(), {ca, certs.file("client.crt"),
                        certs.file("client.key")});
  REQUIRE_WHY(got.reply, got.error);
  CAF_CHECK_EQUAL(got.reply->status, 200u);
}

CAF_TEST_FIXTURE_SCOPE(remote_tls_tests, remote_fixture)

CAF_TEST(await_first_poll waits for success and gives up for good or late) {
  pki certs;
  auto spawn = [&](const std::string& endpoint) {
    http_source_options opts;
    opts.endpoint = endpoint;
    opts.interval = 50ms;
    opts.ca_file = certs.file("ca.crt");
    auto src = spawn_http_source(sys, pipe.validator, opts);
    sources.push_back(src);
    return src;
  };
  {
    tls_server srv{certs, "server"};
    auto err = await_first_poll(sys, spawn(srv.url("localhost")), 10s);
    CHECK_WHY(!err, sys.render(err));
    CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 4096);
  }
  // Answers that differ only in their status: 403 and 404 end the wait at
  // once, 500 is retried until the deadline.
  for (auto code : {403, 404, 500}) {
    tls_server srv{certs, "server", code};
    auto start = std::chrono::steady_clock::now();
    auto err = await_first_poll(sys, spawn(srv.url("localhost")), 1500ms);
    auto took = std::chrono::steady_clock::now() - start;
    CAF_REQUIRE(err);
    auto text = sys.render(err);
    CHECK_WHY(contains(text, "answered " + std::to_string(code)), text);
    if (code == 500) {
      CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(errc::timeout));
      CHECK_WHY(contains(text, "no answer from the remote within 1500 ms"),
                text);
      CAF_CHECK(took >= 1500ms);
    } else {
      CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(errc::unavailable));
      CAF_CHECK(took < 1500ms);
    }
  }
  // A refused certificate is for good too.
  tls_server other{certs, "server-other"};
  auto err = await_first_poll(sys, spawn(other.url("localhost")), 5s);
  CAF_REQUIRE(err);
  CHECK_WHY(contains(sys.render(err), "certificate verify failed"),
            sys.render(err));
  CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(errc::unavailable));
}

CAF_TEST(node options refuse intervals that are not positive) {
  // Options that differ only in one value: each zero or negative value is
  // refused by name, before any source starts.
  struct row {
    node_options opts;
    std::string expect;
  };
  auto base = [] {
    node_options n;
    n.remote("http://127.0.0.1:1").ws("ws://127.0.0.1:1");
    return n;
  };
  std::vector<row> rows;
  rows.push_back({base().remote_poll(0ms), "interval must be positive, got 0"});
  rows.push_back({base().remote_poll(-5ms),
                  "interval must be positive, got -5"});
  rows.push_back({base().remote_backoff(0ms, 1000ms),
                  "error_backoff must be positive, got 0"});
  rows.push_back({base().remote_backoff(500ms, 0ms),
                  "max_backoff must be positive, got 0"});
  rows.push_back({base().ws_heartbeat(0ms),
                  "heartbeat must be positive, got 0"});
  rows.push_back({base().ws_backoff(0ms, 1000ms),
                  "min_backoff must be positive, got 0"});
  rows.push_back({base().ws_service("svc", ""),
                  "service_version must not be empty"});
  rows.push_back({base().remote_required(0ms),
                  "remote_required: the timeout must be positive, got 0"});
  for (auto& [opts, expect] : rows) {
    auto n = node::primary(sys, opts);
    REQUIRE_WHY(!n, expect << ": the node started");
    auto text = sys.render(n.error());
    CHECK_WHY(contains(text, expect), "expected '" << expect << "' in: "
                                                   << text);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace remote_tls_suite

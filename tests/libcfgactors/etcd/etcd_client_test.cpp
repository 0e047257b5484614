#define CAF_SUITE etcd_client
// The etcd client and watch against a real etcd (/usr/bin/etcd, 3.4): plain,
// over TLS with client certificates, and with etcd auth.
#include "etcd/etcd_server.hpp"

#include <condition_variable>
#include <memory>
#include <mutex>

#include "etcd/etcd_client.hpp"
#include "etcd/etcd_connection.hpp"
#include "etcd/etcd_watch.hpp"

namespace etcd_client_suite {

using namespace cfgactors;
using namespace cfgactors::detail;
using namespace cfgactors::test;
using namespace std::chrono_literals;
using nlohmann::json;

// Says why when it fails, also without -v.
// Evaluates `cond` once: it may be a call that changes the store.
#define CHECK_WHY(cond, msg)                                                   \
  do {                                                                         \
    auto ok_ = static_cast<bool>(cond);                                        \
    if (!ok_)                                                                  \
      CAF_TEST_PRINT_ERROR(msg);                                               \
    static_cast<void>(::caf::test::detail::check(                              \
      ::caf::test::engine::current_test(), __FILE__, __LINE__, #cond, false,   \
      ok_));                                                                   \
    ::caf::test::engine::last_check_file(__FILE__);                            \
    ::caf::test::engine::last_check_line(__LINE__);                            \
  } while (false)

namespace {

/// The plain etcd most tests share: started on first use, killed at exit.
etcd_server& shared_etcd() {
  struct instance {
    shm_dir dir{"etcd"};
    etcd_server server{dir};
  };
  static instance x;
  return x.server;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

std::string closed_endpoint() {
  return "http://127.0.0.1:" + std::to_string(free_port());
}

/// What a watch delivered, for the test thread to wait on.
struct watch_log {
  std::mutex mx;
  std::condition_variable cv;
  std::vector<etcd_watch_event> events;
  bool ended = false;
  etcd_error end_error;
  int64_t compact_revision = 0;

  etcd_watch::batch_handler on_batch() {
    return [this](etcd_watch_batch batch) {
      std::lock_guard<std::mutex> guard{mx};
      for (auto& ev : batch.events)
        events.push_back(ev);
      cv.notify_all();
    };
  }

  etcd_watch::end_handler on_end() {
    return [this](etcd_error err, int64_t compact) {
      std::lock_guard<std::mutex> guard{mx};
      ended = true;
      end_error = std::move(err);
      compact_revision = compact;
      cv.notify_all();
    };
  }

  template <class Pred>
  bool await(Pred pred) {
    std::unique_lock<std::mutex> guard{mx};
    return cv.wait_for(guard, 10s, [&] { return pred(*this); });
  }
};

} // namespace

CAF_TEST(base64 round trips every length and refuses all but the one encoding) {
  CAF_CHECK_EQUAL(base64_encode(""), "");
  CAF_CHECK_EQUAL(base64_encode("f"), "Zg==");
  CAF_CHECK_EQUAL(base64_encode("fo"), "Zm8=");
  CAF_CHECK_EQUAL(base64_encode("foo"), "Zm9v");
  CAF_CHECK_EQUAL(base64_encode(std::string("\xff\xfe\x00", 3)), "//4A");
  std::string raw;
  for (int i = 0; i < 260; ++i) {
    CAF_CHECK_EQUAL(base64_decode(base64_encode(raw)), raw);
    raw += static_cast<char>(i * 37);
  }
  for (auto bad : {"Zg=", "Zg", "Zh==", "Zm9=", "Z!==", "Zg==Zg==", "====",
                   "Zm9v\n", " Zm9v", "Zm-v", "Zm_v", "Z===", "Zm8=Zm8="})
    CHECK_WHY(!base64_decode(bad), "decoded '" << bad << "'");
  CAF_CHECK_EQUAL(base64_decode(""), std::string{});
}

CAF_TEST(prefix_end bumps the last byte below 0xff) {
  CAF_CHECK_EQUAL(prefix_end("a"), "b");
  CAF_CHECK_EQUAL(prefix_end("app/"), "app0");
  CAF_CHECK_EQUAL(prefix_end("a\xff"), "b");
  CAF_CHECK_EQUAL(prefix_end("a\x01\xff\xff"), "a\x02");
  CAF_CHECK_EQUAL(prefix_end("\xff\xff"), std::string(1, '\0'));
  CAF_CHECK_EQUAL(prefix_end(""), std::string(1, '\0'));
}

CAF_TEST(kv_of reads the gateway int64 strings and omitted zeros) {
  auto kv = kv_of(json::parse(R"({"key":"YQ==","value":"MQ==",
    "create_revision":"2","mod_revision":"7","version":"3"})"));
  CAF_CHECK_EQUAL(kv.key, "a");
  CAF_CHECK_EQUAL(kv.value, "1");
  CAF_CHECK_EQUAL(kv.create_revision, 2);
  CAF_CHECK_EQUAL(kv.mod_revision, 7);
  CAF_CHECK_EQUAL(kv.version, 3);
  CAF_CHECK_EQUAL(kv.lease, 0);
}

CAF_TEST(gateway errors are classified by their gRPC code and status) {
  auto e = answer_error("E", 400,
                        R"({"error":"etcdserver: mvcc: required revision is a)"
                        R"( future revision","message":"etcdserver: mvcc: )"
                        R"(required revision is a future revision","code":11})");
  CAF_CHECK(e.what == etcd_error::kind::refused);
  CAF_CHECK_EQUAL(e.code, 11);
  CHECK_WHY(contains(e.message, "E: ") && contains(e.message, "future"),
            e.message);
  e = answer_error("E", 503, R"({"error":"etcdserver: no leader","code":14})");
  CAF_CHECK(e.what == etcd_error::kind::unavailable);
  e = answer_error("E", 500, R"({"message":"etcdserver: request timed out",)"
                             R"("error":"x","code":2})");
  CAF_CHECK(e.what == etcd_error::kind::unavailable);
  e = answer_error("E", 200, R"({"error":{"grpc_code":7,"http_code":403,)"
                             R"("message":"etcdserver: permission denied"}})");
  CAF_CHECK(e.what == etcd_error::kind::refused);
  CAF_CHECK_EQUAL(e.code, 7);
  e = answer_error("E", 502, "Bad Gateway");
  CAF_CHECK(e.what == etcd_error::kind::unavailable);
  e = answer_error("E", 401, R"({"error":"etcdserver: invalid auth token",)"
                             R"("message":"etcdserver: invalid auth token",)"
                             R"("code":16})");
  CAF_CHECK(e.what == etcd_error::kind::refused);
  CAF_CHECK(is_token_error(e));
}

CAF_TEST(put and range read back values and revisions) {
  etcd_client client{shared_etcd().options()};
  etcd_error err;
  auto r1 = client.put("t1/a", "1", 0, err);
  CAF_REQUIRE(r1);
  auto r2 = client.put("t1/b", std::string("\0\xff", 2), 0, err);
  CAF_REQUIRE(r2);
  CAF_CHECK_EQUAL(*r2, *r1 + 1);
  client.put("t10", "outside the prefix", 0, err);
  auto all = client.range("t1/", prefix_end("t1/"), err);
  CHECK_WHY(all, err.message);
  CAF_REQUIRE(all);
  CAF_REQUIRE_EQUAL(all->kvs.size(), 2u);
  CAF_CHECK_EQUAL(all->kvs[0].key, "t1/a");
  CAF_CHECK_EQUAL(all->kvs[0].value, "1");
  CAF_CHECK_EQUAL(all->kvs[0].mod_revision, *r1);
  CAF_CHECK_EQUAL(all->kvs[0].create_revision, *r1);
  CAF_CHECK_EQUAL(all->kvs[0].version, 1);
  CAF_CHECK_EQUAL(all->kvs[1].value, std::string("\0\xff", 2));
  CAF_CHECK_EQUAL(all->count, 2);
  CAF_CHECK(!all->more);
  CAF_CHECK(all->revision >= *r2);
  auto first = client.range("t1/", prefix_end("t1/"), err, 1, 0, true);
  CAF_REQUIRE(first);
  CAF_REQUIRE_EQUAL(first->kvs.size(), 1u);
  CAF_CHECK(first->more);
  CAF_CHECK_EQUAL(first->kvs[0].value, "");
  auto old = client.range("t1/b", {}, err, 0, *r1);
  CAF_REQUIRE(old);
  CAF_CHECK(old->kvs.empty());
  auto missing = client.range("t1/none", {}, err);
  CAF_REQUIRE(missing);
  CAF_CHECK(missing->kvs.empty());
  CAF_CHECK_EQUAL(missing->count, 0);
  // A definite no: a revision from the future.
  CAF_CHECK(!client.range("t1/a", {}, err, 0, all->revision + 1000));
  CAF_CHECK(err.what == etcd_error::kind::refused);
  CAF_CHECK_EQUAL(err.code, 11);
}

CAF_TEST(an answer beyond max_body is refused before it is read) {
  etcd_client client{shared_etcd().options()};
  etcd_error err;
  CAF_REQUIRE(client.put("t9/big", std::string(1000, 'x'), 0, err));
  auto opts = shared_etcd().options();
  opts.max_body = 500;
  etcd_client small{opts};
  CAF_CHECK(small.range("t9/none", {}, err));
  CAF_CHECK(!small.range("t9/big", {}, err));
  CAF_CHECK(err.what == etcd_error::kind::unavailable);
  CHECK_WHY(contains(err.message, "max_body"), err.message);
  watch_log log;
  etcd_watch watch{opts, "t9/big", {}, 1, log.on_batch(), log.on_end()};
  CAF_REQUIRE(log.await([](auto& l) { return l.ended; }));
  CHECK_WHY(contains(log.end_error.message, "max_body"),
            log.end_error.message);
}

CAF_TEST(txn runs the success ops if the compares hold and the failure ops if not) {
  etcd_client client{shared_etcd().options()};
  etcd_error err;
  auto rev = client.put("t2/k", "v1", 0, err);
  CAF_REQUIRE(rev);
  auto ok = client.txn(json::array({compare_value("t2/k", "v1"),
                                    compare_mod("t2/k", *rev),
                                    compare_created("t2/absent", 0)}),
                       json::array({op_put("t2/k", "v2"), op_range("t2/k")}),
                       json::array({op_delete("t2/k")}), err);
  CHECK_WHY(ok, err.message);
  CAF_REQUIRE(ok);
  CAF_CHECK(ok->succeeded);
  CAF_CHECK_EQUAL(ok->revision, *rev + 1);
  CAF_REQUIRE_EQUAL(ok->responses.size(), 2u);
  auto& kvs = ok->responses[1]["response_range"]["kvs"];
  CAF_REQUIRE_EQUAL(kvs.size(), 1u);
  CAF_CHECK_EQUAL(kv_of(kvs[0]).value, "v2");
  // The same compares again: the value is v2 now.
  auto no = client.txn(json::array({compare_value("t2/k", "v1")}),
                       json::array({op_delete("t2/k")}),
                       json::array({op_range("t2/", prefix_end("t2/"))}), err);
  CAF_REQUIRE(no);
  CAF_CHECK(!no->succeeded);
  CAF_CHECK_EQUAL(no->revision, *rev + 1);
  CAF_REQUIRE_EQUAL(no->responses.size(), 1u);
  auto& got = no->responses[0]["response_range"]["kvs"];
  CAF_REQUIRE_EQUAL(got.size(), 1u);
  CAF_CHECK_EQUAL(kv_of(got[0]).key, "t2/k");
  CAF_CHECK_EQUAL(kv_of(got[0]).value, "v2");
  auto absent = client.txn(json::array({compare_created("t2/k", 0)}),
                           json::array(), json::array(), err);
  CAF_REQUIRE(absent);
  CAF_CHECK(!absent->succeeded);
  auto deleted = client.txn(json::array({compare_mod("t2/k", *rev + 1)}),
                            json::array({op_delete("t2/", prefix_end("t2/"))}),
                            json::array(), err);
  CAF_REQUIRE(deleted);
  CAF_CHECK(deleted->succeeded);
  auto left = client.range("t2/k", {}, err);
  CAF_REQUIRE(left);
  CAF_CHECK(left->kvs.empty());
}

CAF_TEST(a lease keeps its keys alive until revoked) {
  etcd_client client{shared_etcd().options()};
  etcd_error err;
  auto id = client.lease_grant(30, err);
  CHECK_WHY(id, err.message);
  CAF_REQUIRE(id);
  CAF_CHECK(*id != 0);
  CAF_REQUIRE(client.put("t3/leased", "x", *id, err));
  auto ttl = client.lease_keepalive(*id, err);
  CHECK_WHY(ttl, err.message);
  CAF_REQUIRE(ttl);
  CAF_CHECK(*ttl > 0 && *ttl <= 30);
  // The keep-alive answer leaves the connection usable.
  auto got = client.range("t3/leased", {}, err);
  CAF_REQUIRE(got);
  CAF_REQUIRE_EQUAL(got->kvs.size(), 1u);
  CAF_CHECK_EQUAL(got->kvs[0].lease, *id);
  CHECK_WHY(client.lease_revoke(*id, err), err.message);
  auto gone = client.lease_keepalive(*id, err);
  CAF_REQUIRE(gone);
  CAF_CHECK(*gone <= 0);
  got = client.range("t3/leased", {}, err);
  CAF_REQUIRE(got);
  CAF_CHECK(got->kvs.empty());
  CAF_CHECK(!client.lease_revoke(*id, err));
  CAF_CHECK(err.what == etcd_error::kind::refused);
}

CAF_TEST(a watch from a revision sees earlier and later changes in order) {
  etcd_client client{shared_etcd().options()};
  etcd_error err;
  auto r1 = client.put("t4/a", "1", 0, err);
  CAF_REQUIRE(r1);
  CAF_REQUIRE(client.put("t4/a", "2", 0, err));
  watch_log log;
  etcd_watch watch{shared_etcd().options(), "t4/", prefix_end("t4/"), *r1,
                   log.on_batch(), log.on_end()};
  CAF_CHECK(log.await([](auto& l) { return l.events.size() >= 2; }));
  CAF_REQUIRE(client.put("t4/b", "3", 0, err));
  CAF_REQUIRE(client.put("t5", "outside", 0, err));
  auto del = client.txn(json::array(), json::array({op_delete("t4/a")}),
                        json::array(), err);
  CAF_REQUIRE(del);
  CAF_CHECK(log.await([](auto& l) { return l.events.size() >= 4; }));
  watch.stop();
  std::lock_guard<std::mutex> guard{log.mx};
  CAF_REQUIRE_EQUAL(log.events.size(), 4u);
  using type = etcd_watch_event::type;
  std::vector<std::string> values;
  for (auto& ev : log.events)
    values.push_back(ev.kv.key + "=" + ev.kv.value
                     + (ev.what == type::del ? " deleted" : ""));
  CAF_CHECK_EQUAL(values, (std::vector<std::string>{
                            "t4/a=1", "t4/a=2", "t4/b=3", "t4/a= deleted"}));
  CAF_CHECK_EQUAL(log.events[0].kv.mod_revision, *r1);
  CAF_CHECK_EQUAL(log.events[3].kv.mod_revision, del->revision);
  CAF_CHECK(!log.ended); // stop() is no end
}

CAF_TEST(a watch from a compacted revision ends with the compact revision) {
  etcd_client client{shared_etcd().options()};
  etcd_error err;
  auto r1 = client.put("t6/a", "1", 0, err);
  CAF_REQUIRE(r1);
  auto r2 = client.put("t6/a", "2", 0, err);
  CAF_REQUIRE(r2);
  CHECK_WHY(client.call("kv/compaction", {{"revision", std::to_string(*r2)}},
                        err),
            err.message);
  watch_log log;
  etcd_watch watch{shared_etcd().options(), "t6/a", {}, *r1, log.on_batch(),
                   log.on_end()};
  CAF_REQUIRE(log.await([](auto& l) { return l.ended; }));
  CAF_CHECK_EQUAL(log.compact_revision, *r2);
  CHECK_WHY(contains(log.end_error.message, "compacted"),
            log.end_error.message);
  CAF_CHECK(log.events.empty());
}

CAF_TEST(stop ends an idle watch at once and without on_end) {
  watch_log log;
  auto begin = std::chrono::steady_clock::now();
  {
    etcd_watch watch{shared_etcd().options(), "t7/", prefix_end("t7/"), 0,
                     log.on_batch(), log.on_end()};
    std::this_thread::sleep_for(100ms);
  }
  CAF_CHECK(std::chrono::steady_clock::now() - begin < 1s);
  CAF_CHECK(!log.ended);
}

CAF_TEST(a watch on closed ports ends as unavailable) {
  etcd_options opts;
  opts.endpoints = {closed_endpoint()};
  watch_log log;
  etcd_watch watch{opts, "x", {}, 0, log.on_batch(), log.on_end()};
  CAF_REQUIRE(log.await([](auto& l) { return l.ended; }));
  CAF_CHECK(log.end_error.what == etcd_error::kind::unavailable);
  CHECK_WHY(contains(log.end_error.message, opts.endpoints[0]),
            log.end_error.message);
}

CAF_TEST(a client fails over from a closed port to the next endpoint) {
  auto opts = shared_etcd().options();
  opts.endpoints.insert(opts.endpoints.begin(), closed_endpoint());
  etcd_client client{opts};
  etcd_error err;
  CHECK_WHY(client.put("t8/a", "1", 0, err), err.message);
  CAF_CHECK_EQUAL(client.endpoint(), shared_etcd().endpoint());
  auto got = client.range("t8/a", {}, err);
  CAF_REQUIRE(got);
  CAF_REQUIRE_EQUAL(got->kvs.size(), 1u);
  // The watch too.
  watch_log log;
  etcd_watch watch{opts, "t8/a", {}, got->kvs[0].mod_revision, log.on_batch(),
                   log.on_end()};
  CAF_CHECK(log.await([](auto& l) { return !l.events.empty(); }));
}

CAF_TEST(only closed ports is unavailable and names every endpoint) {
  etcd_options opts;
  opts.endpoints = {closed_endpoint(), closed_endpoint()};
  etcd_client client{opts};
  etcd_error err;
  CAF_CHECK(!client.range("a", {}, err));
  CAF_CHECK(err.what == etcd_error::kind::unavailable);
  for (auto& endpoint : opts.endpoints)
    CHECK_WHY(contains(err.message, endpoint + ": connect:"), err.message);
}

CAF_TEST(tls with client certificates admits only certificates of its CA) {
  shm_dir dir{"etcd-tls"};
  make_certs(dir);
  etcd_server server{dir, true};
  auto good = server.options();
  etcd_error err;
  {
    etcd_client client{good};
    CHECK_WHY(client.put("tls/a", "1", 0, err), err.message);
    auto got = client.range("tls/a", {}, err);
    CAF_REQUIRE(got);
    CAF_REQUIRE_EQUAL(got->kvs.size(), 1u);
    watch_log log;
    etcd_watch watch{good, "tls/a", {}, 1, log.on_batch(), log.on_end()};
    CAF_CHECK(log.await([](auto& l) { return !l.events.empty(); }));
  }
  auto refused = [&](etcd_options opts, const std::string& expect) {
    etcd_client client{opts};
    CAF_CHECK(!client.range("tls/a", {}, err));
    CAF_CHECK(err.what == etcd_error::kind::unavailable);
    CAF_MESSAGE(err.message);
    CHECK_WHY(contains(err.message, server.endpoint() + ": ")
                && contains(err.message, expect),
              err.message);
  };
  auto no_cert = good;
  no_cert.cert.clear();
  no_cert.key.clear();
  refused(no_cert, "TLS");
  auto other = good;
  other.cert = dir.file("other-client.crt");
  other.key = dir.file("other-client.key");
  refused(other, "TLS");
  // The client checks the server as well.
  auto other_ca = good;
  other_ca.cacert = dir.file("other-ca.crt");
  refused(other_ca, "certificate verify failed");
  auto wrong_name = good;
  wrong_name.endpoints = {"https://localhost:"
                          + server.endpoint().substr(
                            server.endpoint().rfind(':') + 1)};
  etcd_client client{wrong_name};
  CAF_CHECK(!client.range("tls/a", {}, err));
  CAF_MESSAGE(err.message);
  CHECK_WHY(contains(err.message, "hostname mismatch"), err.message);
}

CAF_TEST(etcd auth admits the right password and refuses a wrong one) {
  shm_dir dir{"etcd-auth"};
  // Tokens live one second, so the second call below needs a fresh one.
  etcd_server server{dir, false, {"--auth-token", "simple",
                                  "--auth-token-ttl", "1"}};
  etcd_client admin{server.options()};
  etcd_error err;
  CAF_REQUIRE(admin.call("auth/user/add",
                         {{"name", "root"}, {"password", "secret1"}}, err));
  CAF_REQUIRE(admin.call("auth/user/grant", {{"user", "root"}, {"role", "root"}},
                         err));
  CAF_REQUIRE(admin.call("auth/enable", json::object(), err));
  CAF_CHECK(!admin.put("auth/a", "1", 0, err));
  CAF_CHECK(err.what == etcd_error::kind::refused);
  auto right = server.options();
  right.user = "root";
  right.password = "secret1";
  etcd_client client{right};
  auto rev = client.put("auth/a", "1", 0, err);
  CHECK_WHY(rev, err.message);
  CAF_REQUIRE(rev);
  watch_log log;
  etcd_watch watch{right, "auth/a", {}, *rev, log.on_batch(), log.on_end()};
  CAF_CHECK(log.await([](auto& l) { return !l.events.empty(); }));
  std::this_thread::sleep_for(2500ms); // the token expires
  CHECK_WHY(client.range("auth/a", {}, err), err.message);
  auto wrong = right;
  wrong.password = "secret2";
  etcd_client stranger{wrong};
  CAF_CHECK(!stranger.range("auth/a", {}, err));
  CAF_CHECK(err.what == etcd_error::kind::refused);
  CHECK_WHY(contains(err.message, server.endpoint() + ": authenticate"),
            err.message);
  watch_log refused_log;
  etcd_watch refused_watch{wrong, "auth/a", {}, 0, refused_log.on_batch(),
                           refused_log.on_end()};
  CAF_REQUIRE(refused_log.await([](auto& l) { return l.ended; }));
  CAF_MESSAGE(refused_log.end_error.message);
  CAF_CHECK(refused_log.end_error.what == etcd_error::kind::refused);
}

} // namespace etcd_client_suite

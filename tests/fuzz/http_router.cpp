// Fuzzes cfgd's HTTP API without sockets. Input: raw HTTP/1.1 bytes, one or
// more requests (keep-alive). Each goes the way a cfgd session takes it
// (apps/cfgd/http/server.cpp): Beast's request_parser with the server's
// limits, the router's verdict on the headers (Host guard, tokens), the body,
// then dispatch to the real handlers of cfgd's read, write and metrics routes
// over one in-process primary node with the example config and schema, built
// once. Handlers answer on actor threads; the harness waits (bounded).
#include <algorithm>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <cstdint>
#include <fstream>
#include <memory>
#include <mutex>
#include <optional>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

#include <boost/asio/buffer.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/http/field.hpp>
#include <boost/beast/http/parser.hpp>
#include <boost/beast/websocket/rfc6455.hpp>

#include <caf/actor_system.hpp>
#include <caf/scoped_actor.hpp>

#include <spdlog/spdlog.h>

#include "cfgactors/atoms.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/node.hpp"
#include "cfgactors/node_options.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/snapshot.hpp"
#include "cfgactors/system_config.hpp"

#include "api/auth.hpp"
#include "api/context.hpp"
#include "api/host_guard.hpp"
#include "api/metrics.hpp"
#include "api/reads.hpp"
#include "api/writes.hpp"
#include "http/server.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors;
namespace bhttp = boost::beast::http;

namespace {

// Tokens the harness configures; seeds carry them, so that the fuzzer
// reaches the handlers behind the gates.
constexpr std::string_view write_token = "fuzz-write-token";
constexpr std::string_view read_token = "fuzz-read-token";

// What the server answers is bounded by its limits, what we wait for by
// this: far above the context's actor timeout (then 503) for a loaded CI
// machine, below libFuzzer's -timeout=10.
constexpr auto answer_bound = std::chrono::seconds{8};

json read_document(const char* path) {
  std::ifstream in{path, std::ios::binary};
  std::stringstream text;
  text << in.rdbuf();
  auto format = format_for_path(path);
  auto doc = parse_document(text.str(), format.value_or(document_format::json),
                            path);
  if (!doc) {
    std::fprintf(stderr, "http_router: %s\n", doc.error->str().c_str());
    std::abort();
  }
  return std::move(doc.value);
}

/// The primary node and cfgd's routes over it, as cfgd's main.cpp wires
/// them (no WebSocket hub: /ws is not routed, /metrics counts no clients).
struct harness {
  harness() {
    // Refused writes log warnings: at thousands of runs per second the log
    // would cost more than the requests.
    spdlog::set_level(spdlog::level::off);
    std::string error;
    auto schema = json_schema::compile(read_document(CFGACTORS_FUZZ_SCHEMA),
                                       &error);
    if (!schema) {
      std::fprintf(stderr, "http_router: schema: %s\n", error.c_str());
      std::abort();
    }
    node_options opts;
    // The sharing scheduler wakes a worker for each message from outside;
    // work stealing's idle workers poll and back off, and the harness waits
    // for nearly every answer: about half the runs per second (measured).
    opts.node_name("fuzz").history(64).scheduler("sharing").threads(2);
    opts.schema(schema).defaults(read_document(CFGACTORS_FUZZ_CONFIG),
                                 "defaults:embedded");
    opts.configure(cfg);
    sys = std::make_unique<caf::actor_system>(cfg);
    auto started = node::primary(*sys, std::move(opts));
    if (!started) {
      std::fprintf(stderr, "http_router: %s\n",
                   sys->render(started.error()).c_str());
      std::abort();
    }
    primary = std::make_unique<node>(std::move(*started));
    // A bare write token and a bare read token, as cfgd's two token files
    // give them (reads then need a token).
    auto auth = std::make_shared<const cfgd::authorizer>(
      std::vector<cfgd::token_entry>{
        {{}, cfgd::scope_read | cfgd::scope_write,
         cfgactors::sha256_hex(write_token)},
        {{}, cfgd::scope_read, cfgactors::sha256_hex(read_token)}},
      true);
    ctx = std::make_shared<const cfgd::api_context>(
      *primary, *sys, auth, std::chrono::milliseconds{5000}, 100, 60000);
    auto r = std::make_shared<cfgd::http::router>();
    cfgd::add_read_routes(*r, ctx);
    cfgd::add_write_routes(*r, ctx, auth);
    cfgd::add_metrics_route(*r, ctx, auth, nullptr);
    auto hosts = std::make_shared<const cfgd::host_guard>(
      "127.0.0.1", 7070, std::vector<std::string>{},
      std::vector<std::string>{});
    r->set_gate([hosts](const cfgd::http::request& req) {
      return hosts->check(req);
    });
    routes = std::move(r);
    initial = store_version();
  }

  /// The store's version: the commit point, where the node's cell may lag.
  uint64_t store_version() {
    caf::scoped_actor self{*sys};
    uint64_t version = 0;
    self->request(primary->store(), std::chrono::seconds{5}, get_atom::value)
      .receive([&](const snapshot_ptr& snap) { version = snap->version; },
               [&](const caf::error& err) {
                 FUZZ_CHECK(false, "store: " + sys->render(err));
               });
    return version;
  }

  /// Back to the initial content after an input that changed it, so that
  /// each input starts from the same config (versions go on counting).
  void reset() {
    write_request req{{operation::reset("")}, "fuzz", 0, {}};
    auto result = primary->write(std::move(req));
    FUZZ_CHECK(result.result.ok(), to_string(result.result.code));
  }

  system_config cfg;
  std::unique_ptr<caf::actor_system> sys;
  std::unique_ptr<node> primary;
  cfgd::api_context_ptr ctx;
  std::shared_ptr<const cfgd::http::router> routes;
  uint64_t initial = 0;
};

// Never destroyed: the process ends with it. Destroying a CAF 0.17 actor
// system from an exit handler races with its detached threads that are
// still ending (caf::logger::thread_local_aid on a logger being torn down).
harness& instance() {
  static auto* h = new harness;
  return *h;
}

/// The one answer to a request, from whatever thread gives it.
struct answer_box {
  std::mutex mtx;
  std::condition_variable cv;
  int answers = 0;
  std::optional<cfgd::http::response> res;
};

std::string_view text_of(boost::beast::string_view x) {
  return {x.data(), x.size()};
}

/// True if any Authorization header of `req` holds `token` anywhere: a
/// request without it must be refused, however it is spelled.
bool carries(const cfgd::http::request& req, std::string_view token) {
  for (auto& field : req)
    if (field.name() == bhttp::field::authorization
        && text_of(field.value()).find(token) != std::string_view::npos)
      return true;
  return false;
}

bool is_write(cfgd::http::verb method) {
  using cfgd::http::verb;
  return method == verb::put || method == verb::patch || method == verb::post
         || method == verb::delete_;
}

std::string describe(const cfgd::http::request& req,
                     const cfgd::http::response& res) {
  std::ostringstream out;
  out << req.method_string() << ' ' << req.target() << " -> "
      << res.result_int() << '\n'
      << res.body().substr(0, 2000);
  return out.str();
}

/// What every answer must be: an expected status, JSON where the route
/// promises JSON (everything but a 304 and the Prometheus page), the error
/// shape for errors, and the headers a 401 and a 405 need.
void check_answer(const cfgd::http::request& req,
                  const cfgd::http::response& res) {
  auto code = res.result_int();
  static const std::vector<unsigned> expected{200, 304, 400, 401, 403,
                                              404, 405, 409, 413, 422};
  FUZZ_CHECK(std::find(expected.begin(), expected.end(), code)
               != expected.end(),
             describe(req, res));
  auto target = text_of(req.target());
  auto path = target.substr(0, target.find('?'));
  // Without a token nothing but the probes answers 2xx or 304: reads need
  // a read (or write) token here, writes a write token.
  if (code < 400) {
    if (is_write(req.method()))
      FUZZ_CHECK(carries(req, write_token), describe(req, res));
    else if (path != "/healthz" && path != "/readyz")
      FUZZ_CHECK(carries(req, write_token) || carries(req, read_token),
                 describe(req, res));
  }
  if (code == 304) {
    FUZZ_CHECK(res.body().empty(), describe(req, res));
    return;
  }
  auto type = text_of(res[bhttp::field::content_type]);
  if (code == 200 && path == "/metrics") {
    FUZZ_CHECK(type.rfind("text/plain", 0) == 0, describe(req, res));
    return;
  }
  FUZZ_CHECK(type == "application/json", describe(req, res));
  auto body = json::parse(res.body(), nullptr, false);
  FUZZ_CHECK(!body.is_discarded(), describe(req, res));
  if (code >= 400) {
    FUZZ_CHECK(body.is_object() && body.contains("error")
                 && body["error"].is_string() && body.contains("details")
                 && body["details"].is_array(),
               describe(req, res));
    for (auto& detail : body["details"])
      FUZZ_CHECK(detail.is_string(), describe(req, res));
  }
  if (code == 401)
    FUZZ_CHECK(res.count(bhttp::field::www_authenticate) == 1,
               describe(req, res));
  if (code == 405)
    FUZZ_CHECK(res.count(bhttp::field::allow) == 1, describe(req, res));
}

/// Dispatches a whole request as the session does and waits for its
/// answer.
cfgd::http::response dispatch(harness& h, const cfgd::http::request& req) {
  auto box = std::make_shared<answer_box>();
  cfgd::http::request_context rc{req, {}, {}, {}};
  {
    cfgd::http::responder respond{[box](cfgd::http::response res) {
      std::lock_guard<std::mutex> guard{box->mtx};
      ++box->answers;
      box->res = std::move(res);
      box->cv.notify_all();
    }};
    h.routes->dispatch(rc, std::move(respond));
  }
  std::unique_lock<std::mutex> lock{box->mtx};
  // The context must outlive the handlers' use of it: a request that gets
  // no answer in time stops the run here, before `rc` goes away.
  FUZZ_CHECK(box->cv.wait_for(lock, answer_bound,
                              [&] { return box->answers > 0; }),
             std::string{text_of(req.method_string())} + " "
               + std::string{text_of(req.target())} + ": no answer");
  FUZZ_CHECK(box->answers == 1, std::to_string(box->answers));
  auto res = std::move(*box->res);
  // The responder's fallback for a handler that lost it: a bug, not an
  // answer. (Compared whole: request text shows up in error details.)
  static const auto dropped = json::array(
    {"the request was dropped without an answer"});
  auto body = json::parse(res.body(), nullptr, false);
  FUZZ_CHECK(!(res.result_int() == 500 && body.is_object()
               && body.value("details", json{}) == dropped),
             describe(req, res));
  return res;
}

/// One request from the front of `rest`, as a session reads and answers it;
/// false when the connection ends (an error answered, an incomplete
/// request the server would wait for, `Connection: close`).
bool serve_one(harness& h, std::string_view& rest) {
  cfgd::http::server_limits limits;
  bhttp::request_parser<bhttp::string_body> parser;
  parser.body_limit(limits.body_limit);
  parser.header_limit(static_cast<uint32_t>(limits.header_limit));
  // Feeds the parser until `done()`; false on a parse error (the session
  // answers 400, 413 or 431 itself) or when the input ends first (the
  // server would wait for the rest, then time out).
  auto feed = [&](auto done) {
    while (!done()) {
      if (rest.empty())
        return false;
      boost::beast::error_code ec;
      auto used = parser.put(boost::asio::buffer(rest.data(), rest.size()),
                             ec);
      rest.remove_prefix(used);
      if (ec == bhttp::error::need_more && used > 0)
        continue;
      if (ec || used == 0)
        return false;
    }
    return true;
  };
  // Headers first: the router judges them before the body is read.
  if (!feed([&] { return parser.is_header_done(); }))
    return false;
  auto& head = parser.get();
  if (!boost::beast::websocket::is_upgrade(head))
    if (auto refusal = h.routes->admit(head)) {
      check_answer(head, *refusal);
      FUZZ_CHECK(refusal->result_int() >= 400, describe(head, *refusal));
      return false; // answered and closed, the body never read
    }
  parser.eager(true);
  if (!feed([&] { return parser.is_done(); }))
    return false;
  auto req = parser.release();
  auto before = h.store_version();
  auto res = dispatch(h, req);
  check_answer(req, res);
  // Only the exact write token may change the configuration.
  if (!carries(req, write_token))
    FUZZ_CHECK(h.store_version() == before, describe(req, res));
  return req.keep_alive();
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  auto& h = instance();
  std::string_view rest{reinterpret_cast<const char*>(data), size};
  // A few requests per connection: enough for pipelining, bounded per run.
  for (int i = 0; i < 4 && !rest.empty(); ++i)
    if (!serve_one(h, rest))
      break;
  auto version = h.store_version();
  if (version != h.initial) {
    // The node's own reads (its snapshot cell) follow every version the
    // store commits, also one that changes no value.
    FUZZ_CHECK(h.primary->cell()->wait_for(version, answer_bound),
               "the node's cell holds version "
                 + std::to_string(h.primary->version()) + ", the store "
                 + std::to_string(version));
    h.reset();
  }
  h.initial = h.store_version();
  return 0;
}

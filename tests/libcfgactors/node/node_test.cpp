#define CAF_SUITE node
// The node facade on the real scheduler: real files, the real environment, a
// primary and a replica over loopback TCP in one process, settings read from
// other threads, and lazy loading.
#include "cfgactors_test.hpp"
#include "temp_dir.hpp"

#include <atomic>
#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>
#include <mutex>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "cfgactors/contract.hpp"
#include "cfgactors/contract_registry.hpp"
#include "cfgactors/env.hpp"
#include "cfgactors/env_source.hpp"
#include "cfgactors/lazy.hpp"
#include "cfgactors/node.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/setting.hpp"
#include "cfgactors/system_config.hpp"

namespace node_suite {

using namespace cfgactors;
using namespace std::chrono_literals;
namespace fs = std::filesystem;

namespace {

struct node_config : system_config {
  node_config() {
    load<caf::io::middleman>();
    set("scheduler.policy", caf::atom("sharing"));
    set("scheduler.max-threads", 2);
  }
};

struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("node") {
    // nop
  }
};

/// Polls `pred` for up to 20 s.
bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 400; ++i) {
    if (pred())
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

/// Whether something accepts TCP connections on 127.0.0.1:`port`.
bool accepts(uint16_t port) {
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(port);
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  auto ok = ::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof(addr))
            == 0;
  ::close(fd);
  return ok;
}

void set_env(const char* name, const char* value) {
  CAF_REQUIRE(env::set(name, value));
}

void unset_env(const char* name) {
  CAF_REQUIRE(env::unset(name));
}

constexpr const char* service_yaml = R"(buffer_size: 2048
name: checkout
ratio: 0.25
hosts: [a.example, b.example]
logging:
  level: INFO
features:
  new_algorithm: false
limits:
  rps: 100
  burst: 10
)";

constexpr const char* service_schema = R"({
  "$schema": "http://json-schema.org/draft-07/schema#",
  "type": "object",
  "properties": {
    "buffer_size": {"type": "integer", "minimum": 1},
    "logging": {
      "type": "object",
      "properties": {
        "level": {"enum": ["DEBUG", "INFO", "WARNING", "ERROR"]}
      }
    }
  }
})";

/// The values a subscriber callback saw, shared with the test thread.
struct seen_log {
  std::mutex mtx;
  std::vector<std::pair<uint64_t, json>> items;

  void add(const change& c) {
    std::lock_guard<std::mutex> guard{mtx};
    items.emplace_back(c.version, c.new_value());
  }

  std::vector<std::pair<uint64_t, json>> copy() {
    std::lock_guard<std::mutex> guard{mtx};
    return items;
  }

  bool saw_version(uint64_t v) {
    std::lock_guard<std::mutex> guard{mtx};
    for (auto& item : items)
      if (item.first >= v)
        return true;
    return false;
  }
};

caf::behavior recording_subscriber(caf::event_based_actor*,
                                   std::shared_ptr<seen_log> log) {
  return {[log](const change& c) { log->add(c); }};
}

struct fixture {
  node_config cfg;
  caf::actor_system sys{cfg};
  temp_dir dir;

  /// A primary on the service's YAML file and schema.
  node start_primary(node_options extra = {}) {
    auto file = dir.write("service.yaml", service_yaml);
    auto schema = dir.write("schema.json", service_schema);
    auto n = node::primary(sys, extra.file(file).schema(schema)
                                  .file_debounce(20ms));
    if (!n)
      CAF_FAIL("primary: " << sys.render(n.error()));
    return std::move(*n);
  }

  std::string error_of(const caf::expected<node>& n) {
    if (n)
      return "(no error)";
    auto text = sys.render(n.error());
    CAF_MESSAGE("error: " << text);
    return text;
  }
};

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(node_tests, fixture)

CAF_TEST(a primary reads its file and the environment into typed values) {
  set_env("NODETEST_LOGGING__LEVEL", "DEBUG");
  auto n = start_primary(node_options{}.env("NODETEST_"));
  unset_env("NODETEST_LOGGING__LEVEL");
  CAF_CHECK(n.is_primary());
  CAF_CHECK(!n.stale());
  CAF_CHECK_GREATER_OR_EQUAL(n.version(), 1u);
  CAF_CHECK_EQUAL(n.get<int>("buffer_size", 1), 2048);
  CAF_CHECK_EQUAL(n.get<int64_t>("limits.rps", 0), 100);
  CAF_CHECK_EQUAL(n.get("name", "none"), "checkout");
  CAF_CHECK_EQUAL(n.get<double>("ratio", 0.0), 0.25);
  CAF_CHECK_EQUAL(n.get<bool>("features.new_algorithm", true), false);
  CAF_CHECK_EQUAL(n.get<std::vector<std::string>>("hosts", {}),
                  (std::vector<std::string>{"a.example", "b.example"}));
  CAF_CHECK_EQUAL(n.get<json>("limits", {}), (json{{"rps", 100},
                                                   {"burst", 10}}));
  CAF_CHECK_EQUAL(n.get_json("hosts[1]"), "b.example");
  // The environment wins over the file.
  CAF_CHECK_EQUAL(n.get("logging.level", "?"), "DEBUG");
  // Absent, null-typed or ill-typed: the fallback, never a throw.
  CAF_CHECK_EQUAL(n.get<int>("missing.key", 7), 7);
  CAF_CHECK_EQUAL(n.get<int>("name", 7), 7);
  CAF_CHECK_EQUAL(n.get<std::string>("buffer_size", "x"), "x");
  CAF_CHECK_EQUAL(n.get<int8_t>("buffer_size", 1), 1); // out of range
  CAF_CHECK_EQUAL(n.get_json("limits..rps"), json{});
  auto snap = n.snapshot();
  CAF_REQUIRE(snap != nullptr);
  CAF_CHECK_EQUAL(snap->version, n.version());
  CAF_CHECK_EQUAL((*snap->effective)["limits"]["burst"], 10);
}

CAF_TEST(bad inputs come back as errors naming what and where) {
  auto broken = dir.write("broken.yaml", "a: 1\nb: [1, 2\nc: 3\n");
  auto res = node::primary(sys, node_options{}.file(broken));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "broken.yaml:"));
  res = node::primary(sys, node_options{}.file((dir.path / "none.yaml")
                                                 .string()));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "none.yaml"));
  auto bad_schema = dir.write("bad_schema.json", R"({"type": 12})");
  res = node::primary(sys, node_options{}.schema(bad_schema));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "bad_schema.json"));
  // A file the schema refuses: the reason names the path.
  auto schema = dir.write("schema.json", service_schema);
  auto wrong = dir.write("wrong.yaml", "buffer_size: -5\n");
  res = node::primary(sys, node_options{}.file(wrong).schema(schema));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "buffer_size"));
  // A journal that cannot be trusted is never replaced by an empty one.
  auto data = dir.path / "data";
  fs::create_directories(data);
  {
    std::ofstream out{data / "journal.db"};
    out << "this is not an SQLite database, but it is long enough to look "
           "like a header of one to a careless reader...................";
  }
  res = node::primary(sys, node_options{}.data_dir(data.string()));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "journal.db"));
  // A port in use.
  auto first = node::primary(sys, node_options{}.cluster_port(0));
  CAF_REQUIRE(first);
  auto port = first->cluster_port();
  CAF_REQUIRE_NOT_EQUAL(port, 0u);
  res = node::primary(sys, node_options{}.node_name("second")
                             .cluster_port(port));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "cluster port 127.0.0.1:"
                                      + std::to_string(port)));
  // A replica takes its config from the primary only.
  res = node::replica(sys, "127.0.0.1", port, node_options{}.file(wrong));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "`file` belongs on the primary"));
  // Nobody there.
  first->stop();
  res = node::replica(sys, "127.0.0.1", port,
                      node_options{}.join_timeout(300ms)
                        .reconnect_backoff(20ms, 50ms));
  CAF_CHECK(!res);
  CAF_CHECK(contains(error_of(res), "no primary at 127.0.0.1:"));
}

CAF_TEST(writes say what happened and a rejected one changes nothing) {
  auto n = start_primary();
  auto v0 = n.version();
  auto s0 = n.stats();
  CAF_REQUIRE(s0 && s0->validator);
  auto r = n.set("buffer_size", 4096);
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(r.result.version, v0 + 1);
  CAF_CHECK_EQUAL(r.result.hash, n.snapshot()->hash);
  CAF_CHECK(r.satisfied);
  // Read your writes: the cell holds the version once set() returns.
  CAF_CHECK_EQUAL(n.get<int>("buffer_size", 0), 4096);
  r = n.set("buffer_size", 4096);
  CAF_CHECK_EQUAL(r.result.status, write_status::unchanged);
  CAF_CHECK_EQUAL(r.result.version, v0 + 1);
  // Two reasons in one rejected transaction; nothing of it applies.
  r = n.transaction()
        .set("logging.level", "LOUD")
        .set("buffer_size", 0)
        .set("name", "other")
        .commit();
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_CHECK_EQUAL(r.result.code, errc::validation_failed);
  CAF_REQUIRE_EQUAL(r.result.errors.size(), 2u);
  std::vector<std::string> paths{r.result.errors[0].path,
                                 r.result.errors[1].path};
  std::sort(paths.begin(), paths.end());
  CAF_CHECK_EQUAL(paths,
                  (std::vector<std::string>{"buffer_size", "logging.level"}));
  CAF_CHECK_EQUAL(n.version(), v0 + 1);
  CAF_CHECK_EQUAL(n.get("name", "?"), "checkout");
  CAF_CHECK_EQUAL(n.get<int>("buffer_size", 0), 4096);
  // A transaction that passes: one version for all of its operations.
  r = n.transaction()
        .set("limits.rps", 200)
        .unset("limits.burst")
        .flag("new_algorithm", true)
        .commit();
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(r.result.version, v0 + 2);
  CAF_CHECK_EQUAL(n.get<int>("limits.rps", 0), 200);
  CAF_CHECK_EQUAL(n.get_json("limits.burst"), json{});
  CAF_CHECK_EQUAL(n.get<bool>("features.new_algorithm", false), true);
  r = n.flag("new_algorithm", false);
  CAF_CHECK_EQUAL(r.result.version, v0 + 3);
  CAF_CHECK_EQUAL(n.get<bool>("features.new_algorithm", true), false);
  r = n.unset("name");
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(n.get("name", "gone"), "gone");
  // Compare-and-set against an old version.
  r = n.transaction().set("name", "late").expect_version(v0).commit();
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_CHECK_EQUAL(r.result.code, errc::version_conflict);
  // A dry run: admitted, answered with the diff, no version (a majority
  // write does not wait for acks of a version that was never made).
  auto at = n.version();
  r = n.transaction().set("name", "dry").dry_run().commit(consistency::majority);
  CAF_CHECK_EQUAL(r.result.status, write_status::accepted);
  CAF_CHECK_EQUAL(r.result.diff.view, (json{{"name", {{"added", "dry"}}}}));
  CAF_CHECK_EQUAL(n.version(), at);
  CAF_CHECK_EQUAL(n.get("name", "gone"), "gone");
  // History, diff and rollback pass through.
  auto hist = n.history(3);
  CAF_REQUIRE(hist);
  CAF_REQUIRE_EQUAL(hist->size(), 3u);
  CAF_CHECK_EQUAL(hist->front().version, v0 + 4);
  CAF_CHECK_EQUAL(hist->front().origin, "node:primary");
  auto d = n.diff(v0 + 1, v0 + 2);
  CAF_REQUIRE(d);
  CAF_CHECK_EQUAL(d->view["limits.rps"], (json{{"old", 100}, {"new", 200}}));
  r = n.rollback(v0 + 1);
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(n.get<int>("limits.rps", 0), 100);
  CAF_CHECK_EQUAL(n.get("name", "gone"), "checkout");
  // A rollback is named for its target; the writer is its author.
  CAF_CHECK_EQUAL(n.snapshot()->origin, "rollback:" + std::to_string(v0 + 1));
  CAF_CHECK_EQUAL(n.snapshot()->author, "node:primary");
  // The validator counted all of it; the router is at the last version.
  auto s = n.stats();
  CAF_REQUIRE(s && s->validator);
  CAF_CHECK_EQUAL(s->validator->committed - s0->validator->committed, 5u);
  CAF_CHECK_EQUAL(s->validator->unchanged - s0->validator->unchanged, 1u);
  CAF_CHECK_EQUAL(s->validator->rejected - s0->validator->rejected, 2u);
  CAF_CHECK_EQUAL(s->validator->failures_by_rule["schema.enum"]
                    - s0->validator->failures_by_rule["schema.enum"],
                  1u);
  CAF_CHECK(eventually([&] {
    auto now = n.stats();
    return now && now->router.version == n.version();
  }));
  // Who and why travel with a transaction into the snapshot and history.
  r = n.transaction()
        .set("limits.rps", 300)
        .author("alice")
        .reason("OPS-7: more headroom")
        .commit();
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(n.snapshot()->author, "alice");
  CAF_CHECK_EQUAL(n.snapshot()->reason, "OPS-7: more headroom");
  hist = n.history(1);
  CAF_REQUIRE(hist && hist->size() == 1);
  CAF_CHECK_EQUAL(hist->front().origin, "node:primary");
  CAF_CHECK_EQUAL(hist->front().author, "alice");
  CAF_CHECK_EQUAL(hist->front().reason, "OPS-7: more headroom");
  r = n.transaction().set("limits.rps", 301).reason("two\nlines").commit();
  CAF_CHECK_EQUAL(r.result.code, errc::invalid_argument);
  // A stopped node answers every write, with the reason.
  n.stop();
  CAF_CHECK(!n.stats());
  r = n.set("buffer_size", 1);
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_CHECK_EQUAL(r.result.code, errc::unavailable);
  CAF_CHECK_EQUAL(n.get<int>("buffer_size", 0), 4096); // reads keep working
}

CAF_TEST(flags evaluate on the current snapshot and through an overlay) {
  auto n = start_primary();
  CAF_CHECK(!n.flags().enabled("brand_new"));
  CAF_CHECK_EQUAL(n.flags().evaluate("brand_new").reason, "missing");
  auto r = n.flag("brand_new", true);
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK(n.flags().enabled("brand_new", {{"user", "42"}}));
  // A rule for one tenant, and an overlay that turns it off for another.
  r = n.set("features.checkout",
            json::parse(R"({"enabled": true, "rollout": 0, "rules": [
                              {"attribute": "tenant", "op": "in",
                               "values": ["acme"], "enabled": true}]})"));
  CAF_REQUIRE_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK(n.flags().enabled("checkout", {{"tenant", "acme"}, {"user", "1"}}));
  CAF_CHECK(!n.flags().enabled("checkout", {{"tenant", "umbrella"}}));
  auto v = n.version();
  auto view = n.view(json::parse(R"({"features": {"checkout": false}})"));
  CAF_CHECK(!feature_flags{view}.enabled("checkout", {{"tenant", "acme"}}));
  CAF_CHECK(n.flags().enabled("checkout", {{"tenant", "acme"}}));
  CAF_CHECK_EQUAL(n.version(), v); // an overlay makes no version
  // A malformed flag is refused at write time with its path; the last
  // good flag stays.
  r = n.set("features.checkout.rollout", "half");
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_CHECK(contains(r.result.describe(), "features.checkout.rollout"));
  CAF_CHECK_EQUAL(n.version(), v);
  CAF_CHECK(n.flags().enabled("checkout", {{"tenant", "acme"}}));
}

CAF_TEST(a contract registered with the node vetoes bad writes) {
  auto registry = std::make_shared<contract_registry>();
  auto n = start_primary(node_options{}.contracts(registry));
  auto v = n.version();
  registry->add(make_contract("sizes")
                  .validate([](const json& candidate) {
                    validation_errors errors;
                    auto i = candidate.find("buffer_size");
                    if (i != candidate.end() && i->is_number_integer()
                        && i->get<int64_t>() % 512 != 0)
                      errors.push_back(
                        veto("buffer_size", "must be a multiple of 512"));
                    return errors;
                  })
                  .build());
  auto r = n.set("buffer_size", 1000);
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_CHECK(contains(r.result.describe(), "multiple of 512"));
  CAF_CHECK_EQUAL(n.version(), v);
  r = n.set("buffer_size", 2048);
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  // The node hands its writer to actors of the caller's, e.g. a guard.
  CAF_CHECK(n.writer());
}

CAF_TEST(subscribers see changes in version order until they unsubscribe) {
  auto n = start_primary();
  auto log = std::make_shared<seen_log>();
  auto sub = n.subscribe("limits", [log](const change& c) { log->add(c); });
  CAF_REQUIRE(sub);
  auto actor_log = std::make_shared<seen_log>();
  auto mine = sys.spawn(recording_subscriber, actor_log);
  auto sub2 = n.subscribe_actor("limits",
                                caf::actor_cast<subscriber_actor>(mine));
  CAF_REQUIRE(sub2);
  uint64_t last = 0;
  for (int i = 1; i <= 20; ++i) {
    auto r = n.set("limits.rps", 1000 + i);
    CAF_REQUIRE_EQUAL(r.result.status, write_status::committed);
    last = r.result.version;
    n.set("logging.level", i % 2 == 0 ? "INFO" : "DEBUG"); // not "limits"
  }
  CAF_REQUIRE(eventually([&] { return log->saw_version(last); }));
  CAF_REQUIRE(eventually([&] { return actor_log->saw_version(last); }));
  for (auto* seen : {log.get(), actor_log.get()}) {
    auto items = seen->copy();
    for (size_t i = 1; i < items.size(); ++i)
      CAF_CHECK_LESS(items[i - 1].first, items[i].first);
    for (auto& [version, value] : items)
      CAF_CHECK_EQUAL(value["burst"], 10); // the subtree of the prefix
    CAF_CHECK_EQUAL(items.back().first, last);
    CAF_CHECK_EQUAL(items.back().second["rps"], 1020);
  }
  // Once unsubscribe returns, the callback's actor is gone.
  CAF_CHECK(n.unsubscribe(*sub));
  CAF_CHECK(!n.unsubscribe(*sub));
  auto before = log->copy().size();
  auto r = n.set("limits.rps", 5);
  CAF_REQUIRE(eventually([&] { return actor_log->saw_version(r.result.version); }));
  CAF_CHECK_EQUAL(log->copy().size(), before);
  // A callback that throws does not end its subscription.
  auto calls = std::make_shared<std::atomic<int>>(0);
  auto thrower = n.subscribe("limits", [calls](const change&) {
    ++*calls;
    throw std::runtime_error("callback failed");
  });
  CAF_REQUIRE(thrower);
  n.set("limits.rps", 6);
  n.set("limits.rps", 7);
  CAF_CHECK(eventually([&] { return calls->load() >= 2; }));
  caf::anon_send_exit(mine, caf::exit_reason::user_shutdown);
}

CAF_TEST(a setting follows versions on every thread and falls back on a wrong type) {
  auto n = start_primary();
  setting<int> size{n, "buffer_size", 1};
  setting<std::string> level{n, "logging.level", "?"};
  setting<std::vector<std::string>> hosts{n, "hosts", {}};
  setting<json> limits{n, "limits", json::object()};
  setting<uint8_t> small{n, "limits.rps", 0};
  setting<bool> flag{n, "features.new_algorithm", true};
  CAF_CHECK_EQUAL(size(), 2048);
  CAF_CHECK_EQUAL(level(), "INFO");
  CAF_CHECK_EQUAL(hosts().size(), 2u);
  CAF_CHECK_EQUAL(limits().value("burst", 0), 10);
  CAF_CHECK_EQUAL(small(), 100);
  CAF_CHECK_EQUAL(flag(), false);
  CAF_CHECK_EQUAL(size.error(), "");
  auto r = n.transaction()
             .set("buffer_size", 4096)
             .set("logging.level", "ERROR")
             .set("limits.rps", 300)
             .set("hosts", json::array({"c.example"}))
             .commit();
  CAF_REQUIRE_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(size(), 4096);
  CAF_CHECK_EQUAL(size.with_version().second, r.result.version);
  CAF_CHECK_EQUAL(level(), "ERROR");
  CAF_CHECK_EQUAL(hosts(), std::vector<std::string>{"c.example"});
  CAF_CHECK_EQUAL(limits().value("rps", 0), 300);
  // 300 does not fit in 8 bits: the fallback, and a reason.
  CAF_CHECK_EQUAL(small(), 0);
  CAF_CHECK(contains(small.error(), "limits.rps: out of range"));
  // Another thread reads the same settings through its own slots.
  std::atomic<int> seen{0};
  std::thread reader{[&] {
    seen = size();
  }};
  reader.join();
  CAF_CHECK_EQUAL(seen.load(), 4096);
  // More threads than the first chunk of slots, alive together: each gets
  // a slot of its own in the further chunks.
  constexpr int crowd_size = 40;
  std::atomic<int> arrived{0};
  std::atomic<int> right{0};
  std::atomic<uint32_t> indexed{0};
  std::atomic<bool> counted{false};
  std::vector<std::thread> crowd;
  for (int i = 0; i < crowd_size; ++i)
    crowd.emplace_back([&] {
      arrived.fetch_add(1);
      while (arrived.load() < crowd_size)
        std::this_thread::yield();
      if (size.with_version() == std::pair{4096, r.result.version})
        ++right;
      // Nobody leaves (and hands its index on) before the last to read has
      // counted the indexes: leaving as soon as all have read, some gave
      // theirs back before the count (38 of 40 once, under ASan).
      if (arrived.fetch_add(1) + 1 == 2 * crowd_size) {
        indexed = detail::threads_with_index();
        counted = true;
      }
      while (!counted.load())
        std::this_thread::yield();
    });
  for (auto& t : crowd)
    t.join();
  CAF_CHECK_EQUAL(right.load(), crowd_size);
  CAF_CHECK_GREATER_OR_EQUAL(indexed.load(), static_cast<uint32_t>(crowd_size));
  // A wrong type (the schema allows any name): fallback and a reason.
  setting<int> name_as_int{n, "name", -1};
  CAF_CHECK_EQUAL(name_as_int(), -1);
  CAF_CHECK(contains(name_as_int.error(), "name: expected integer, found string"));
  r = n.set("hosts", json::array({"d.example", 5}));
  CAF_REQUIRE_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(hosts(), std::vector<std::string>{});
  CAF_CHECK(contains(hosts.error(), "item 1 is number"));
  // A later good value replaces the fallback.
  n.set("hosts", json::array({"e.example"}));
  CAF_CHECK_EQUAL(hosts(), std::vector<std::string>{"e.example"});
  CAF_CHECK_EQUAL(hosts.error(), "");
}

CAF_TEST(a replica over loopback follows the primary and forwards writes) {
  auto primary = start_primary(node_options{}.cluster_port(0));
  auto port = primary.cluster_port();
  CAF_REQUIRE_NOT_EQUAL(port, 0u);
  CAF_CHECK(accepts(port));
  auto res = node::replica(sys, "127.0.0.1", port,
                           node_options{}.node_name("r1")
                             .join_timeout(20s)
                             .reconnect_backoff(20ms, 100ms));
  CAF_REQUIRE(res);
  auto& replica = *res;
  CAF_CHECK(!replica.is_primary());
  CAF_CHECK_EQUAL(replica.name(), "r1");
  CAF_CHECK(!replica.stale());
  // Synced before replica() returned.
  CAF_CHECK_EQUAL(replica.version(), primary.version());
  CAF_CHECK_EQUAL(replica.get<int>("buffer_size", 0), 2048);
  setting<int> rps{replica, "limits.rps", 0};
  CAF_CHECK_EQUAL(rps(), 100);
  // A write on the primary reaches the replica's readers.
  auto r = primary.set("limits.rps", 150);
  CAF_REQUIRE_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK(eventually([&] { return rps() == 150; }));
  CAF_CHECK_EQUAL(rps.with_version().second, r.result.version);
  // The replica's counters are its router's; writes count on the primary.
  auto rs = replica.stats();
  CAF_REQUIRE(rs);
  CAF_CHECK(!rs->validator);
  CAF_CHECK_EQUAL(rs->router.version, replica.version());
  CAF_CHECK_GREATER_OR_EQUAL(rs->router.subscribers, 1u); // feeds the cell
  // A write on the replica goes to the primary; `all` names the replica.
  r = replica.set("limits.rps", 175, consistency::all, 20s);
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK(r.satisfied);
  CAF_CHECK_EQUAL(r.acked, std::vector<std::string>{"r1"});
  CAF_CHECK(r.missing.empty());
  CAF_CHECK_EQUAL(rps(), 175);
  CAF_CHECK_EQUAL(primary.get<int>("limits.rps", 0), 175);
  // A rejected write on the replica carries the primary's reasons.
  r = replica.set("logging.level", "LOUD");
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_REQUIRE_EQUAL(r.result.errors.size(), 1u);
  CAF_CHECK_EQUAL(r.result.errors[0].path, "logging.level");
  auto replicas = primary.replicas();
  CAF_REQUIRE(replicas);
  CAF_REQUIRE_EQUAL(replicas->size(), 1u);
  CAF_CHECK_EQUAL(replicas->front().node, "r1");
  // The primary leaves: its port closes, the replica keeps its snapshot
  // and says it is stale; writes there are refused with the reason.
  auto last = primary.version();
  primary.stop();
  CAF_CHECK(!accepts(port));
  CAF_CHECK(eventually([&] { return replica.stale(); }));
  CAF_CHECK_EQUAL(replica.version(), last);
  CAF_CHECK_EQUAL(rps(), 175);
  r = replica.set("limits.rps", 1);
  CAF_CHECK_EQUAL(r.result.status, write_status::rejected);
  CAF_CHECK_EQUAL(r.result.code, errc::unavailable);
}

CAF_TEST(a write that changes no value is visible at once) {
  auto n = start_primary();
  auto v0 = n.version();
  // The file holds 2048 already: the runtime layer changes, the tree and
  // its hash do not, and no subscriber hears of the version.
  auto started = std::chrono::steady_clock::now();
  auto r = n.set("buffer_size", 2048);
  auto took = std::chrono::steady_clock::now() - started;
  CAF_CHECK_EQUAL(r.result.status, write_status::committed);
  CAF_CHECK_EQUAL(r.result.version, v0 + 1);
  // Read your writes: set() returns once the cell holds the version, not
  // after its whole timeout (5 s) with the cell still one behind.
  CAF_CHECK_EQUAL(n.version(), v0 + 1);
  CAF_CHECK_EQUAL(n.snapshot()->hash, r.result.hash);
  CAF_CHECK_LESS(took, 2s);
}

CAF_TEST(a primary restarts from its journal with the same values) {
  auto data = (dir.path / "data").string();
  uint64_t version = 0;
  {
    auto n = start_primary(node_options{}.data_dir(data));
    auto r = n.set("limits.rps", 321);
    CAF_REQUIRE_EQUAL(r.result.status, write_status::committed);
    version = r.result.version;
  }
  auto n = start_primary(node_options{}.data_dir(data));
  CAF_CHECK_EQUAL(n.version(), version);
  CAF_CHECK_EQUAL(n.get<int>("limits.rps", 0), 321);
  CAF_CHECK_EQUAL(n.set("limits.rps", 322).result.version, version + 1);
}

CAF_TEST(lazy loads on first access once and again after invalidate) {
  auto file = dir.write("lazy.yaml", "debug_mode: true\n");
  std::atomic<int> calls{0};
  lazy<json> config{[&]() -> caf::expected<json> {
    ++calls;
    std::this_thread::sleep_for(20ms); // let the other threads pile up
    auto doc = parse_file(file);
    if (!doc)
      return make_error(errc::parse_failed, doc.error->str());
    return doc.value;
  }};
  CAF_CHECK(!config.loaded());
  CAF_CHECK_EQUAL(calls.load(), 0);
  std::vector<std::thread> threads;
  std::atomic<int> debug{0};
  for (int i = 0; i < 8; ++i)
    threads.emplace_back([&] {
      if (auto x = config.get(); x && (**x)["debug_mode"] == true)
        ++debug;
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(calls.load(), 1);
  CAF_CHECK_EQUAL(debug.load(), 8);
  CAF_CHECK_EQUAL(config.loads(), 1u);
  // Invalidate: the next access reads the file again.
  auto held = config.get();
  dir.write("lazy.yaml", "debug_mode: false\n");
  config.invalidate();
  CAF_CHECK(!config.loaded());
  CAF_CHECK_EQUAL((**held)["debug_mode"], true); // still valid for its holder
  auto again = config.get();
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL((**again)["debug_mode"], false);
  CAF_CHECK_EQUAL(calls.load(), 2);
  // A failed load leaves nothing loaded; the next access retries.
  dir.write("lazy.yaml", "debug_mode: [\n");
  config.invalidate();
  auto failed = config.get();
  CAF_CHECK(!failed);
  CAF_CHECK(contains(sys.render(failed.error()), "lazy.yaml:"));
  CAF_CHECK(!config.loaded());
  dir.write("lazy.yaml", "debug_mode: true\n");
  CAF_CHECK(config.get());
  CAF_CHECK_EQUAL(config.loads(), 3u);
  // A lazily created node: started on first access, stopped on invalidate.
  lazy<node> lazy_node{[&] {
    return node::primary(sys, node_options{}.file(file).node_name("lazy"));
  }};
  CAF_CHECK(!lazy_node.loaded());
  auto n = lazy_node.get();
  CAF_REQUIRE(n);
  CAF_CHECK_EQUAL((*n)->get<bool>("debug_mode", false), true);
  auto store = (*n)->store();
  n->reset();
  lazy_node.invalidate();
  // The node's store ended with it.
  caf::scoped_actor self{sys};
  self->request(store, 1s, get_atom::value)
    .receive([](snapshot_ptr&) { CAF_FAIL("the store still answers"); },
             [](caf::error&) {});
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace node_suite

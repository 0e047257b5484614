#define CAF_SUITE pipeline
// The pipeline on CAF's real scheduler, driven like a service would drive it.
#include "cfgactors_test.hpp"

#include <atomic>
#include <chrono>
#include <thread>
#include <condition_variable>
#include <future>
#include <mutex>

#include <caf/all.hpp>

#include "cfgactors/parse.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"

namespace pipeline_suite {

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

/// Changes seen by a subscriber, shared with the test thread.
struct mailbox_log {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<change> changes;

  void add(const change& c) {
    std::lock_guard<std::mutex> guard{mtx};
    changes.push_back(c);
    cv.notify_all();
  }

  /// Waits until at least `n` changes arrived (or 30 s passed).
  std::vector<change> wait_for(size_t n) {
    std::unique_lock<std::mutex> guard{mtx};
    cv.wait_for(guard, 30s, [&] { return changes.size() >= n; });
    return changes;
  }
};

caf::behavior logging_subscriber(caf::event_based_actor*,
                                 std::shared_ptr<mailbox_log> log) {
  return {[log](const change& c) { log->add(c); }};
}

/// Blocks its worker thread on `release` while handling the first change.
caf::behavior blocking_subscriber(caf::event_based_actor*,
                                  std::shared_ptr<mailbox_log> log,
                                  std::shared_future<void> release) {
  return {[log, release](const change& c) {
    log->add(c);
    release.wait();
  }};
}

system_config& threads(system_config& cfg) {
  cfg.set("scheduler.max-threads", 4);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

struct fixture {
  system_config cfg;
  caf::actor_system sys{threads(cfg)};
  caf::scoped_actor self{sys};
  pipeline pipe;

  fixture() {
    std::string err;
    auto schema = json_schema::from_file(
      test::source_path("examples/schema.json"), &err);
    if (!schema)
      CAF_FAIL("schema: " << err);
    pipeline_options opts;
    opts.validation.schema = schema;
    pipe = spawn_pipeline(sys, opts);
  }

  ~fixture() {
    shutdown(pipe);
  }

  write_result write(write_request req) {
    write_result result;
    self->request(pipe.validator, 30s, write_atom::value, std::move(req))
      .receive([&](write_result& r) { result = std::move(r); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  write_result write(operation op) {
    return write(write_request{{std::move(op)}, "test", 0, {}});
  }

  template <class T, class... Ts>
  T ask(const Ts&... xs) {
    T result;
    self->request(pipe.store, 30s, xs...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  std::shared_ptr<mailbox_log> subscribe(const std::string& prefix) {
    auto log = std::make_shared<mailbox_log>();
    auto sub = sys.spawn(logging_subscriber, log);
    self->request(pipe.store, 30s, subscribe_atom::value, prefix,
                  caf::actor_cast<subscriber_actor>(sub))
      .receive([](uint64_t) {}, [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return log;
  }

  write_result load_example() {
    auto path = test::source_path("examples/config.yaml");
    auto doc = parse_file(path);
    if (!doc)
      CAF_FAIL(doc.error->str());
    return write(operation::replace_layer("file:" + path, doc.value));
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(pipeline_tests, fixture)

CAF_TEST(the example config goes through validation and history and rollback) {
  auto v1 = load_example();
  CAF_REQUIRE_EQUAL(v1.status, write_status::committed);
  CAF_CHECK_EQUAL(v1.version, 1u);
  auto logging = subscribe("logging");
  auto features = subscribe("features");
  // A valid change: a new version, seen under its prefix only.
  auto v2 = write(operation::set("logging.level", "DEBUG"));
  CAF_REQUIRE_EQUAL(v2.status, write_status::committed);
  CAF_CHECK_EQUAL(v2.version, 2u);
  auto seen = logging->wait_for(1);
  CAF_REQUIRE_EQUAL(seen.size(), 1u);
  CAF_CHECK_EQUAL(seen[0].version, 2u);
  CAF_CHECK_EQUAL(seen[0].paths, std::vector<std::string>{"logging.level"});
  CAF_CHECK_EQUAL(seen[0].new_value()["level"], "DEBUG");
  // An invalid one: one refusal naming both reasons; nothing changes.
  auto bad = write(write_request{{operation::set("logging.level", "LOUD"),
                                  operation::set("buffer_size", 5)},
                                 "test",
                                 0, {}});
  CAF_CHECK_EQUAL(bad.status, write_status::rejected);
  CAF_CHECK_EQUAL(bad.code, errc::validation_failed);
  CAF_CHECK_EQUAL(bad.version, 2u);
  std::vector<std::string> paths;
  for (auto& e : bad.errors)
    paths.push_back(e.path);
  std::sort(paths.begin(), paths.end());
  CAF_CHECK_EQUAL(paths, (std::vector<std::string>{"buffer_size",
                                                   "logging.level"}));
  CAF_CHECK_EQUAL(ask<snapshot_ptr>(get_atom::value)->version, 2u);
  // The features subscriber saw nothing so far: its first change is v3.
  auto v3 = write(operation::flag("new_algorithm", true));
  auto first_feature = features->wait_for(1);
  CAF_REQUIRE_EQUAL(first_feature.size(), 1u);
  CAF_CHECK_EQUAL(first_feature[0].version, v3.version);
  // Rollback to version 1: a new version with version 1's content and hash.
  auto snap1 = ask<snapshot_ptr>(get_atom::value, uint64_t{1});
  auto v4 = write(operation::rollback(1));
  CAF_CHECK_EQUAL(v4.status, write_status::committed);
  CAF_CHECK_EQUAL(v4.version, 4u);
  CAF_CHECK_EQUAL(v4.hash, snap1->hash);
  CAF_CHECK_EQUAL(*ask<snapshot_ptr>(get_atom::value)->effective,
                  *snap1->effective);
  // The diff between version 1 and 3 is the expected patch.
  auto d = ask<diff_result>(diff_atom::value, uint64_t{1}, uint64_t{3});
  CAF_CHECK_EQUAL(d.patch, json::parse(R"([
    {"op":"replace","path":"/features/new_algorithm","value":true},
    {"op":"replace","path":"/logging/level","value":"DEBUG"}])"));
  CAF_CHECK_EQUAL(d.view, json::parse(R"({
    "features.new_algorithm": {"old": false, "new": true},
    "logging.level": {"old": "INFO", "new": "DEBUG"}})"));
}

CAF_TEST(a blocked subscriber ends with the latest version and bounded memory) {
  load_example();
  std::promise<void> release;
  auto log = std::make_shared<mailbox_log>();
  auto sub = sys.spawn(blocking_subscriber, log,
                       release.get_future().share());
  self->request(pipe.store, 30s, subscribe_atom::value,
                std::string{"buffer_size"},
                caf::actor_cast<subscriber_actor>(sub))
    .receive([](uint64_t) {}, [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
  std::weak_ptr<const snapshot> early;
  uint64_t last = 0;
  for (int i = 0; i < 10000; ++i) {
    auto res = write(operation::set("buffer_size", 100 + i));
    CAF_REQUIRE_EQUAL(res.status, write_status::committed);
    last = res.version;
    if (i == 500)
      early = ask<snapshot_ptr>(get_atom::value, last);
  }
  // The router runs behind the store under load: wait until it published
  // the last version before looking at what it holds.
  auto stats = router_stats{};
  for (int i = 0; i < 3000 && stats.version < last; ++i) {
    self->request(pipe.router, 30s, stats_atom::value)
      .receive([&](router_stats& x) { stats = x; }, [](caf::error&) {});
    if (stats.version < last)
      std::this_thread::sleep_for(10ms);
  }
  CAF_REQUIRE_EQUAL(stats.version, last);
  CAF_CHECK_EQUAL(stats.in_flight, 1u);
  CAF_CHECK_EQUAL(stats.pending, 1u);
  // Nothing holds on to the versions in between: memory stays bounded.
  CAF_CHECK(early.expired());
  release.set_value();
  auto seen = log->wait_for(2);
  CAF_REQUIRE_EQUAL(seen.size(), 2u);
  CAF_CHECK_EQUAL(seen.back().version, last);
  CAF_CHECK_EQUAL(seen.back().new_value(), 100 + 9999);
  CAF_CHECK_EQUAL(seen.back().skipped, last - seen.front().version - 1);
  CAF_CHECK_GREATER(seen.back().skipped, 9000u);
  self->send_exit(sub, caf::exit_reason::kill);
}

CAF_TEST(concurrent writers each get an answer and every write lands once) {
  load_example();
  constexpr int writers = 4;
  constexpr int per_writer = 250;
  std::vector<std::thread> threads;
  std::atomic<int> committed{0};
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      caf::scoped_actor writer{sys};
      for (int i = 0; i < per_writer; ++i) {
        auto req = write_request{
          {operation::set("counters.w" + std::to_string(w), i)}, "w", 0, {}};
        writer->request(pipe.validator, 30s, write_atom::value, req)
          .receive(
            [&](write_result& r) {
              if (r.status == write_status::committed)
                ++committed;
            },
            [&](caf::error&) {});
      }
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(committed.load(), writers * per_writer);
  auto snap = ask<snapshot_ptr>(get_atom::value);
  CAF_CHECK_EQUAL(snap->version, 1u + writers * per_writer);
  for (int w = 0; w < writers; ++w)
    CAF_CHECK_EQUAL((*snap->effective)["counters"]["w" + std::to_string(w)],
                    per_writer - 1);
}

CAF_TEST(writes sent without waiting are all committed in order) {
  load_example();
  constexpr int n = 500;
  for (int i = 0; i < n; ++i)
    self->send(pipe.validator, write_atom::value,
               write_request{{operation::set("buffer_size", 100 + i)}, "s", 0, {}});
  int answers = 0;
  uint64_t last = 0;
  bool ordered = true;
  self->receive_for(answers, n)([&](write_result& r) {
    ordered = ordered && r.version == last + (last == 0 ? r.version : 1);
    last = r.version;
  });
  CAF_CHECK(ordered);
  CAF_CHECK_EQUAL(last, 1u + n);
  CAF_CHECK_EQUAL((*ask<snapshot_ptr>(get_atom::value)->effective)["buffer_size"],
                  100 + n - 1);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace pipeline_suite

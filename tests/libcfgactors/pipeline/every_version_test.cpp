// Tests for the every-version delivery of the topic router (delivery.hpp):
// each version in order with its (before, after) pair, a bounded queue, and
// a resync that says so when a subscriber falls too far behind.
#define CAF_SUITE every_version
#include "pipeline_fixture.hpp"
#include "gate_subscriber.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

namespace every_version_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

/// An object of `n` integers.
json numbers(int n) {
  auto x = json::object();
  for (int i = 0; i < n; ++i)
    x["v" + std::to_string(i)] = i;
  return x;
}

struct fixture : pipeline_fixture {
  /// A stalled subscriber of `prefix` with delivery `how`.
  std::pair<caf::actor, change_log> stalled(std::string prefix,
                                            std::optional<delivery> how) {
    auto log = std::make_shared<std::vector<change>>();
    auto sub = sys.spawn(gate, log);
    auto hdl = caf::actor_cast<subscriber_actor>(sub);
    if (how)
      self->send(pipe.router, subscribe_atom::value, std::move(prefix), hdl,
                 *how);
    else
      self->send(pipe.router, subscribe_atom::value, std::move(prefix), hdl);
    run();
    return {sub, log};
  }

  /// Lets `sub` handle one change at a time until nothing more comes.
  void drain(const caf::actor& sub, const change_log& log) {
    for (;;) {
      auto before = log->size();
      self->send(sub, release_atom::value);
      run();
      if (log->size() == before)
        return;
    }
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(every_version_tests, fixture)

CAF_TEST(a slow every version subscriber gets each of 100 versions in order) {
  set("n", 0);
  auto [sub, log] = stalled("n", delivery::every_version(1000));
  for (int i = 1; i <= 100; ++i)
    set("n", i);
  CAF_CHECK_EQUAL(log->size(), 1u); // busy with the first from here on
  CAF_CHECK_EQUAL(router_st().stats.pending, 0u);
  drain(sub, log);
  CAF_REQUIRE_EQUAL(log->size(), 100u);
  snapshot_ptr seen = nullptr;
  size_t pairs_ok = 0;
  for (size_t i = 0; i < log->size(); ++i) {
    auto& c = (*log)[i];
    auto n = static_cast<int>(i) + 1;
    // Each step: from the one before to this one, nothing folded.
    bool ok = c.old_value() == n - 1 && c.new_value() == n
              && c.skipped == 0 && !c.resync
              && c.version == c.prev_version + 1
              && (!seen || c.before == seen);
    if (ok)
      ++pairs_ok;
    else
      CAF_MESSAGE("step " << n << ": " << c.old_value() << " -> "
                          << c.new_value() << " v" << c.prev_version << "->"
                          << c.version << " skipped " << c.skipped);
    seen = c.after;
  }
  CAF_CHECK_EQUAL(pairs_ok, 100u);
  CAF_CHECK_EQUAL(log->back().version, current()->version);
  CAF_CHECK_EQUAL(router_st().stats.conflated, 0u);
  self->send_exit(sub, caf::exit_reason::kill);
}

CAF_TEST(versions under other prefixes are left out and the pairs still chain) {
  set("a", 0);
  auto [sub, log] = stalled("a", delivery::every_version(10));
  set("a", 1);
  set("b", 1);
  set("a", 2);
  set("b", 2);
  set("a", 3);
  drain(sub, log);
  CAF_REQUIRE_EQUAL(log->size(), 3u);
  for (size_t i = 0; i < 3; ++i) {
    auto& c = (*log)[i];
    CAF_CHECK_EQUAL(c.old_value(), static_cast<int>(i));
    CAF_CHECK_EQUAL(c.new_value(), static_cast<int>(i) + 1);
    if (i > 0)
      CAF_CHECK_EQUAL(c.prev_version, (*log)[i - 1].version);
  }
  self->send_exit(sub, caf::exit_reason::kill);
}

CAF_TEST(a subscriber past max pending is told and resynced to the current) {
  set("n", 0);
  auto [sub, log] = stalled("n", delivery::every_version(10));
  for (int i = 1; i <= 100; ++i) {
    set("n", i);
    // The queue never holds more than max pending.
    size_t longest = 0;
    for (auto& kvp : router_st().subscriptions)
      longest = std::max(longest, kvp.second.queue.size());
    CAF_CHECK_LESS_OR_EQUAL(longest, 10u);
  }
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  self->send(sub, release_atom::value);
  run();
  CAF_REQUIRE_EQUAL(log->size(), 2u);
  auto& resync = log->back();
  CAF_CHECK(resync.resync);
  CAF_CHECK_EQUAL(resync.old_value(), 1);   // what it saw last
  CAF_CHECK_EQUAL(resync.new_value(), 100); // the current version
  CAF_CHECK(resync.before == log->front().after);
  CAF_CHECK_EQUAL(resync.version, current()->version);
  // Nothing disappears unannounced: delivered one by one + skipped = all.
  CAF_CHECK_EQUAL(resync.skipped, 98u);
  CAF_CHECK_EQUAL(resync.paths, std::vector<std::string>{"n"});
  CAF_CHECK_EQUAL(router_st().stats.resyncs, 1u);
  // Back in step: the next versions come one by one again.
  set("n", 101);
  set("n", 102);
  drain(sub, log);
  CAF_REQUIRE_EQUAL(log->size(), 4u);
  CAF_CHECK(!(*log)[2].resync);
  CAF_CHECK_EQUAL((*log)[2].old_value(), 100);
  CAF_CHECK_EQUAL((*log)[2].new_value(), 101);
  CAF_CHECK_EQUAL((*log)[3].new_value(), 102);
  CAF_CHECK_EQUAL(router_st().stats.pending, 0u);
  self->send_exit(sub, caf::exit_reason::kill);
}

// A queued version holds its whole tree: the router bounds the values a
// queue holds (topic_router_state::queued_values, 2^20 by default; 1,000
// here), so a large config queues fewer versions than max pending. The two
// tests differ only in the size of the config.
CAF_TEST(a large config queues fewer versions and resyncs past them) {
  router_st().queued_values = 1000;
  set("big", numbers(200)); // 203 values with `n` and the root: 4 queued
  set("n", 0);
  auto [sub, log] = stalled("n", delivery::every_version(100));
  size_t longest = 0;
  for (int i = 1; i <= 20; ++i) {
    set("n", i);
    for (auto& kvp : router_st().subscriptions)
      longest = std::max(longest, kvp.second.queue.size());
  }
  CAF_CHECK_EQUAL(longest, 4u);
  drain(sub, log);
  CAF_REQUIRE_EQUAL(log->size(), 2u);
  auto& resync = log->back();
  CAF_CHECK(resync.resync);
  CAF_CHECK_EQUAL(resync.old_value(), 1);
  CAF_CHECK_EQUAL(resync.new_value(), 20);
  CAF_CHECK_EQUAL(resync.skipped, 18u);
  CAF_CHECK_EQUAL(router_st().stats.resyncs, 1u);
  self->send_exit(sub, caf::exit_reason::kill);
}

CAF_TEST(a small config queues up to max pending) {
  router_st().queued_values = 1000;
  set("big", numbers(2)); // 5 values with `n` and the root: 100 queued
  set("n", 0);
  auto [sub, log] = stalled("n", delivery::every_version(100));
  for (int i = 1; i <= 20; ++i)
    set("n", i);
  drain(sub, log);
  CAF_REQUIRE_EQUAL(log->size(), 20u);
  for (size_t i = 0; i < log->size(); ++i) {
    CAF_CHECK(!(*log)[i].resync);
    CAF_CHECK_EQUAL((*log)[i].new_value(), static_cast<int>(i) + 1);
  }
  CAF_CHECK_EQUAL(router_st().stats.resyncs, 0u);
  self->send_exit(sub, caf::exit_reason::kill);
}

CAF_TEST(the default subscriber still folds) {
  set("n", 0);
  auto [sub, log] = stalled("n", std::nullopt);
  auto [sub2, log2] = stalled("n", delivery::latest());
  for (int i = 1; i <= 100; ++i)
    set("n", i);
  drain(sub, log);
  drain(sub2, log2);
  for (auto* l : {&log, &log2}) {
    CAF_REQUIRE_EQUAL((*l)->size(), 2u);
    auto& last = (*l)->back();
    CAF_CHECK(!last.resync);
    CAF_CHECK_EQUAL(last.skipped, 98u);
    CAF_CHECK_EQUAL(last.old_value(), 1);
    CAF_CHECK_EQUAL(last.new_value(), 100);
  }
  CAF_CHECK_EQUAL(router_st().stats.resyncs, 0u);
  self->send_exit(sub, caf::exit_reason::kill);
  self->send_exit(sub2, caf::exit_reason::kill);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace every_version_suite

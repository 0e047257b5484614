#define CAF_SUITE courier
#include "pipeline_fixture.hpp"
#include "gate_subscriber.hpp"

namespace courier_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

/// Couriers of this many subscriptions: eight subscribers span three.
constexpr uint32_t share = 3;

/// A router of its own with small couriers, fed the pipeline's versions.
struct fixture : pipeline_fixture {
  topic_router_actor router;

  fixture() {
    router = sys.spawn(topic_router_with_share, current(), share);
    run();
  }

  ~fixture() {
    caf::anon_send_exit(router, caf::exit_reason::user_shutdown);
    run();
  }

  /// Writes `path` = `value` and publishes the new version to `router`.
  void publish_set(std::string path, json value) {
    auto before = current();
    set(std::move(path), std::move(value));
    self->send(router, publish_atom::value, before, current());
    run();
  }

  uint64_t add(const caf::actor& sub, std::string prefix = "n") {
    return ask<uint64_t>(router, subscribe_atom::value, std::move(prefix),
                         caf::actor_cast<subscriber_actor>(sub));
  }

  /// `n` recorders subscribed at "n", in order.
  std::vector<std::pair<caf::actor, change_log>> recorders(size_t n) {
    std::vector<std::pair<caf::actor, change_log>> result;
    for (size_t i = 0; i < n; ++i) {
      auto log = std::make_shared<std::vector<change>>();
      auto sub = sys.spawn(recorder, log);
      add(sub);
      result.emplace_back(sub, log);
    }
    return result;
  }

  router_stats stats() {
    return ask<router_stats>(router, stats_atom::value);
  }

  topic_router_state& state() {
    return state_of<topic_router_state>(router);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(courier_tests, fixture)

CAF_TEST(every subscriber across three couriers gets each change once) {
  set("n", 0);
  auto subs = recorders(8);
  CAF_CHECK_EQUAL(state().couriers.size(), 3u);
  for (int i = 1; i <= 3; ++i)
    publish_set("n", i);
  size_t exact = 0;
  for (auto& [sub, log] : subs) {
    bool ok = log->size() == 3u;
    for (size_t k = 0; ok && k < log->size(); ++k)
      ok = (*log)[k].new_value() == static_cast<int>(k) + 1
           && (*log)[k].skipped == 0;
    if (ok)
      ++exact;
  }
  CAF_CHECK_EQUAL(exact, 8u);
  auto st = stats();
  CAF_CHECK_EQUAL(st.subscribers, 8u);
  CAF_CHECK_EQUAL(st.delivered, 24u);
  CAF_CHECK_EQUAL(st.in_flight, 0u);
  CAF_CHECK_EQUAL(st.pending, 0u);
  CAF_CHECK_EQUAL(st.version, current()->version);
  for (auto& [sub, log] : subs)
    caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

CAF_TEST(a busy subscriber in the last courier still folds) {
  set("n", 0);
  auto subs = recorders(7);
  auto gated = std::make_shared<std::vector<change>>();
  auto busy = sys.spawn(gate, gated);
  add(busy);
  CAF_REQUIRE_EQUAL(state().couriers.size(), 3u);
  for (int i = 1; i <= 5; ++i)
    publish_set("n", i);
  for (auto& [sub, log] : subs)
    CAF_CHECK_EQUAL(log->size(), 5u);
  CAF_REQUIRE_EQUAL(gated->size(), 1u);
  auto st = stats();
  CAF_CHECK_EQUAL(st.in_flight, 1u);
  CAF_CHECK_EQUAL(st.pending, 1u);
  self->send(busy, release_atom::value);
  run();
  CAF_REQUIRE_EQUAL(gated->size(), 2u);
  auto& folded = gated->back();
  CAF_CHECK_EQUAL(folded.skipped, 3u);
  CAF_CHECK_EQUAL(folded.old_value(), 1);
  CAF_CHECK_EQUAL(folded.new_value(), 5);
  CAF_CHECK_EQUAL(folded.paths, std::vector<std::string>{"n"});
  self->send(busy, release_atom::value);
  run();
  st = stats();
  CAF_CHECK_EQUAL(st.in_flight, 0u);
  CAF_CHECK_EQUAL(st.pending, 0u);
  CAF_CHECK_EQUAL(st.conflated, 3u);
  CAF_CHECK_EQUAL(st.delivered, 7u * 5u + 2u);
  caf::anon_send_exit(busy, caf::exit_reason::user_shutdown);
  for (auto& [sub, log] : subs)
    caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

CAF_TEST(subscribers of the last courier leave by unsubscribe and by exit) {
  set("n", 0);
  auto subs = recorders(6);
  auto left = std::make_shared<std::vector<change>>();
  auto leaving = sys.spawn(recorder, left);
  auto leaving_id = add(leaving);
  auto died = std::make_shared<std::vector<change>>();
  auto dying = sys.spawn(recorder, died);
  add(dying);
  CAF_REQUIRE_EQUAL(state().couriers.size(), 3u);
  CAF_CHECK_EQUAL(state().couriers[2].subscriptions, 2u);
  self->send(router, unsubscribe_atom::value, leaving_id);
  caf::anon_send_exit(dying, caf::exit_reason::kill);
  run();
  CAF_CHECK_EQUAL(stats().subscribers, 6u);
  CAF_CHECK_EQUAL(state().couriers[2].subscriptions, 0u);
  publish_set("n", 1);
  CAF_CHECK_EQUAL(left->size(), 0u);
  CAF_CHECK_EQUAL(died->size(), 0u);
  for (auto& [sub, log] : subs)
    CAF_CHECK_EQUAL(log->size(), 1u);
  // The room they left is taken again before a fourth courier is spawned.
  auto more = recorders(3);
  CAF_CHECK_EQUAL(state().couriers.size(), 3u);
  publish_set("n", 2);
  for (auto& [sub, log] : more)
    CAF_CHECK_EQUAL(log->size(), 1u);
  CAF_CHECK_EQUAL(stats().subscribers, 9u);
  CAF_CHECK_EQUAL(stats().delivered, 6u + 9u);
  caf::anon_send_exit(leaving, caf::exit_reason::user_shutdown);
  for (auto& [sub, log] : subs)
    caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  for (auto& [sub, log] : more)
    caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

CAF_TEST(every version subscribers in two couriers queue and report totals) {
  set("n", 0);
  auto subs = recorders(2);
  std::vector<std::pair<caf::actor, change_log>> gates;
  for (int i = 0; i < 4; ++i) {
    auto log = std::make_shared<std::vector<change>>();
    auto g = sys.spawn(gate, log);
    ask<uint64_t>(router, subscribe_atom::value, std::string{"n"},
                  caf::actor_cast<subscriber_actor>(g),
                  delivery::every_version(10));
    gates.emplace_back(g, log);
  }
  CAF_REQUIRE_EQUAL(state().couriers.size(), 2u);
  for (int i = 1; i <= 4; ++i)
    publish_set("n", i);
  // Each gate holds the first version and queues the three after it.
  auto st = stats();
  CAF_CHECK_EQUAL(st.subscribers, 6u);
  CAF_CHECK_EQUAL(st.queued, 4u * 3u);
  CAF_CHECK_EQUAL(st.in_flight, 4u);
  for (int round = 0; round < 3; ++round)
    for (auto& [g, log] : gates) {
      self->send(g, release_atom::value);
      run();
    }
  size_t in_order = 0;
  for (auto& [g, log] : gates) {
    bool ok = log->size() == 4u;
    for (size_t k = 0; ok && k < log->size(); ++k)
      ok = (*log)[k].new_value() == static_cast<int>(k) + 1;
    if (ok)
      ++in_order;
  }
  CAF_CHECK_EQUAL(in_order, 4u);
  st = stats();
  CAF_CHECK_EQUAL(st.queued, 0u);
  CAF_CHECK_EQUAL(st.in_flight, 4u); // each holds its last one
  CAF_CHECK_EQUAL(st.delivered, 2u * 4u + 4u * 4u);
  for (auto& [g, log] : gates)
    caf::anon_send_exit(g, caf::exit_reason::user_shutdown);
  for (auto& [sub, log] : subs)
    caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace courier_suite

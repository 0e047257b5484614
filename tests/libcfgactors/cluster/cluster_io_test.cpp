#define CAF_SUITE cluster_io
// The cluster across three simulated pipe (caf/test/io_dsl.hpp): the primary
// on earth, replicas on mars and jupiter. Every message between them is
// serialized by BASP; timers fire only when a test fires them.
#include "io_fixture.hpp"

#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "cfgactors/errc.hpp"
#include "pipeline/pipeline_core.hpp"
#include "pipeline/topic_router.hpp"

namespace cluster_io_suite {

using namespace cfgactors;
using namespace cfgactors::test;
using namespace std::chrono_literals;

namespace {

using change_log = std::shared_ptr<std::vector<change>>;

caf::behavior recorder(caf::event_based_actor*, change_log log) {
  return {[log](const change& c) { log->push_back(c); }};
}

write_request set_request(std::string path, json value) {
  return write_request{{operation::set(std::move(path), std::move(value))},
                       "test",
                       0,
                       {}};
}

struct fixture : io_fixture {
  static constexpr uint16_t port = 4242;

  caf::io::accept_handle acceptor = next_accept_handle();
  wire to_mars;
  wire to_jupiter;
  detail::pipeline_core pipe;
  primary_actor primary;
  std::vector<replica_actor> replicas;

  static pipeline_options earth_pipeline() {
    auto rules = std::make_shared<rule_set>();
    rules->range("buffer_size", 100, 100000);
    pipeline_options opts;
    opts.validation.rules = std::move(rules);
    return opts;
  }

  fixture() {
    pipe = *detail::open_pipeline_core(earth.sys, earth_pipeline());
    primary_options popts;
    popts.node = "earth";
    popts.write_timeout = 2s;
    popts.forget_after = 0ms; // a lost replica stays listed
    primary = spawn_primary(earth.sys, pipe.store, pipe.validator, popts);
    run();
    to_mars = prepare(earth, mars, "earth", port, acceptor);
    to_jupiter = prepare(earth, jupiter, "earth", port, acceptor);
    CAF_REQUIRE_EQUAL(earth.publish(primary, port), port);
    run();
    // Some config before anyone joins.
    auto res = write(earth, pipe.validator,
                     write_request{{operation::set("service", "checkout"),
                                    operation::set("buffer_size", 1024),
                                    operation::set("features.beta", false)},
                                   "test",
                                   0,
                                   {}});
    CAF_REQUIRE(res.status == write_status::committed);
  }

  ~fixture() {
    for (auto& r : replicas)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
    shutdown(pipe.handles());
    run();
  }

  /// A replica that connects by itself, through its planet's middleman.
  replica_actor connect_replica(planet& p, std::string name) {
    replica_options opts;
    opts.node = std::move(name);
    opts.host = "earth";
    opts.port = port;
    opts.min_backoff = 100ms;
    opts.max_backoff = 400ms;
    auto r = spawn_replica(p.sys, opts);
    replicas.push_back(r);
    run();
    return r;
  }

  /// A replica told to join a handle its planet got from `remote_actor`.
  replica_actor join_replica(planet& p, std::string name,
                             primary_actor& remote_primary) {
    remote_primary = p.remote_actor<primary_actor>("earth", port);
    replica_options opts;
    opts.node = std::move(name);
    auto r = spawn_replica(p.sys, opts);
    replicas.push_back(r);
    p.self->send(r, join_atom::value, remote_primary);
    run();
    return r;
  }

  template <class Handle>
  write_result write(planet& p, const Handle& dest, write_request req) {
    return ask<write_result>(p, dest, write_atom::value, std::move(req));
  }

  template <class Handle>
  consistent_write_result write_with(planet& p, const Handle& dest,
                                     consistency level, write_request req,
                                     uint32_t timeout_ms = 0) {
    return ask<consistent_write_result>(p, dest, write_atom::value,
                                        std::move(req), level, timeout_ms);
  }

  snapshot_ptr primary_current() {
    return ask<snapshot_ptr>(earth, pipe.store, get_atom::value);
  }

  replica_status status(planet& p, const replica_actor& r) {
    return ask<replica_status>(p, r, status_atom::value);
  }

  replica_info info(const std::string& node) {
    for (auto& x :
         ask<std::vector<replica_info>>(earth, primary, replicas_atom::value))
      if (x.node == node)
        return x;
    CAF_FAIL("the primary lists no replica named " << node);
    return {};
  }

  change_log subscribe(planet& p, const replica_actor& r, std::string prefix) {
    auto log = std::make_shared<std::vector<change>>();
    auto sub = caf::actor_cast<subscriber_actor>(p.sys.spawn(recorder, log));
    ask<uint64_t>(p, r, subscribe_atom::value, std::move(prefix), sub);
    return log;
  }

  /// The replica has the primary's current version, hash and tree.
  void check_in_step(planet& p, const replica_actor& r) {
    auto cur = primary_current();
    auto st = status(p, r);
    CAF_CHECK_EQUAL(st.version, cur->version);
    CAF_CHECK_EQUAL(st.hash, cur->hash);
    CAF_CHECK(st.connected);
    CAF_CHECK(!st.stale);
    auto snap = ask<snapshot_ptr>(p, r, get_atom::value);
    CAF_CHECK_EQUAL(*snap->effective, *cur->effective);
  }

  /// The message at the head of `r`'s mailbox, which arrived over the wire.
  static caf::type_erased_tuple* next_message(const replica_actor& r) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(r);
    auto elem = ptr->peek_at_next_mailbox_element();
    return elem != nullptr ? &elem->content() : nullptr;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_io_tests, fixture)

CAF_TEST(replicas on two other pipe join with a full snapshot) {
  auto r_mars = connect_replica(mars, "mars");
  primary_actor seen_from_jupiter;
  auto r_jupiter = join_replica(jupiter, "jupiter", seen_from_jupiter);
  // Jupiter holds a proxy: the primary lives on another node.
  CAF_CHECK_EQUAL(seen_from_jupiter.node(), earth.sys.node());
  CAF_CHECK_NOT_EQUAL(seen_from_jupiter.node(), jupiter.sys.node());
  auto cur = primary_current();
  CAF_REQUIRE_GREATER(cur->version, 0u);
  for (auto [p, r] :
       {std::pair{&mars, r_mars}, std::pair{&jupiter, r_jupiter}}) {
    check_in_step(*p, r);
    auto st = status(*p, r);
    CAF_CHECK_EQUAL(st.resyncs, 0u);
    // Only a full snapshot carries the layers; a patch rebuilds the tree.
    auto snap = ask<snapshot_ptr>(*p, r, get_atom::value);
    CAF_CHECK_EQUAL(snap->layers.to_json(), cur->layers.to_json());
    CAF_CHECK_EQUAL(snap->origin, cur->origin);
  }
  CAF_CHECK_EQUAL(status(mars, r_mars).node, "mars");
  CAF_CHECK_EQUAL(status(mars, r_mars).reconnects, 1u); // its own connect
  CAF_CHECK_EQUAL(status(jupiter, r_jupiter).reconnects, 0u); // told to join
  // The listing, asked on earth (a peer that did not prove the secret
  // gets none: cluster_link_test).
  auto infos = ask<std::vector<replica_info>>(earth, primary,
                                              replicas_atom::value);
  CAF_REQUIRE_EQUAL(infos.size(), 2u);
  CAF_CHECK_EQUAL(infos[0].node, "jupiter");
  CAF_CHECK_EQUAL(infos[1].node, "mars");
  for (auto& x : infos) {
    CAF_CHECK_EQUAL(x.state, replica_state::connected);
    CAF_CHECK_EQUAL(x.acked_version, cur->version);
    CAF_CHECK_EQUAL(x.acked_hash, cur->hash);
    CAF_CHECK_EQUAL(x.lag, 0u);
    CAF_CHECK_GREATER(x.last_ack_ms, 0);
  }
  auto err = ask_error<bool>(earth, primary, forget_atom::value,
                             std::string{"mars"});
  CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(errc::invalid_argument));
  CAF_CHECK_EQUAL(earth.sys.render(err),
                  "cfgactors.invalid_argument: replica mars is connected: "
                  "stop it before forgetting it");
  // cfgactors' errors cross the wire with their category and text: `forget`
  // serves the primary's own process only.
  err = ask_error<bool>(jupiter, seen_from_jupiter, forget_atom::value,
                        std::string{"mars"});
  CAF_CHECK_EQUAL(err.category(), errc_category);
  CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(errc::unauthenticated));
  CAF_CHECK_EQUAL(jupiter.sys.render(err),
                  "cfgactors.unauthenticated: forget refused: prove the "
                  "cluster secret first");
}

CAF_TEST(commits stream to every replica in order and one patch each) {
  auto r_mars = connect_replica(mars, "mars");
  auto r_jupiter = connect_replica(jupiter, "jupiter");
  auto mars_log = subscribe(mars, r_mars, "features");
  auto jupiter_log = subscribe(jupiter, r_jupiter, "features");
  std::vector<std::pair<std::string, json>> writes{
    {"features.new_algorithm", true},
    {"limits.rps", 500},
    {"features.beta", true},
    {"limits.rps", 750},
  };
  std::vector<write_result> results;
  for (auto& [path, value] : writes) {
    auto before = primary_current()->version;
    auto f = earth.self->request(pipe.validator, caf::infinite,
                                 write_atom::value, set_request(path, value));
    // Earth commits and sends; the bytes wait at the replicas' doors.
    run_alone(earth);
    std::vector<replicated_change> arrived;
    for (auto [p, r] :
         {std::pair{&mars, r_mars}, std::pair{&jupiter, r_jupiter}}) {
      p->mpx.read_data();
      auto msg = next_message(r);
      CAF_REQUIRE(msg != nullptr);
      CAF_REQUIRE(msg->match_elements<replicated_change>());
      arrived.push_back(msg->get_as<replicated_change>(0));
    }
    run();
    auto res = answer_of<write_result>(earth, f);
    CAF_REQUIRE(res.status == write_status::committed);
    for (auto& m : arrived) {
      CAF_CHECK_EQUAL(m.prev_version, before);
      CAF_CHECK_EQUAL(m.version, res.version);
      CAF_CHECK_EQUAL(m.hash, res.hash);
      CAF_CHECK_EQUAL(m.origin, "test");
      // One patch: the single changed value, not the whole tree.
      CAF_CHECK_EQUAL(m.patch.size(), 1u);
    }
    check_in_step(mars, r_mars);
    check_in_step(jupiter, r_jupiter);
    // No write waits for this version: each replica acks it once its ack
    // delay has passed (its timer), in one ack across the wire.
    CAF_CHECK_EQUAL(info("mars").acked_version, before);
    CAF_CHECK_EQUAL(info("jupiter").acked_version, before);
    fire_timers(mars);
    fire_timers(jupiter);
    CAF_CHECK_EQUAL(info("mars").acked_version, res.version);
    CAF_CHECK_EQUAL(info("jupiter").acked_version, res.version);
    results.push_back(res);
  }
  // Each subscriber saw the two versions that touched `features`, in order.
  for (auto& log : {mars_log, jupiter_log}) {
    CAF_REQUIRE_EQUAL(log->size(), 2u);
    auto& first = log->at(0);
    CAF_CHECK_EQUAL(first.version, results[0].version);
    CAF_CHECK_EQUAL(first.hash, results[0].hash);
    CAF_CHECK_EQUAL(first.paths,
                    std::vector<std::string>{"features.new_algorithm"});
    CAF_CHECK_EQUAL(first.old_value(), json({{"beta", false}}));
    CAF_CHECK_EQUAL(first.new_value(),
                    json({{"beta", false}, {"new_algorithm", true}}));
    CAF_CHECK(!first.stale);
    auto& second = log->at(1);
    CAF_CHECK_EQUAL(second.prev_version, results[0].version);
    CAF_CHECK_EQUAL(second.version, results[2].version);
    CAF_CHECK_EQUAL(second.paths, std::vector<std::string>{"features.beta"});
    CAF_CHECK_EQUAL(second.new_value(),
                    json({{"beta", true}, {"new_algorithm", true}}));
    CAF_CHECK_EQUAL(second.skipped, 0u);
  }
}

CAF_TEST(writes through replicas are committed by the primary) {
  auto r_mars = connect_replica(mars, "mars");
  auto r_jupiter = connect_replica(jupiter, "jupiter");
  // Forwarded to earth's validator, answered after the commit.
  auto res = write(mars, r_mars, set_request("limits.rps", 250));
  CAF_REQUIRE(res.status == write_status::committed);
  auto cur = primary_current();
  CAF_CHECK_EQUAL(res.version, cur->version);
  CAF_CHECK_EQUAL(res.hash, cur->hash);
  CAF_CHECK_EQUAL(cur->effective->at("limits").at("rps"), 250);
  check_in_step(mars, r_mars);
  check_in_step(jupiter, r_jupiter);
  // `all` through a replica: answered once both replicas applied it.
  auto all = write_with(jupiter, r_jupiter, consistency::all,
                        set_request("features.new_algorithm", true));
  CAF_CHECK(all.result.status == write_status::committed);
  CAF_CHECK(all.level == consistency::all);
  CAF_CHECK(all.satisfied);
  CAF_CHECK_EQUAL(all.acked, std::vector<std::string>({"jupiter", "mars"}));
  CAF_CHECK(all.missing.empty());
  CAF_CHECK_EQUAL(status(mars, r_mars).version, all.result.version);
  CAF_CHECK_EQUAL(status(jupiter, r_jupiter).version, all.result.version);
  // And on the primary's node itself.
  auto direct = write_with(earth, primary, consistency::all,
                           set_request("limits.rps", 300));
  CAF_CHECK(direct.satisfied);
  CAF_CHECK_EQUAL(direct.acked, std::vector<std::string>({"jupiter", "mars"}));
  CAF_CHECK_EQUAL(direct.result.version, all.result.version + 1);
  // An invalid write is refused with its reason; no planet changes.
  auto before = primary_current();
  auto bad = write(mars, r_mars, set_request("buffer_size", 5));
  CAF_CHECK(bad.status == write_status::rejected);
  CAF_CHECK(bad.code == errc::validation_failed);
  CAF_REQUIRE_EQUAL(bad.errors.size(), 1u);
  CAF_CHECK_EQUAL(bad.errors[0].path, "buffer_size");
  CAF_CHECK_EQUAL(bad.errors[0].rule, "range");
  auto bad_all = write_with(jupiter, r_jupiter, consistency::all,
                            set_request("buffer_size", 1000000));
  CAF_CHECK(!bad_all.result.ok());
  CAF_REQUIRE_EQUAL(bad_all.result.errors.size(), 1u);
  CAF_CHECK_EQUAL(bad_all.result.errors[0].path, "buffer_size");
  CAF_CHECK(bad_all.acked.empty());
  CAF_CHECK(!bad_all.satisfied);
  auto after = primary_current();
  CAF_CHECK_EQUAL(after->version, before->version);
  CAF_CHECK_EQUAL(after->hash, before->hash);
  CAF_CHECK_EQUAL(after->effective->at("buffer_size"), 1024);
  check_in_step(mars, r_mars);
  check_in_step(jupiter, r_jupiter);
}

CAF_TEST(a replica cut off is missed by writes and stale until it resyncs) {
  auto r_mars = connect_replica(mars, "mars");
  auto r_jupiter = connect_replica(jupiter, "jupiter");
  auto log = subscribe(jupiter, r_jupiter, "");
  auto last_good = write(earth, primary, set_request("limits.rps", 100));
  CAF_REQUIRE(last_good.ok());
  check_in_step(jupiter, r_jupiter);
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  cut(to_jupiter);
  // Each side saw the other go down.
  CAF_CHECK_EQUAL(info("jupiter").state, replica_state::disconnected);
  CAF_CHECK_EQUAL(info("mars").state, replica_state::connected);
  auto st = status(jupiter, r_jupiter);
  CAF_CHECK(st.stale);
  CAF_CHECK(!st.connected);
  CAF_CHECK_EQUAL(st.version, last_good.version);
  CAF_REQUIRE_EQUAL(log->size(), 2u);
  CAF_CHECK(log->at(1).stale);
  CAF_CHECK(log->at(1).paths.empty());
  CAF_CHECK_EQUAL(log->at(1).version, last_good.version);
  // A write through the cut replica has nowhere to go.
  auto err = ask_error<write_result>(jupiter, r_jupiter, write_atom::value,
                                     set_request("limits.rps", 1));
  CAF_CHECK_EQUAL(err.code(), static_cast<uint8_t>(errc::unavailable));
  // `all` waits for jupiter until its timeout fires, then names it missing.
  auto f = earth.self->request(primary, caf::infinite, write_atom::value,
                               set_request("features.new_algorithm", true),
                               consistency::all, uint32_t{1000});
  run();
  CAF_CHECK(!answered(earth));
  CAF_CHECK_GREATER(fire_timers(earth), 0u);
  auto late = answer_of<consistent_write_result>(earth, f);
  CAF_CHECK(late.result.status == write_status::committed);
  CAF_CHECK(!late.satisfied);
  CAF_CHECK_EQUAL(late.acked, std::vector<std::string>({"mars"}));
  CAF_CHECK_EQUAL(late.missing, std::vector<std::string>({"jupiter"}));
  // `majority` (earth and mars of three pipe) needs no wait.
  auto maj = write_with(earth, primary, consistency::majority,
                        set_request("features.rollout", 50), 1000);
  CAF_CHECK(maj.satisfied);
  CAF_CHECK_EQUAL(maj.acked, std::vector<std::string>({"mars"}));
  CAF_CHECK_EQUAL(maj.missing, std::vector<std::string>({"jupiter"}));
  check_in_step(mars, r_mars);
  // Jupiter still serves its last good snapshot.
  auto snap = ask<snapshot_ptr>(jupiter, r_jupiter, get_atom::value);
  CAF_CHECK_EQUAL(snap->version, last_good.version);
  CAF_CHECK_EQUAL(snap->effective->at("limits").at("rps"), 100);
  CAF_CHECK(!snap->effective->at("features").contains("new_algorithm"));
  // Its next retry finds no way through: still stale.
  CAF_CHECK_GREATER(fire_timers(jupiter), 0u);
  st = status(jupiter, r_jupiter);
  CAF_CHECK(st.stale);
  CAF_CHECK_EQUAL(st.reconnects, 1u);
  CAF_CHECK_EQUAL(log->size(), 2u);
  // The network is back: the retry after that connects and says hello.
  to_jupiter = prepare(earth, jupiter, "earth", port, acceptor);
  CAF_CHECK_GREATER(fire_timers(jupiter), 0u);
  st = status(jupiter, r_jupiter);
  CAF_CHECK(!st.stale);
  CAF_CHECK_EQUAL(st.reconnects, 2u);
  CAF_CHECK_EQUAL(st.resyncs, 0u);
  check_in_step(jupiter, r_jupiter);
  auto cur = primary_current();
  auto i = info("jupiter");
  CAF_CHECK_EQUAL(i.state, replica_state::connected);
  CAF_CHECK_EQUAL(i.acked_version, cur->version);
  CAF_CHECK_EQUAL(i.acked_hash, cur->hash);
  // Its subscriber gets the missed versions in one change, no longer stale.
  CAF_REQUIRE_EQUAL(log->size(), 3u);
  auto& back = log->at(2);
  CAF_CHECK(!back.stale);
  CAF_CHECK_EQUAL(back.prev_version, last_good.version);
  CAF_CHECK_EQUAL(back.version, cur->version);
  CAF_CHECK_EQUAL(back.paths,
                  std::vector<std::string>(
                    {"features.new_algorithm", "features.rollout"}));
  // `all` is reached again.
  auto all = write_with(earth, primary, consistency::all,
                        set_request("limits.rps", 200));
  CAF_CHECK(all.satisfied);
  CAF_CHECK_EQUAL(all.acked, std::vector<std::string>({"jupiter", "mars"}));
  check_in_step(jupiter, r_jupiter);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace cluster_io_suite

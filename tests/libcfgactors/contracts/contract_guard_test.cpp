#define CAF_SUITE contract_guard
// Guarded apply: a guard applies each version to a component, checks its
// health and rolls back what fails — deterministic on the test coordinator,
// then once on the real scheduler with the default (detached) guard.
#include "pipeline_fixture.hpp"

#include <atomic>
#include <chrono>
#include <functional>
#include <map>
#include <stdexcept>
#include <thread>

#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "cfgactors/contract_guard.hpp"
#include "log_recorder.hpp"

namespace contract_guard_suite {

using namespace cfgactors;
using namespace cfgactors::test;
using namespace std::chrono_literals;

namespace {

// Compile-time: every kind of writer converts to writer_actor.
[[maybe_unused]] writer_actor from_validator(const validator_actor& x) {
  return x;
}
[[maybe_unused]] writer_actor from_replica(const replica_actor& x) {
  return x;
}
[[maybe_unused]] writer_actor from_primary(const primary_actor& x) {
  return x;
}

/// A database pool as a component: consumes `db`, cannot connect with a
/// pool of 0, does not know the driver "nosuch", and is unhealthy whatever
/// its config while `broken`. Used from one thread only (test coordinator).
struct pool_component : contract {
  std::vector<uint64_t> versions; ///< every version handed to apply
  json config;                    ///< the `db` subtree in effect
  bool broken = false;
  std::function<void()> on_health_check;

  std::string name() const override {
    return "db";
  }

  std::string prefix() const override {
    return "db";
  }

  void apply(const snapshot& snap) override {
    versions.push_back(snap.version);
    auto db = snap.effective->value("db", json::object());
    if (db.value("driver", "") == "nosuch")
      throw std::runtime_error("unknown driver nosuch");
    config = std::move(db);
  }

  std::optional<std::string> health_check() override {
    if (on_health_check)
      on_health_check();
    if (broken)
      return "database unreachable";
    if (config.value("pool", 1) == 0)
      return "pool of 0 connections";
    return std::nullopt;
  }
};

json base_config() {
  return json{{"db", {{"host", "db1"}, {"pool", 4}}},
              {"features", {{"new_algorithm", false}}}};
}

struct fixture : log_recorder, pipeline_fixture {
  std::shared_ptr<pool_component> db = std::make_shared<pool_component>();
  contract_guard_actor guard;

  fixture() {
    auto res = write(operation::replace_layer("file:app.yaml", base_config()));
    CAF_REQUIRE_EQUAL(res.version, 1u);
  }

  ~fixture() {
    if (guard)
      caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
    run();
  }

  void start_guard() {
    guard_options opts;
    opts.detached = false;
    guard = spawn_contract_guard(sys, db, pipe.store, pipe.validator, opts);
    run();
  }

  guard_stats stats() {
    guard_stats result;
    auto f = self->request(guard, caf::infinite, stats_atom::value);
    run();
    f.receive([&](guard_stats& x) { result = x; },
              [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return result;
  }

  snapshot_ptr version(uint64_t v) {
    auto snap = store_st().versions.find(v);
    CAF_REQUIRE(snap != nullptr);
    return snap;
  }
};

// -- a store and a writer made by hand, to hand the guard any history -------

struct fake_backend {
  std::map<uint64_t, snapshot_ptr> versions;
  uint64_t current = 0;
  subscriber_actor subscriber;
  std::vector<write_request> writes;
};

using backend_ptr = std::shared_ptr<fake_backend>;

store_actor::behavior_type fake_store(store_actor::pointer, backend_ptr b) {
  auto refuse = [] { return make_error(errc::invalid_argument, "fake"); };
  return {
    [b](subscribe_atom, std::string&, subscriber_actor& sub) -> uint64_t {
      b->subscriber = sub;
      return 1;
    },
    [b](subscribe_atom, std::string&, subscriber_actor& sub,
        every_version_atom) -> uint64_t {
      b->subscriber = sub;
      return 1;
    },
    [b](subscribe_atom, std::string&, subscriber_actor& sub,
        delivery) -> uint64_t {
      b->subscriber = sub;
      return 1;
    },
    [b](get_atom) { return b->versions.at(b->current); },
    [b](get_atom, uint64_t v) -> caf::result<snapshot_ptr> {
      auto i = b->versions.find(v);
      if (i == b->versions.end())
        return make_error(errc::not_found, "version " + std::to_string(v));
      return i->second;
    },
    [refuse](diff_atom, uint64_t, uint64_t) -> caf::result<diff_result> {
      return refuse();
    },
    [refuse](history_atom, uint64_t,
             uint32_t) -> caf::result<std::vector<version_info>> {
      return refuse();
    },
  };
}

writer_actor::behavior_type fake_writer(writer_actor::pointer, backend_ptr b) {
  return {
    [b](write_atom, write_request& req) {
      b->writes.push_back(req);
      return write_result{write_status::committed, 10, "h", errc::none, {}, {}};
    },
  };
}

snapshot_ptr db_version(uint64_t version, json db) {
  return snapshot::make(version, "test", layer_stack{},
                        json{{"db", std::move(db)}}, 0);
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(contract_guard_tests, fixture)

CAF_TEST(the guard applies the current version and each one under its prefix) {
  start_guard();
  CAF_CHECK_EQUAL(db->versions, std::vector<uint64_t>{1});
  CAF_CHECK_EQUAL(set("features.new_algorithm", true).version, 2u);
  CAF_CHECK_EQUAL(set("db.pool", 8).version, 3u);
  CAF_CHECK_EQUAL(db->versions, (std::vector<uint64_t>{1, 3}));
  CAF_CHECK_EQUAL(db->config["pool"], 8);
  auto st = stats();
  CAF_CHECK_EQUAL(st.applied, 2u);
  CAF_CHECK_EQUAL(st.version, 3u);
  CAF_CHECK(st.healthy);
  CAF_CHECK_EQUAL(st.rollbacks + st.health_failures + st.apply_failures, 0u);
  CAF_CHECK_EQUAL(current()->version, 3u);
}

CAF_TEST(a failed health check rolls back to the version before the bad one) {
  start_guard();
  // A write elsewhere, which the guard does not see, then a bad pool size.
  CAF_REQUIRE_EQUAL(set("features.new_algorithm", true).version, 2u);
  auto bad = set("db.pool", 0);
  CAF_REQUIRE_EQUAL(bad.status, write_status::committed);
  CAF_REQUIRE_EQUAL(bad.version, 3u);
  // The rollback is version 4, with version 2's content: the write to
  // another subtree stays.
  auto now = current();
  CAF_CHECK_EQUAL(now->version, 4u);
  // A rollback is named for its target; the guard is its author.
  CAF_CHECK_EQUAL(now->origin, "rollback:2");
  CAF_CHECK_EQUAL(now->author, "contract:db");
  CAF_CHECK_EQUAL(*now->effective, *version(2)->effective);
  CAF_CHECK_EQUAL(now->hash, version(2)->hash);
  CAF_CHECK_EQUAL((*now->effective)["features"]["new_algorithm"], true);
  // The component got the bad version, then the rollback.
  CAF_CHECK_EQUAL(db->versions, (std::vector<uint64_t>{1, 3, 4}));
  CAF_CHECK_EQUAL(db->config["pool"], 4);
  auto st = stats();
  CAF_CHECK_EQUAL(st.health_failures, 1u);
  CAF_CHECK_EQUAL(st.rollbacks, 1u);
  CAF_CHECK_EQUAL(st.applied, 2u);
  CAF_CHECK_EQUAL(st.degraded, 0u);
  CAF_CHECK_EQUAL(st.version, 4u);
  CAF_CHECK(st.healthy);
  CAF_CHECK_EQUAL(lines_with("event=contract_rollback ").size(), 1u);
  CAF_CHECK(contains("error event=contract_rollback contract=db version=3 "
                     "to=2 reason=\"health check failed: pool of 0 "
                     "connections\""));
  CAF_CHECK(contains("event=contract_rollback_committed contract=db "
                     "version=4 restores=2"));
  CAF_CHECK(contains("event=contract_rollback_applied contract=db "
                     "version=4"));
}

CAF_TEST(an apply that throws rolls back the same way) {
  start_guard();
  auto bad = set("db.driver", "nosuch");
  CAF_REQUIRE_EQUAL(bad.version, 2u);
  CAF_CHECK_EQUAL(current()->version, 3u);
  CAF_CHECK_EQUAL(*current()->effective, *version(1)->effective);
  auto st = stats();
  CAF_CHECK_EQUAL(st.apply_failures, 1u);
  CAF_CHECK_EQUAL(st.health_failures, 0u);
  CAF_CHECK_EQUAL(st.rollbacks, 1u);
  CAF_CHECK(st.healthy);
  CAF_CHECK(contains("error event=contract_rollback contract=db version=2 "
                     "to=1 reason=\"apply threw: unknown driver nosuch\""));
}

CAF_TEST(a rolled-back version that fails too stays without another rollback) {
  start_guard();
  CAF_REQUIRE_EQUAL(set("db.pool", 8).version, 2u);
  db->broken = true; // from now on, no config is healthy
  CAF_REQUIRE_EQUAL(set("db.pool", 16).version, 3u);
  // One rollback (version 4 = version 2), which fails too: no second one.
  CAF_CHECK_EQUAL(current()->version, 4u);
  CAF_CHECK_EQUAL(*current()->effective, *version(2)->effective);
  auto st = stats();
  CAF_CHECK_EQUAL(st.health_failures, 2u);
  CAF_CHECK_EQUAL(st.rollbacks, 1u);
  CAF_CHECK_EQUAL(st.degraded, 1u);
  CAF_CHECK(!st.healthy);
  CAF_CHECK(contains("error event=contract_degraded contract=db version=4 "
                     "reason=\"health check failed: database unreachable\" "
                     "why=\"the rolled-back configuration fails too; not "
                     "rolling back again\""));
  // A later write while it is still broken is left in effect as well: an
  // operator's fix is not undone because the outage goes on.
  CAF_REQUIRE_EQUAL(set("db.pool", 32).version, 5u);
  CAF_CHECK_EQUAL(current()->version, 5u);
  st = stats();
  CAF_CHECK_EQUAL(st.rollbacks, 1u);
  CAF_CHECK_EQUAL(st.degraded, 2u);
  CAF_CHECK(contains("why=\"the version before failed too; nothing healthy "
                     "to roll back to\""));
  // Once healthy again, the next version ends the degraded state.
  db->broken = false;
  CAF_REQUIRE_EQUAL(set("db.pool", 64).version, 6u);
  st = stats();
  CAF_CHECK(st.healthy);
  CAF_CHECK_EQUAL(st.version, 6u);
  CAF_CHECK_EQUAL(st.rollbacks, 1u);
  CAF_CHECK(contains("info event=contract_recovered contract=db version=6"));
  CAF_CHECK_EQUAL(current()->version, 6u);
}

CAF_TEST(a newer write before the rollback wins and the rollback is logged) {
  start_guard();
  // While the guard checks the bad version, an operator writes a fix: it
  // reaches the validator before the guard's rollback does.
  auto fixed = false;
  db->on_health_check = [&] {
    if (db->config.value("pool", 1) == 0 && !fixed) {
      fixed = true;
      caf::anon_send(pipe.validator, write_atom::value,
                     write_request{{operation::set("db.pool", 2)}, "operator",
                                   0, {}});
    }
  };
  auto bad = set("db.pool", 0);
  CAF_REQUIRE_EQUAL(bad.version, 2u);
  CAF_CHECK(fixed);
  // The fix is version 3 and stays; the rollback expected version 2.
  CAF_CHECK_EQUAL(current()->version, 3u);
  CAF_CHECK_EQUAL(current()->origin, "operator");
  CAF_CHECK_EQUAL((*current()->effective)["db"]["pool"], 2);
  auto st = stats();
  CAF_CHECK_EQUAL(st.rollbacks, 0u);
  CAF_CHECK_EQUAL(st.rollback_failures, 1u);
  CAF_CHECK_EQUAL(st.version, 3u);
  CAF_CHECK(st.healthy);
  CAF_CHECK(contains("error event=contract_rollback contract=db version=2 "
                     "to=1"));
  CAF_CHECK(contains("warning event=contract_rollback_conflict contract=db "
                     "version=2 current=3"));
  CAF_CHECK(contains("info event=contract_recovered contract=db version=3"));
  CAF_CHECK_EQUAL(validator_st().stats.failures_by_rule.at("version"), 1u);
}

CAF_TEST(a first version that fails is left in effect with nothing to undo) {
  CAF_REQUIRE_EQUAL(set("db.pool", 0).version, 2u);
  start_guard();
  CAF_CHECK_EQUAL(db->versions, std::vector<uint64_t>{2});
  CAF_CHECK_EQUAL(current()->version, 2u);
  auto st = stats();
  CAF_CHECK_EQUAL(st.health_failures, 1u);
  CAF_CHECK_EQUAL(st.degraded, 1u);
  CAF_CHECK_EQUAL(st.rollbacks, 0u);
  CAF_CHECK(!st.healthy);
  CAF_CHECK(contains("error event=contract_degraded contract=db version=2 "
                     "reason=\"health check failed: pool of 0 connections\" "
                     "why=\"no version passed before; nothing to roll back "
                     "to\""));
}

CAF_TEST(the rollback target is what the component last ran healthily) {
  // The guard ran version 5 and gets version 9 without seeing 6 to 8 (a
  // conflated change, or a replica that caught up in one step). Version 8
  // is the rollback target only if it holds what version 5 held under the
  // prefix.
  struct scenario {
    const char* what;
    std::optional<json> db8; ///< nullopt: version 8 is not in the history
    uint64_t expected_target;
  };
  std::vector<scenario> scenarios{
    {"8 differs under the prefix", json{{"pool", 1}}, 5},
    {"8 equals 5 under the prefix", json{{"pool", 4}}, 8},
    {"8 is unknown", std::nullopt, 5},
  };
  for (auto& x : scenarios) {
    CAF_MESSAGE(x.what);
    auto b = std::make_shared<fake_backend>();
    b->versions[5] = db_version(5, {{"pool", 4}});
    if (x.db8)
      b->versions[8] = db_version(8, *x.db8);
    b->versions[9] = db_version(9, {{"pool", 0}});
    b->current = 5;
    auto component = std::make_shared<pool_component>();
    guard_options opts;
    opts.detached = false;
    auto store = sys.spawn(fake_store, b);
    auto writer = sys.spawn(fake_writer, b);
    auto g = spawn_contract_guard(sys, component, store, writer, opts);
    run();
    CAF_REQUIRE(b->subscriber);
    CAF_CHECK_EQUAL(component->versions, std::vector<uint64_t>{5});
    change msg;
    msg.prefix = "db";
    msg.version = 9;
    msg.prev_version = 5;
    msg.hash = b->versions[9]->hash;
    msg.paths = {"db.pool"};
    msg.before = b->versions[5];
    msg.after = b->versions[9];
    self->send(b->subscriber, std::move(msg));
    run();
    CAF_REQUIRE_EQUAL(b->writes.size(), 1u);
    auto& req = b->writes[0];
    CAF_REQUIRE_EQUAL(req.ops.size(), 1u);
    CAF_CHECK_EQUAL(req.ops[0].kind, op_kind::rollback);
    CAF_CHECK_EQUAL(req.ops[0].version, x.expected_target);
    CAF_CHECK_EQUAL(req.expected_version, 9u);
    CAF_CHECK_EQUAL(req.origin, "contract:db");
    CAF_CHECK_EQUAL(req.author, "contract:db");
    for (auto& hdl : {caf::actor_cast<caf::actor>(g),
                      caf::actor_cast<caf::actor>(store),
                      caf::actor_cast<caf::actor>(writer)})
      caf::anon_send_exit(hdl, caf::exit_reason::user_shutdown);
    run();
  }
}

CAF_TEST(the guard stops on an exit message and leaves the router) {
  start_guard();
  CAF_CHECK_EQUAL(router_st().subscriptions.size(), 1u);
  caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
  run();
  CAF_CHECK_EQUAL(router_st().subscriptions.size(), 0u);
  // Writes go on without it.
  CAF_CHECK_EQUAL(set("db.pool", 0).version, 2u);
  CAF_CHECK_EQUAL(current()->version, 2u);
  CAF_CHECK_EQUAL(db->versions, std::vector<uint64_t>{1});
  guard = nullptr;
}

CAF_TEST(guard counters survive serialization) {
  guard_stats x{1, 2, 3, 4, 5, 6, 7, true};
  std::vector<char> buf;
  caf::binary_serializer out{sys, buf};
  auto msg = caf::make_message(x);
  CAF_REQUIRE(!out(msg));
  caf::message copy;
  caf::binary_deserializer in{sys, buf};
  CAF_REQUIRE(!in(copy));
  CAF_REQUIRE(copy.match_elements<guard_stats>());
  CAF_CHECK_EQUAL(copy.get_as<guard_stats>(0), x);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- the default guard, detached, on the real scheduler ------------------------

namespace {

system_config& threads(system_config& cfg) {
  cfg.set("scheduler.max-threads", 4);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

struct real_fixture {
  log_recorder logs;
  system_config cfg;
  caf::actor_system sys{threads(cfg)};
  caf::scoped_actor self{sys};
  pipeline pipe = spawn_pipeline(sys, {});

  ~real_fixture() {
    shutdown(pipe);
  }

  write_result write(operation op) {
    write_result result;
    self
      ->request(pipe.validator, 30s, write_atom::value,
                write_request{{std::move(op)}, "test", 0, {}})
      .receive([&](write_result& r) { result = std::move(r); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  template <class T, class Handle, class... Ts>
  T ask(const Handle& hdl, const Ts&... xs) {
    T result;
    self->request(hdl, 30s, xs...)
      .receive([&](T& x) { result = std::move(x); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  /// Polls the guard's counters until `pred` holds (or 20 s passed).
  guard_stats wait_for(const contract_guard_actor& guard,
                       std::function<bool(const guard_stats&)> pred) {
    auto deadline = std::chrono::steady_clock::now() + 20s;
    auto st = ask<guard_stats>(guard, stats_atom::value);
    while (!pred(st) && std::chrono::steady_clock::now() < deadline) {
      std::this_thread::sleep_for(5ms);
      st = ask<guard_stats>(guard, stats_atom::value);
    }
    return st;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(contract_guard_real_tests, real_fixture)

CAF_TEST(a detached guard rolls back a version its component finds unhealthy) {
  CAF_REQUIRE_EQUAL(write(operation::replace_layer("file:app.yaml",
                                                   base_config()))
                      .version,
                    1u);
  // The health check runs on the guard's own thread: it may block, as a
  // real probe would.
  auto pool = std::make_shared<std::atomic<int>>(-1);
  auto component = make_contract("pool")
                     .prefix("db")
                     .apply([pool](const snapshot& snap) {
                       *pool = (*snap.effective)["db"].value("pool", -1);
                     })
                     .health([pool]() -> std::optional<std::string> {
                       std::this_thread::sleep_for(1ms);
                       if (*pool == 0)
                         return "pool of 0 connections";
                       return std::nullopt;
                     })
                     .build();
  auto guard = spawn_contract_guard(sys, component, pipe.store,
                                    pipe.validator);
  auto st = wait_for(guard, [](auto& x) { return x.version == 1; });
  CAF_REQUIRE_EQUAL(st.version, 1u);
  CAF_REQUIRE_EQUAL(write(operation::set("db.pool", 0)).version, 2u);
  st = wait_for(guard, [](auto& x) { return x.version == 3; });
  CAF_CHECK_EQUAL(st.health_failures, 1u);
  CAF_CHECK_EQUAL(st.rollbacks, 1u);
  CAF_CHECK(st.healthy);
  auto now = ask<snapshot_ptr>(pipe.store, get_atom::value);
  auto first = ask<snapshot_ptr>(pipe.store, get_atom::value, uint64_t{1});
  CAF_CHECK_EQUAL(now->version, 3u);
  CAF_CHECK_EQUAL(*now->effective, *first->effective);
  CAF_CHECK(logs.contains("event=contract_rollback contract=pool version=2 "
                          "to=1 reason=\"health check failed: pool of 0 "
                          "connections\""));
  caf::anon_send_exit(guard, caf::exit_reason::user_shutdown);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace contract_guard_suite

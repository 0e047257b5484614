#define CAF_SUITE cluster
// Primary and replicas in one deterministic system: join, stream, resync,
// forwarded writes and write consistency.
#include "pipeline_fixture.hpp"
#include "model/config_tree.hpp"

#include <random>

#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/hash.hpp"
#include "link_probe.hpp"
#include "watched_join.hpp"

#include <optional>

namespace cluster_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

struct fixture : pipeline_fixture {
  primary_actor primary;

  static pipeline_options small_history() {
    pipeline_options opts;
    opts.storage.history_size = 3;
    return opts;
  }

  fixture() : pipeline_fixture(small_history()) {
    primary_options popts;
    popts.write_timeout = std::chrono::seconds{2};
    popts.forget_after = std::chrono::milliseconds{0}; // tests fire timeouts
    primary = spawn_primary(sys, pipe.store, pipe.validator, popts);
    run();
  }

  ~fixture() {
    for (auto& p : probes)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
    run();
  }

  replica_actor join(std::string node, size_t history_size = 0) {
    replica_options opts;
    opts.node = std::move(node);
    if (history_size > 0)
      opts.history_size = history_size;
    auto r = spawn_replica(sys, opts);
    self->send(r, join_atom::value, primary);
    run();
    return r;
  }

  /// Joins a replica and learns the session of its handshake from the proof
  /// it sends (the test plays a primary that forges stream messages).
  std::pair<replica_actor, std::string> join_seen(std::string node) {
    replica_options opts;
    opts.node = std::move(node);
    auto r = spawn_replica(sys, opts);
    return {r, test::watched_join(self, sched, r, primary, "",
                                  [this] { run(); })};
  }

  /// Sends `m` to `r` as if the primary streamed it, signed with `session`.
  void stream_as_primary(const replica_actor& r, const std::string& session,
                         replicated_change m) {
    m.mac = detail::stream_mac(session, m);
    caf::send_as(caf::actor_cast<caf::actor>(primary), r, std::move(m));
  }

  replica_status status(const replica_actor& r) {
    return ask<replica_status>(r, status_atom::value);
  }

  std::vector<replica_info> infos() {
    return ask<std::vector<replica_info>>(primary, replicas_atom::value);
  }

  replica_info info(const std::string& node) {
    for (auto& x : infos())
      if (x.node == node)
        return x;
    CAF_FAIL("no replica named " << node);
    return {};
  }

  /// Sends `h` to the primary as if the probe's replica said it, after the
  /// probe passed the handshake as `h.node`.
  link_log_ptr hello_from_probe(hello h) {
    auto log = std::make_shared<link_log>();
    auto p = sys.spawn(link_probe, log);
    // Messages only: run() would also fire the handshake timeout.
    auto hs = handshake(p, *log, primary, h.node, "", [this] { sched.run(); });
    CAF_REQUIRE(!hs.session.empty());
    h.session = hs.session;
    caf::send_as(p, primary, std::move(h));
    run();
    probes.push_back(p);
    return log;
  }

  consistent_write_result write_with(const primary_actor& dest_primary,
                                     consistency level, std::string path,
                                     json value) {
    write_request req{{operation::set(std::move(path), std::move(value))},
                      "test", 0, {}};
    return ask<consistent_write_result>(dest_primary, write_atom::value,
                                        std::move(req), level, uint32_t{0});
  }

  std::vector<caf::actor> probes;
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_tests, fixture)

CAF_TEST(a replica joining at version 0 gets a full snapshot) {
  set("a", 1);
  set("b", "x");
  auto log = hello_from_probe(hello{"p", 0, "", "", {}, false});
  CAF_REQUIRE_EQUAL(log->snapshots.size(), 1u);
  CAF_CHECK(log->changes.empty());
  auto& s = log->snapshots.front();
  CAF_CHECK_EQUAL(s.version, current()->version);
  CAF_CHECK_EQUAL(s.hash, current()->hash);
  CAF_CHECK_EQUAL(s.effective, *current()->effective);
  CAF_CHECK_EQUAL(s.layers, current()->layers.to_json());
}

CAF_TEST(a replica with a version still in history gets one patch) {
  set("a", 1);
  auto v1 = current();
  set("a", 2);
  set("b", true);
  auto log = hello_from_probe(hello{"p", v1->version, v1->hash, "", {}, false});
  CAF_CHECK(log->snapshots.empty());
  CAF_REQUIRE_EQUAL(log->changes.size(), 1u);
  auto m = log->changes.front(); // a copy: the log grows below
  CAF_CHECK_EQUAL(m.prev_version, v1->version);
  CAF_CHECK_EQUAL(m.version, current()->version);
  CAF_CHECK_EQUAL(m.hash, current()->hash);
  CAF_CHECK_EQUAL(v1->effective->patch(m.patch), *current()->effective);
  // From now on the probe is in the stream.
  set("c", 3);
  CAF_REQUIRE_EQUAL(log->changes.size(), 2u);
  CAF_CHECK_EQUAL(log->changes[1].prev_version, m.version);
  CAF_CHECK_EQUAL(log->changes[1].version, current()->version);
}

CAF_TEST(a replica that is up to date gets a confirmation) {
  set("a", 1);
  auto log = hello_from_probe(hello{"p", current()->version, current()->hash, "", {}, false});
  CAF_REQUIRE_EQUAL(log->changes.size(), 1u);
  CAF_CHECK_EQUAL(log->changes[0].version, log->changes[0].prev_version);
  CAF_CHECK(log->changes[0].patch.empty());
}

CAF_TEST(a version gone from history or a foreign hash gets a full snapshot) {
  set("a", 1);
  auto v1 = current();
  for (int i = 2; i < 8; ++i)
    set("a", i); // history_size 3: v1 is gone
  auto gone = hello_from_probe(hello{"p", v1->version, v1->hash, "", {}, false});
  CAF_CHECK_EQUAL(gone->snapshots.size(), 1u);
  CAF_CHECK(gone->changes.empty());
  auto& versions = store_st().versions;
  auto prev = versions.find(versions.oldest_version());
  auto foreign = hello_from_probe(hello{"q", prev->version, "not-the-hash", "", {}, false});
  CAF_CHECK_EQUAL(foreign->snapshots.size(), 1u);
  CAF_CHECK(foreign->changes.empty());
  auto ahead = hello_from_probe(hello{"s", 1000, "x", "", {}, false});
  CAF_CHECK_EQUAL(ahead->snapshots.size(), 1u);
}

CAF_TEST(a replica mirrors the primary and its subscribers see changes) {
  set("a", 1);
  auto r = join("r1");
  auto log = std::make_shared<std::vector<change>>();
  ask<uint64_t>(r, subscribe_atom::value, std::string{"features"},
                caf::actor_cast<subscriber_actor>(sys.spawn(recorder, log)));
  auto st = status(r);
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(st.hash, current()->hash);
  CAF_CHECK(st.connected);
  CAF_CHECK(!st.stale);
  set("features.new_algorithm", true);
  set("other", 5);
  st = status(r);
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(st.hash, current()->hash);
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  CAF_CHECK_EQUAL(log->at(0).new_value(), json({{"new_algorithm", true}}));
  CAF_CHECK_EQUAL(log->at(0).version, current()->version - 1);
  // The read interface answers from the replica's own history.
  auto snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(*snap->effective, *current()->effective);
  auto d = ask<diff_result>(r, diff_atom::value, current()->version - 1,
                            current()->version);
  CAF_CHECK_EQUAL(d.view, json::parse(R"({"other":{"added":5}})"));
  auto rows = ask<std::vector<version_info>>(r, history_atom::value,
                                             uint64_t{0}, uint32_t{10});
  CAF_CHECK_EQUAL(rows.front().version, current()->version);
  // Acks reached the primary.
  auto i = info("r1");
  CAF_CHECK_EQUAL(i.state, replica_state::connected);
  CAF_CHECK_EQUAL(i.acked_version, current()->version);
  CAF_CHECK_EQUAL(i.acked_hash, current()->hash);
  CAF_CHECK_EQUAL(i.lag, 0u);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a replica history shows the author and reason of each version) {
  auto by = [&](std::string path, json value, std::string author,
                std::string reason) {
    write_request req{{operation::set(std::move(path), std::move(value))},
                      "api:" + author, 0, {}};
    req.author = std::move(author);
    req.reason = std::move(reason);
    return req;
  };
  CAF_REQUIRE(write(by("a", 1, "alice", "first")).ok());
  // Joined at version 0: the full snapshot carries them.
  auto r = join("r1");
  CAF_REQUIRE_EQUAL(status(r).version, current()->version);
  auto snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(snap->author, "alice");
  CAF_CHECK_EQUAL(snap->reason, "first");
  // Streamed as a patch, and forwarded by the replica itself.
  CAF_REQUIRE(write(by("a", 2, "bob", "second")).ok());
  auto res = ask<write_result>(r, write_atom::value,
                               by("a", 3, "carol", "through the replica"));
  CAF_REQUIRE(res.ok());
  CAF_CHECK_EQUAL(current()->author, "carol");
  // The relay shows in the origin, never in the author.
  CAF_CHECK_EQUAL(current()->origin, "api:carol via r1");
  CAF_REQUIRE_EQUAL(status(r).version, current()->version);
  auto rows = ask<std::vector<version_info>>(r, history_atom::value,
                                             uint64_t{0}, uint32_t{3});
  CAF_REQUIRE_EQUAL(rows.size(), 3u);
  CAF_CHECK_EQUAL(rows[0].author, "carol");
  CAF_CHECK_EQUAL(rows[0].reason, "through the replica");
  CAF_CHECK_EQUAL(rows[1].author, "bob");
  CAF_CHECK_EQUAL(rows[1].reason, "second");
  CAF_CHECK_EQUAL(rows[2].author, "alice");
  CAF_CHECK_EQUAL(rows[2].reason, "first");
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a replica builds each version in the tree of an older one) {
  // Two versions of history: from the third on, every version is built in
  // a tree the replica let go of and brought up along the paths changed
  // since. The hash is checked along the changed paths only, so compare the
  // whole trees.
  auto r = join("r1", 2);
  std::mt19937 rng{1206};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const char* keys[] = {"a", "b", "c"};
  size_t compared = 0;
  for (int i = 0; i < 150; ++i) {
    std::string path = keys[pick(3)];
    for (int depth = pick(3); depth > 0; --depth)
      path += std::string{"."} + keys[pick(3)];
    switch (pick(5)) {
      case 0:
        write(operation::unset(path));
        break;
      case 1:
        write(operation::merge_patch(json{{keys[pick(3)], nullptr},
                                          {keys[pick(3)], {{"x", i}}}}));
        break;
      default:
        set(path, i % 4 == 0 ? json{{"x", i}} : json(i));
    }
    if (i % 10 == 9) {
      auto snap = ask<snapshot_ptr>(r, get_atom::value);
      CAF_CHECK_EQUAL(snap->version, current()->version);
      CAF_CHECK_EQUAL(*snap->effective, *current()->effective);
      ++compared;
    }
  }
  CAF_CHECK_GREATER(current()->version, 100u);
  CAF_CHECK_EQUAL(compared, 15u);
  CAF_CHECK_EQUAL(status(r).resyncs, 0u);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(the versions of a replica share what their patches left alone) {
  auto r = join("r1", 2);
  for (int i = 0; i < 50; ++i)
    CAF_CHECK_EQUAL(set("s" + std::to_string(i) + ".k", i).status,
                    write_status::committed);
  auto before = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(set("s7.k", 700).status, write_status::committed);
  auto after = ask<snapshot_ptr>(r, get_atom::value);
  CAF_REQUIRE_EQUAL(after->version, before->version + 1);
  CAF_CHECK_EQUAL(*after->effective, *current()->effective);
  // The patch's path is made again, every other section is the very node
  // the version before holds.
  auto& x = *before->effective.tree();
  auto& y = *after->effective.tree();
  CAF_CHECK_EQUAL(x.member("s8"), y.member("s8"));
  CAF_CHECK_EQUAL(x.member("s49"), y.member("s49"));
  CAF_CHECK_NOT_EQUAL(x.member("s7"), y.member("s7"));
  CAF_CHECK_EQUAL(x.member("s7")->member("k")->scalar(), json(7));
  CAF_CHECK_EQUAL(y.member("s7")->member("k")->scalar(), json(700));
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(one-key writes to a large config are never made JSON whole) {
  // 10,000 values; subscribers on the primary and on a replica read the
  // values they subscribed to; a reader compiles the flags. Validator,
  // store, router, primary and replica pass each version on as a tree:
  // none of them makes the config's JSON.
  auto cfg = json::object();
  for (int i = 0; i < 10000; ++i)
    cfg["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  cfg["features"]["f"] = true;
  CAF_REQUIRE_EQUAL(write(operation::replace_layer("file:big.yaml", cfg))
                      .status,
                    write_status::committed);
  auto r = join("r1");
  auto here = subscribe("s7");
  auto there = std::make_shared<std::vector<change>>();
  ask<uint64_t>(r, subscribe_atom::value, std::string{"s7"},
                caf::actor_cast<subscriber_actor>(sys.spawn(recorder, there)));
  auto before = detail::whole_jsons_made();
  for (int i = 1; i <= 20; ++i)
    CAF_CHECK_EQUAL(set("s7.k3", -i).status, write_status::committed);
  CAF_REQUIRE_EQUAL(here->size(), 20u);
  CAF_REQUIRE_EQUAL(there->size(), 20u);
  CAF_CHECK_EQUAL(here->back().new_value()["k3"], -20);
  CAF_CHECK_EQUAL(there->back().new_value()["k3"], -20);
  CAF_CHECK_EQUAL(there->back().old_value()["k3"], -19);
  CAF_CHECK(feature_flags{current()}.enabled("f", {}, false));
  auto got = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(got->hash, current()->hash);
  CAF_CHECK_EQUAL(detail::whole_jsons_made(), before);
  // A reader of the whole config makes it, once per version.
  CAF_CHECK_EQUAL((*got->effective)["s7"]["k3"], -20);
  CAF_CHECK_EQUAL(detail::whole_jsons_made(), before + 1);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a replica refuses commits and forwards writes to the primary) {
  auto r = join("r1");
  write_request req{{operation::set("x", 7)}, "replica-user", 0, {}};
  auto res = ask<write_result>(r, write_atom::value, req);
  CAF_CHECK(res.status == write_status::committed);
  CAF_CHECK_EQUAL(current()->effective->at("x"), 7);
  CAF_CHECK_EQUAL(status(r).version, res.version);
  // Its interface has no commit: sent untyped, as a stray peer could.
  auto f = self->request(caf::actor_cast<caf::actor>(r), caf::infinite,
                         commit_atom::value,
                         commit_request{{}, layer_data{json::object()}, "x", nullptr, 0, 0, {},
                                        {}, {}, nullptr, 0});
  run();
  bool refused = false;
  f.receive([](snapshot_ptr&) {}, [&](caf::error&) { refused = true; });
  CAF_CHECK(refused);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a gap in the stream makes the replica ask for a full snapshot) {
  set("a", 1);
  auto [r, session] = join_seen("r1");
  auto have = status(r).version;
  // A change that does not follow what the replica has.
  replicated_change m{have + 5, have + 4, "h", 0, "x",
                      json::parse(R"([{"op":"add","path":"/z","value":1}])"),
                      false, {}, {}, 0, {}, {}, {}, {}};
  stream_as_primary(r, session, m);
  run();
  auto st = status(r);
  CAF_CHECK_EQUAL(st.resyncs, 1u);
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(st.hash, current()->hash);
  CAF_CHECK(st.connected);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a hash mismatch makes the replica ask for a full snapshot) {
  set("a", 1);
  auto [r, session] = join_seen("r1");
  auto have = status(r);
  replicated_change m{have.version + 1, have.version, std::string(64, '0'), 0,
                      "x",
                      json::parse(R"([{"op":"add","path":"/z","value":1}])"),
                      false, {}, {}, 0, {}, {}, {}, {}};
  // Unsigned, it is not even looked at.
  caf::send_as(caf::actor_cast<caf::actor>(primary), r, m);
  run();
  CAF_CHECK_EQUAL(status(r).resyncs, 0u);
  stream_as_primary(r, session, m);
  run();
  auto st = status(r);
  CAF_CHECK_EQUAL(st.resyncs, 1u);
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(st.hash, current()->hash);
  auto snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK(!snap->effective->contains("z"));
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(consistency all waits for every replica and names the missing) {
  auto r1 = join("r1");
  auto r2 = join("r2");
  auto r3 = join("r3");
  auto res = write_with(primary, consistency::all, "features.new_algorithm",
                        true);
  CAF_CHECK(res.satisfied);
  CAF_CHECK_EQUAL(res.acked, std::vector<std::string>({"r1", "r2", "r3"}));
  CAF_CHECK(res.missing.empty());
  CAF_CHECK(res.result.status == write_status::committed);
  // One replica dies: `all` cannot be reached, `majority` can.
  caf::anon_send_exit(r3, caf::exit_reason::kill);
  run();
  CAF_CHECK_EQUAL(info("r3").state, replica_state::disconnected);
  write_request req{{operation::set("a", 2)}, "test", 0, {}};
  auto f = self->request(primary, caf::infinite, write_atom::value, req,
                         consistency::all, uint32_t{1000});
  run();
  sched.trigger_timeouts();
  run();
  consistent_write_result late;
  f.receive([&](consistent_write_result& x) { late = std::move(x); },
            [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK(!late.satisfied);
  CAF_CHECK(late.result.ok());
  CAF_CHECK_EQUAL(late.acked, std::vector<std::string>({"r1", "r2"}));
  CAF_CHECK_EQUAL(late.missing, std::vector<std::string>({"r3"}));
  auto maj = write_with(primary, consistency::majority, "a", 3);
  CAF_CHECK(maj.satisfied);
  CAF_CHECK_EQUAL(maj.missing, std::vector<std::string>({"r3"}));
  // Through a replica, the same.
  auto via = write_with(caf::actor_cast<primary_actor>(r1), consistency::local,
                        "a", 4);
  CAF_CHECK(via.satisfied);
  CAF_CHECK(via.acked.empty());
  // A rejected write is answered at once, not waited for.
  write_request bad{{operation::set("a..b", 1)}, "test", 0, {}};
  auto rej = ask<consistent_write_result>(primary, write_atom::value, bad,
                                          consistency::all, uint32_t{0});
  CAF_CHECK(!rej.result.ok());
  CAF_CHECK(!rej.satisfied);
  CAF_CHECK(rej.acked.empty());
  for (auto& r : {r1, r2})
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(versions nobody waits for are acked after the delay and at once) {
  auto r = join("r1");
  auto base = current()->version;
  CAF_REQUIRE_EQUAL(info("r1").acked_version, base);
  // Messages only, no timer fires: the replica applies three versions and
  // has not acked them yet.
  auto quiet = [&](std::string path, json value) {
    write_request req{{operation::set(std::move(path), std::move(value))},
                      "test", 0, {}};
    self->send(pipe.validator, write_atom::value, std::move(req));
    sched.run();
  };
  auto infos_now = [&] {
    auto f = self->request(primary, caf::infinite, replicas_atom::value);
    sched.run();
    std::vector<replica_info> out;
    f.receive([&](std::vector<replica_info>& x) { out = std::move(x); },
              [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  };
  quiet("a", 1);
  quiet("a", 2);
  quiet("b", 3);
  auto f = self->request(r, caf::infinite, status_atom::value);
  sched.run();
  f.receive(
    [&](replica_status& st) {
      CAF_CHECK_EQUAL(st.version, base + 3);
      CAF_CHECK(st.connected);
    },
    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  auto before = infos_now();
  CAF_REQUIRE_EQUAL(before.size(), 1u);
  CAF_CHECK_EQUAL(before[0].acked_version, base);
  CAF_CHECK_EQUAL(before[0].lag, 3u);
  // The delay passes: one cumulative ack for all three.
  CAF_CHECK(sched.trigger_timeouts() > 0);
  sched.run();
  auto after = infos_now();
  CAF_CHECK_EQUAL(after[0].acked_version, base + 3);
  CAF_CHECK_EQUAL(after[0].acked_hash, current()->hash);
  CAF_CHECK_EQUAL(after[0].lag, 0u);
  // A write that waits for acks gets them without any timer.
  write_request req{{operation::set("a", 4)}, "test", 0, {}};
  auto w = self->request(primary, caf::infinite, write_atom::value, req,
                         consistency::all, uint32_t{0});
  sched.run();
  w.receive(
    [&](consistent_write_result& res) {
      CAF_CHECK(res.satisfied);
      CAF_CHECK_EQUAL(res.acked, std::vector<std::string>{"r1"});
    },
    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  auto acked = infos_now()[0].acked_version;
  CAF_CHECK_EQUAL(acked, current()->version);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a replica gone for long or on request is forgotten) {
  caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
  run();
  primary_options popts;
  popts.forget_after = std::chrono::minutes{1};
  primary = spawn_primary(sys, pipe.store, pipe.validator, popts);
  run();
  auto r1 = join("r1");
  auto r2 = join("r2");
  auto r3 = join("r3");
  // run() would also fire the forget timers: these steps use sched.run(),
  // which only delivers messages.
  auto forget_now = [&](const char* node) {
    auto f = self->request(primary, caf::infinite, forget_atom::value,
                           std::string{node});
    sched.run();
    caf::error result;
    f.receive([](bool) {}, [&](caf::error& err) { result = err; });
    return result;
  };
  auto listed_now = [&] {
    auto f = self->request(primary, caf::infinite, replicas_atom::value);
    sched.run();
    std::vector<std::string> names;
    f.receive(
      [&](std::vector<replica_info>& xs) {
        for (auto& x : xs)
          names.push_back(x.node);
      },
      [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return names;
  };
  // Connected replicas are not forgotten on request; unknown ones are 404.
  CAF_CHECK_EQUAL(forget_now("r1").code(),
                  static_cast<uint8_t>(errc::invalid_argument));
  CAF_CHECK_EQUAL(forget_now("nobody").code(),
                  static_cast<uint8_t>(errc::not_found));
  caf::anon_send_exit(r2, caf::exit_reason::kill);
  caf::anon_send_exit(r3, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK(!forget_now("r2"));
  CAF_CHECK_EQUAL(listed_now(), std::vector<std::string>({"r1", "r3"}));
  // r3 is dropped once its timer fires; then `all` needs only r1.
  run();
  CAF_CHECK_EQUAL(listed_now(), std::vector<std::string>({"r1"}));
  auto res = write_with(primary, consistency::all, "a", 1);
  CAF_CHECK(res.satisfied);
  CAF_CHECK_EQUAL(res.acked, std::vector<std::string>({"r1"}));
  // A replica that came back before its timer fired stays.
  auto r4 = join("r4");
  caf::anon_send_exit(r4, caf::exit_reason::kill);
  sched.run();
  CAF_CHECK_EQUAL(listed_now().size(), 2u);
  r4 = spawn_replica(sys, [] {
    replica_options opts;
    opts.node = "r4";
    return opts;
  }());
  self->send(r4, join_atom::value, primary);
  sched.run();
  run(); // fires the timer of r4's first life
  CAF_CHECK_EQUAL(listed_now(), std::vector<std::string>({"r1", "r4"}));
  CAF_CHECK_EQUAL(info("r4").state, replica_state::connected);
  for (auto& r : {r1, r4})
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a replica that loses the primary keeps serving and reports stale) {
  set("a", 1);
  auto r = join("r1");
  auto log = std::make_shared<std::vector<change>>();
  ask<uint64_t>(r, subscribe_atom::value, std::string{"a"},
                caf::actor_cast<subscriber_actor>(sys.spawn(recorder, log)));
  caf::anon_send_exit(primary, caf::exit_reason::kill);
  run();
  auto st = status(r);
  CAF_CHECK(st.stale);
  CAF_CHECK(!st.connected);
  // Subscribers hear it: a change with no paths, at the same version.
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  CAF_CHECK(log->at(0).stale);
  CAF_CHECK(log->at(0).paths.empty());
  CAF_CHECK_EQUAL(log->at(0).version, current()->version);
  CAF_CHECK_EQUAL(log->at(0).prev_version, current()->version);
  CAF_CHECK_EQUAL(log->at(0).new_value(), json(1));
  // One who subscribes while stale is told at once.
  auto late = std::make_shared<std::vector<change>>();
  ask<uint64_t>(r, subscribe_atom::value, std::string{""},
                caf::actor_cast<subscriber_actor>(sys.spawn(recorder, late)));
  CAF_REQUIRE_EQUAL(late->size(), 1u);
  CAF_CHECK(late->at(0).stale);
  auto snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(snap->version, current()->version);
  auto f = self->request(r, caf::infinite, write_atom::value,
                         write_request{{operation::set("a", 2)}, "x", 0, {}});
  run();
  bool refused = false;
  f.receive([](write_result&) {}, [&](caf::error&) { refused = true; });
  CAF_CHECK(refused);
  // A new primary over the same store: the replica resyncs by patch.
  set("a", 5);
  primary = spawn_primary(sys, pipe.store, pipe.validator, {});
  run();
  self->send(r, join_atom::value, primary);
  run();
  st = status(r);
  CAF_CHECK(!st.stale);
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(st.hash, current()->hash);
  CAF_CHECK_EQUAL(st.resyncs, 0u);
  // The first version of the new stream carries the all-clear.
  CAF_REQUIRE_EQUAL(log->size(), 2u);
  CAF_CHECK(!log->at(1).stale);
  CAF_CHECK_EQUAL(log->at(1).version, current()->version);
  CAF_CHECK_EQUAL(log->at(1).new_value(), json(5));
  // A second loss is a second notice; nothing was sent in between.
  caf::anon_send_exit(primary, caf::exit_reason::kill);
  run();
  CAF_REQUIRE_EQUAL(log->size(), 3u);
  CAF_CHECK(log->at(2).stale);
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a replica carries the secret paths of every version) {
  using strings = std::vector<std::string>;
  auto secrets_of = [](const snapshot_ptr& snap) {
    return snap->secrets ? snap->secrets->patterns() : strings{};
  };
  auto marked = [&](std::string path, json value, strings redact) {
    write_request req{{operation::set(std::move(path), std::move(value))},
                      "env:CFG_", 0, std::move(redact)};
    auto res = ask<write_result>(pipe.validator, write_atom::value, req);
    CAF_REQUIRE(res.status == write_status::committed);
  };
  marked("db.password", "Zq7VtK2mXw9LrB4nJd8sHc3PfG6yTa1eUo5iRb0N",
         {"db.password"});
  // Joins at version 0: a full snapshot brings the paths.
  auto [r, r_session] = join_seen("r1");
  auto snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(snap->version, current()->version);
  CAF_CHECK_EQUAL(secrets_of(snap), strings{"db.password"});
  auto shown = snap->shown(false);
  CAF_CHECK_EQUAL(shown["db"]["password"], "***");
  // The stream brings new paths, and keeps the old ones.
  marked("api.token", "tok-1234567890", {"api.token"});
  snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(snap->version, current()->version);
  CAF_CHECK_EQUAL(secrets_of(snap), (strings{"api.token", "db.password"}));
  CAF_CHECK_EQUAL(secrets_of(snap), secrets_of(current()));
  set("plain", 1);
  auto later = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(later->version, current()->version);
  CAF_CHECK_EQUAL(secrets_of(later), (strings{"api.token", "db.password"}));
  // Unchanged paths: the replica's versions share one set.
  CAF_CHECK_EQUAL(later->secrets, snap->secrets);
  // Its diffs name them too.
  auto d = ask<diff_result>(r, diff_atom::value, uint64_t{0},
                            current()->version);
  CAF_CHECK_EQUAL(d.secrets, (strings{"api.token", "db.password"}));
  // What goes on the wire: full snapshots and changes alike.
  auto full = hello_from_probe(hello{"p", 0, "", "", {}, false});
  CAF_REQUIRE_EQUAL(full->snapshots.size(), 1u);
  CAF_CHECK_EQUAL(full->snapshots[0].secrets,
                  (strings{"api.token", "db.password"}));
  auto prev = current();
  set("plain", 2);
  auto step = hello_from_probe(hello{"q", prev->version, prev->hash, "", {}, false});
  CAF_REQUIRE_EQUAL(step->changes.size(), 1u);
  CAF_CHECK_EQUAL(step->changes[0].secrets,
                  (strings{"api.token", "db.password"}));
  // A resync (here: after a forged change) brings them again.
  auto have = status(r);
  replicated_change bad{have.version + 1, have.version, std::string(64, '0'),
                        0, "x",
                        json::parse(R"([{"op":"add","path":"/z","value":1}])"),
                        false, {}, {}, 0, {}, {}, {}, {}};
  stream_as_primary(r, r_session, bad);
  run();
  CAF_CHECK_EQUAL(status(r).resyncs, 1u);
  snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(snap->hash, current()->hash);
  CAF_CHECK_EQUAL(secrets_of(snap), (strings{"api.token", "db.password"}));
  caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a replica that does not receive secrets gets them masked) {
  const std::string password = "Zq7VtK2mXw9LrB4nJd8sHc3PfG6yTa1eUo5iRb0N";
  auto marked = [&](std::string path, json value) {
    write_request req{{operation::set(std::move(path), std::move(value))},
                      "env:CFG_", 0, {"db.password"}};
    auto res = ask<write_result>(pipe.validator, write_atom::value, req);
    CAF_REQUIRE(res.status == write_status::committed);
  };
  marked("db.password", password);
  auto masked = join("r1"); // replica_options::secrets is false by default
  auto full = spawn_replica(sys, [] {
    replica_options opts;
    opts.node = "r2";
    opts.secrets = true;
    return opts;
  }());
  self->send(full, join_atom::value, primary);
  run();
  auto holds_secret = [&](const replica_actor& r) {
    auto snap = ask<snapshot_ptr>(r, get_atom::value);
    return snap->effective->dump().find(password) != std::string::npos
           || snap->layers.to_json().dump().find(password)
                != std::string::npos;
  };
  // Joined by a full snapshot: masked tree and layers, the true hash.
  auto snap = ask<snapshot_ptr>(masked, get_atom::value);
  CAF_CHECK_EQUAL(snap->effective->value(json::json_pointer{"/db/password"},
                                        json{}),
                  "***");
  CAF_CHECK(!holds_secret(masked));
  CAF_CHECK(holds_secret(full));
  for (auto& r : {masked, full}) {
    auto st = status(r);
    CAF_CHECK(st.connected);
    CAF_CHECK_EQUAL(st.version, current()->version);
    CAF_CHECK_EQUAL(st.hash, current()->hash);
  }
  // The stream: the secret changes (nothing visible to the masked one) and
  // a plain value too; acks carry the true hash.
  marked("db.password", password + "-2");
  set("plain", 1);
  CAF_CHECK(!holds_secret(masked));
  CAF_CHECK_EQUAL(
    ask<snapshot_ptr>(masked, get_atom::value)->effective->value("plain", json{}),
    1);
  for (auto& r : {masked, full}) {
    auto st = status(r);
    CAF_CHECK_EQUAL(st.version, current()->version);
    CAF_CHECK_EQUAL(st.hash, current()->hash);
    CAF_CHECK_EQUAL(st.resyncs, 0u);
  }
  CAF_CHECK_EQUAL(info("r1").acked_hash, current()->hash);
  CAF_CHECK_EQUAL(info("r2").acked_hash, current()->hash);
  // What goes on the wire to a replica that did not ask for secrets.
  auto prev = current();
  auto full_log = hello_from_probe(hello{"p", 0, "", "", {}, false});
  set("plain", 2);
  auto step_log = hello_from_probe(hello{"q", prev->version, prev->hash, "",
                                         {}, false});
  CAF_REQUIRE_EQUAL(full_log->snapshots.size(), 1u);
  auto& f = full_log->snapshots[0];
  CAF_CHECK_EQUAL(f.effective.dump().find(password), std::string::npos);
  CAF_CHECK_EQUAL(f.layers.dump().find(password), std::string::npos);
  CAF_CHECK_EQUAL(f.masked_hash, canonical_hash(f.effective));
  CAF_CHECK_EQUAL(f.hash, prev->hash);
  CAF_REQUIRE_EQUAL(step_log->changes.size(), 1u);
  CAF_CHECK_EQUAL(step_log->changes[0].patch.dump().find(password),
                  std::string::npos);
  CAF_CHECK(!step_log->changes[0].masked_hash.empty());
  // One that asked for them gets them.
  auto wants = hello_from_probe(hello{"s", 0, "", "", {}, true});
  CAF_REQUIRE_EQUAL(wants->snapshots.size(), 1u);
  CAF_CHECK_NOT_EQUAL(wants->snapshots[0].effective.dump().find(password),
                      std::string::npos);
  CAF_CHECK(wants->snapshots[0].masked_hash.empty());
  for (auto& r : {masked, full})
    caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST(a value that becomes secret without changing is masked at once) {
  const std::string password = "Zq7VtK2mXw9LrB4nJd8sHc3PfG6yTa1eUo5iRb0N";
  set("db.password", password); // not marked: plain
  auto masked = join("r1");
  auto holds_secret = [&] {
    auto snap = ask<snapshot_ptr>(masked, get_atom::value);
    return snap->effective->dump().find(password) != std::string::npos;
  };
  CAF_REQUIRE(holds_secret()); // it was no secret then
  // The same value from another layer, marked there: the tree stays as it
  // was, which paths are secret does not.
  auto before = current();
  write_request req{{operation::replace_layer(
                      "env", json{{"db", {{"password", password}}}})},
                    "env:CFG_", 0, {"db.password"}};
  auto res = ask<write_result>(pipe.validator, write_atom::value, req);
  CAF_REQUIRE(res.status == write_status::committed);
  CAF_REQUIRE_EQUAL(current()->hash, before->hash);
  run();
  CAF_CHECK(!holds_secret());
  auto st = status(masked);
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(st.hash, current()->hash);
  CAF_CHECK_EQUAL(st.resyncs, 0u);
  caf::anon_send_exit(masked, caf::exit_reason::user_shutdown);
  run();
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace cluster_suite

#define CAF_SUITE cluster_identity
// A replica follows one cluster's history: it adopts the cluster id of its
// first sync, refuses a primary of another cluster or one behind it (a
// primary that lost its journal) without rolling back, and follows it only
// after an operator's resync.
#include "pipeline_fixture.hpp"

#include "cluster/cluster_auth.hpp"
#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "watched_join.hpp"
#include "log_recorder.hpp"

#include <optional>

namespace cluster_identity_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

const std::string cluster_a(32, 'a');
const std::string cluster_b(32, 'b');

/// Another primary over a pipeline of its own: the same process restarted
/// without its journal, or with another one.
struct other_primary {
  detail::pipeline_core pipe;
  primary_actor primary;
};

struct fixture : pipeline_fixture {
  log_recorder logs; // before any actor logs
  primary_actor primary;
  std::vector<other_primary> others;
  std::vector<caf::actor> actors; ///< ended with the fixture

  fixture() {
    primary = spawn(pipe, cluster_a, 1);
    run();
  }

  ~fixture() {
    for (auto& x : actors)
      caf::anon_send_exit(x, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
    for (auto& x : others) {
      caf::anon_send_exit(x.primary, caf::exit_reason::user_shutdown);
      shutdown(x.pipe.handles());
    }
    run();
  }

  primary_actor spawn(const detail::pipeline_core& p, std::string id,
                      uint64_t epoch) {
    primary_options opts;
    opts.forget_after = std::chrono::milliseconds{0};
    opts.cluster_id = std::move(id);
    opts.epoch = epoch;
    return spawn_primary(sys, p.store, p.validator, opts);
  }

  /// A primary of cluster `id` whose store holds `writes` versions.
  primary_actor other(std::string id, uint64_t epoch, int writes) {
    other_primary x;
    x.pipe = *detail::open_pipeline_core(sys, {});
    run();
    for (int i = 0; i < writes; ++i)
      write_to(x.pipe.validator, "other", i);
    x.primary = spawn(x.pipe, std::move(id), epoch);
    run();
    others.push_back(x);
    return x.primary;
  }

  void write_to(const validator_actor& v, std::string path, json value) {
    auto f = self->request(v, caf::infinite, write_atom::value,
                           write_request{{operation::set(std::move(path),
                                                         std::move(value))},
                                         "test", 0, {}});
    run();
    f.receive([](write_result& r) { CAF_REQUIRE(r.ok()); },
              [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  }

  snapshot_ptr current_of(const primary_actor& p) {
    for (auto& x : others)
      if (x.primary == p)
        return ask<snapshot_ptr>(x.pipe.store, get_atom::value);
    return current();
  }

  caf::error ask_error(const replica_actor& r, write_request req) {
    auto f = self->request(r, caf::infinite, write_atom::value,
                           std::move(req));
    run();
    caf::error out;
    f.receive([](write_result&) {}, [&](caf::error& err) { out = err; });
    return out;
  }

  replica_actor replica(std::string node) {
    replica_options opts;
    opts.node = std::move(node);
    auto r = spawn_replica(sys, opts);
    actors.push_back(caf::actor_cast<caf::actor>(r));
    return r;
  }

  void follow(const replica_actor& r, const primary_actor& p) {
    self->send(r, join_atom::value, p);
    run();
  }

  /// The primary is gone: the replica serves its last snapshot.
  void kill(const primary_actor& p) {
    caf::anon_send_exit(p, caf::exit_reason::kill);
    run();
  }

  replica_status status(const replica_actor& r) {
    return ask<replica_status>(r, status_atom::value);
  }

  change_log subscribe_to(const replica_actor& r) {
    auto log = std::make_shared<std::vector<change>>();
    auto sub = sys.spawn(recorder, log);
    actors.push_back(sub);
    ask<uint64_t>(r, subscribe_atom::value, std::string{},
                  caf::actor_cast<subscriber_actor>(sub));
    return log;
  }

  /// Joins `r` to `primary` and learns the session from its proof (the test
  /// then plays a third party that forges stream messages).
  std::string join_seen(const replica_actor& r) {
    return test::watched_join(self, sched, r, primary, "", [this] { run(); });
  }

  /// A replica of cluster A at version 3, with a subscriber.
  std::pair<replica_actor, change_log> synced_replica() {
    set("a", 1);
    set("b", 2);
    set("c", 3);
    auto r = replica("r1");
    follow(r, primary);
    auto log = subscribe_to(r);
    auto st = status(r);
    CAF_REQUIRE_EQUAL(st.version, 3u);
    CAF_REQUIRE(st.connected);
    return {r, log};
  }

  static bool has(const std::string& text, const std::string& part) {
    return text.find(part) != std::string::npos;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_identity_tests, fixture)

CAF_TEST(a replica adopts the cluster of its first sync) {
  set("a", 1);
  auto r = replica("r1");
  CAF_CHECK(status(r).cluster_id.empty());
  CAF_CHECK_EQUAL(status(r).reason, "no connection to its primary");
  follow(r, primary);
  auto st = status(r);
  CAF_CHECK_EQUAL(st.cluster_id, cluster_a);
  CAF_CHECK_EQUAL(st.epoch, 1u);
  CAF_CHECK(st.connected);
  CAF_CHECK(!st.stale);
  CAF_CHECK(st.reason.empty());
  CAF_CHECK_EQUAL(st.hash, current()->hash);
  // The same cluster back (its journal kept: a later epoch, the same or a
  // newer version) is followed with no resync.
  kill(primary);
  set("a", 2);
  primary = spawn(pipe, cluster_a, 2);
  run();
  follow(r, primary);
  st = status(r);
  CAF_CHECK(st.connected);
  CAF_CHECK(st.reason.empty());
  CAF_CHECK_EQUAL(st.version, current()->version);
  CAF_CHECK_EQUAL(st.epoch, 2u);
  CAF_CHECK_EQUAL(st.resyncs, 0u);
}

CAF_TEST(a primary of another cluster is refused and the replica keeps its state) {
  auto [r, log] = synced_replica();
  auto before = status(r);
  kill(primary);
  CAF_REQUIRE_EQUAL(log->size(), 1u); // stale: the primary is gone
  // A primary that lost its journal: another cluster id, even ahead of us.
  auto b = other(cluster_b, 1, 5);
  follow(r, b);
  auto st = status(r);
  CAF_CHECK_EQUAL(st.version, before.version);
  CAF_CHECK_EQUAL(st.hash, before.hash);
  CAF_CHECK_EQUAL(st.cluster_id, cluster_a);
  CAF_CHECK(st.stale);
  CAF_CHECK(!st.connected);
  CAF_CHECK_EQUAL(st.state(), replica_state::stale);
  CAF_CHECK(has(st.reason, "another cluster (id " + cluster_b + ", expected "
                             + cluster_a + ")"));
  auto snap = ask<snapshot_ptr>(r, get_atom::value);
  CAF_CHECK_EQUAL(snap->hash, before.hash);
  CAF_CHECK_EQUAL(snap->effective->value("c", json{}), json(3));
  // Subscribers heard nothing but the stale notice; the history is intact.
  CAF_CHECK_EQUAL(log->size(), 1u);
  CAF_CHECK(log->back().stale);
  auto rows = ask<std::vector<version_info>>(r, history_atom::value,
                                             uint64_t{0}, uint32_t{10});
  CAF_CHECK_EQUAL(rows.front().version, 3u);
  // The refusal is logged once for this connection, and so are writes.
  CAF_CHECK_EQUAL(logs.lines_with("event=replica_refused_rollback").size(), 1u);
  auto err = ask_error(r, write_request{{operation::set("x", 1)}, "t", 0, {}});
  CAF_CHECK(err);
  CAF_CHECK(has(sys.render(err), "refuses its primary"));
  // The new primary's later versions change nothing either.
  write_to(others.back().pipe.validator, "later", 1);
  st = status(r);
  CAF_CHECK_EQUAL(st.hash, before.hash);
  CAF_CHECK(st.stale);
  CAF_CHECK_EQUAL(logs.lines_with("event=replica_refused_rollback").size(), 1u);
}

CAF_TEST(a primary behind the replica is refused even of the same cluster) {
  auto [r, log] = synced_replica();
  auto before = status(r);
  kill(primary);
  // The same cluster id, but its journal restored from an older backup.
  auto old = other(cluster_a, 2, 1);
  follow(r, old);
  auto st = status(r);
  CAF_CHECK_EQUAL(st.version, before.version);
  CAF_CHECK_EQUAL(st.hash, before.hash);
  CAF_CHECK(st.stale);
  CAF_CHECK_EQUAL(st.reason, "primary is at version 1, behind this replica's "
                             "3: refusing to go back");
  CAF_CHECK_EQUAL(log->size(), 1u);
  CAF_CHECK(logs.contains("refusing to go back"));
}

CAF_TEST(a resync installs whatever the primary has and follows it) {
  auto [r, log] = synced_replica();
  kill(primary);
  auto b = other(cluster_b, 1, 1);
  follow(r, b);
  CAF_REQUIRE(status(r).stale);
  auto st = ask<replica_status>(r, resync_atom::value);
  auto theirs = current_of(b);
  CAF_CHECK_EQUAL(st.version, theirs->version);
  CAF_CHECK_EQUAL(st.hash, theirs->hash);
  CAF_CHECK_EQUAL(st.cluster_id, cluster_b);
  CAF_CHECK(st.connected);
  CAF_CHECK(!st.stale);
  CAF_CHECK(st.reason.empty());
  // The history starts over; subscribers get the change (and the all-clear).
  auto rows = ask<std::vector<version_info>>(r, history_atom::value,
                                             uint64_t{0}, uint32_t{10});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows.front().version, theirs->version);
  CAF_REQUIRE_EQUAL(log->size(), 2u);
  CAF_CHECK(!log->back().stale);
  CAF_CHECK_EQUAL(log->back().version, theirs->version);
  CAF_CHECK(logs.contains("event=replica_resynced"));
  // From now on it follows cluster B's stream.
  write_to(others.back().pipe.validator, "later", 1);
  st = status(r);
  CAF_CHECK_EQUAL(st.hash, current_of(b)->hash);
  CAF_CHECK(st.connected);
  // Asked between two connections, a resync waits for the next primary
  // and takes whatever it has.
  auto lonely = replica("r2");
  auto f = self->request(lonely, caf::infinite, resync_atom::value);
  run();
  CAF_CHECK(!status(lonely).connected);
  follow(lonely, b);
  bool answered = false;
  f.receive(
    [&](replica_status& x) {
      answered = true;
      CAF_CHECK_EQUAL(x.hash, current_of(b)->hash);
      CAF_CHECK_EQUAL(x.cluster_id, cluster_b);
    },
    [&](caf::error& err) { CAF_FAIL("resync failed: " << to_string(err)); });
  CAF_CHECK(answered);
}

CAF_TEST(a forged cluster id without the stream MAC is ignored) {
  set("a", 1);
  set("a", 2);
  auto r = replica("r1");
  auto session = join_seen(r);
  auto before = status(r);
  CAF_REQUIRE_EQUAL(before.cluster_id, cluster_a);
  full_snapshot m{1, current()->hash, 0, "evil", json::array(),
                  *current()->effective, {}, cluster_b, 9, {}, {}, {}, {}};
  // Signed as cluster A's, sent as cluster B's: the MAC covers the id.
  m.cluster_id = cluster_a;
  m.mac = detail::stream_mac(session, m);
  m.cluster_id = cluster_b;
  auto as_primary = caf::actor_cast<caf::actor>(primary);
  caf::send_as(as_primary, r, m);
  run();
  auto st = status(r);
  CAF_CHECK(!st.stale);
  CAF_CHECK(st.reason.empty());
  CAF_CHECK_EQUAL(st.cluster_id, cluster_a);
  CAF_CHECK(logs.contains("event=replica_forged_stream"));
  // The same with the right MAC (only the primary has the session) would be
  // refused: another cluster.
  m.mac = detail::stream_mac(session, m);
  caf::send_as(as_primary, r, m);
  run();
  st = status(r);
  CAF_CHECK(st.stale);
  CAF_CHECK(has(st.reason, "another cluster"));
  CAF_CHECK_EQUAL(st.version, before.version);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace cluster_identity_suite

#define CAF_SUITE cluster_link
// Who gets in through the cluster link: the primary on earth with a cluster
// secret, a replica that knows it on mars, and on jupiter peers that do not
// (or that know it and try what a replica must not). Every message between
// planets is serialized by BASP; timers fire only when a test fires them.
#include "io_fixture.hpp"

#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "link_probe.hpp"
#include "pipeline/pipeline_core.hpp"

namespace cluster_link_suite {

using namespace cfgactors;
using namespace cfgactors::test;
using namespace std::chrono_literals;

namespace {

write_request set_request(std::string path, json value) {
  return write_request{{operation::set(std::move(path), std::move(value))},
                       "test",
                       0,
                       {}};
}

struct fixture : io_fixture {
  static constexpr uint16_t port = 4242;
  static constexpr size_t max_replicas = 8;
  static inline const std::string secret = "cluster-secret-0123456789abcdef";
  /// As long as the secret, one byte off.
  static inline const std::string wrong_secret
    = "cluster-secret-0123456789abcdeF";

  caf::io::accept_handle acceptor = next_accept_handle();
  wire to_mars;
  wire to_jupiter;
  detail::pipeline_core pipe;
  primary_actor primary;
  std::vector<replica_actor> replicas;
  std::vector<caf::actor> probes;

  fixture() {
    pipe = *detail::open_pipeline_core(earth.sys, pipeline_options{});
    primary_options popts;
    popts.node = "earth";
    popts.write_timeout = 2s;
    popts.forget_after = 0ms;
    popts.secret = secret;
    popts.max_replicas = max_replicas;
    primary = spawn_primary(earth.sys, pipe.store, pipe.validator, popts);
    run();
    to_mars = prepare(earth, mars, "earth", port, acceptor);
    to_jupiter = prepare(earth, jupiter, "earth", port, acceptor);
    CAF_REQUIRE_EQUAL(earth.publish(primary, port), port);
    run();
    auto res = ask<write_result>(earth, pipe.validator, write_atom::value,
                                 set_request("limits.rps", 100));
    CAF_REQUIRE(res.ok());
  }

  ~fixture() {
    for (auto& r : replicas)
      caf::anon_send_exit(r, caf::exit_reason::user_shutdown);
    for (auto& p : probes)
      caf::anon_send_exit(p, caf::exit_reason::user_shutdown);
    caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
    shutdown(pipe.handles());
    run();
  }

  /// A replica that connects by itself with `key` as its cluster secret.
  replica_actor connect_replica(planet& p, std::string name, std::string key) {
    replica_options opts;
    opts.node = std::move(name);
    opts.host = "earth";
    opts.port = port;
    opts.secret = std::move(key);
    auto r = spawn_replica(p.sys, opts);
    replicas.push_back(r);
    run();
    return r;
  }

  /// A probe on `p` (the peer's stand-in) and what it receives.
  std::pair<caf::actor, link_log_ptr> probe(planet& p) {
    auto log = std::make_shared<link_log>();
    auto hdl = p.sys.spawn(link_probe, log);
    probes.push_back(hdl);
    return {hdl, log};
  }

  probe_session prove(const caf::actor& who, link_log& log,
                      const primary_actor& dest, const std::string& name,
                      const std::string& key) {
    return handshake(who, log, dest, name, key, [this] { run(); });
  }

  snapshot_ptr primary_current() {
    return ask<snapshot_ptr>(earth, pipe.store, get_atom::value);
  }

  replica_status status(planet& p, const replica_actor& r) {
    return ask<replica_status>(p, r, status_atom::value);
  }

  std::vector<replica_info> listing() {
    return ask<std::vector<replica_info>>(earth, primary, replicas_atom::value);
  }

  bool listed(const std::string& node) {
    auto xs = listing();
    return std::any_of(xs.begin(), xs.end(),
                       [&](auto& x) { return x.node == node; });
  }

  cluster_stats stats() {
    return ask<cluster_stats>(earth, primary, stats_atom::value);
  }

  uint64_t refused(const std::string& reason) {
    auto xs = stats().refused;
    auto i = xs.find(reason);
    return i != xs.end() ? i->second : 0;
  }

  /// The replica has the primary's version and tree.
  void check_in_step(planet& p, const replica_actor& r) {
    auto cur = primary_current();
    auto st = status(p, r);
    CAF_CHECK(st.connected);
    CAF_CHECK_EQUAL(st.version, cur->version);
    CAF_CHECK_EQUAL(st.hash, cur->hash);
  }

  /// A write on earth reaches the replica on mars: it keeps streaming.
  void check_streaming(const replica_actor& r_mars, int rps) {
    auto res = ask<write_result>(earth, primary, write_atom::value,
                                 set_request("limits.rps", rps));
    CAF_REQUIRE(res.ok());
    check_in_step(mars, r_mars);
    auto snap = ask<snapshot_ptr>(mars, r_mars, get_atom::value);
    CAF_CHECK_EQUAL(snap->effective->at("limits").at("rps"), rps);
  }

  static uint8_t code_of(const caf::error& err) {
    return err.category() == errc_category ? err.code() : 0;
  }
};

/// A primary stand-in that answers the handshake with a proof it cannot
/// make, and records whether a hello ever reached it.
caf::behavior fake_primary(caf::event_based_actor*,
                           std::shared_ptr<int> hellos) {
  return {
    [](auth_atom) { return auth_challenge{std::string(64, 'a')}; },
    [](auth_proof&) { return auth_accept{std::string(64, 'b')}; },
    [hellos](hello&) { ++*hellos; },
  };
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(cluster_link_tests, fixture)

CAF_TEST(a replica that knows the secret authenticates and streams) {
  auto r_mars = connect_replica(mars, "mars", secret);
  check_in_step(mars, r_mars);
  check_streaming(r_mars, 200);
  auto st = stats();
  CAF_CHECK_EQUAL(st.peers, 1u);
  CAF_CHECK_EQUAL(st.pending, 0u);
  CAF_CHECK_EQUAL(st.replicas, 1u);
  CAF_CHECK(st.refused.empty());
  // Its writes are committed under the origin its own API gave them, via
  // the name it proved: whatever it claims, the relay shows.
  auto res = ask<write_result>(mars, r_mars, write_atom::value,
                               write_request{{operation::set("a", 1)},
                                             "api:alice",
                                             0,
                                             {}});
  CAF_REQUIRE(res.ok());
  CAF_CHECK_EQUAL(primary_current()->origin, "api:alice via mars");
  res = ask<write_result>(mars, r_mars, write_atom::value,
                          write_request{{operation::set("a", 2)},
                                        "file:/etc/app.yaml",
                                        0,
                                        {}});
  CAF_REQUIRE(res.ok());
  CAF_CHECK_EQUAL(primary_current()->origin, "file:/etc/app.yaml via mars");
  res = ask<write_result>(mars, r_mars, write_atom::value,
                          write_request{{operation::set("a", 3)}, "", 0, {}});
  CAF_REQUIRE(res.ok());
  CAF_CHECK_EQUAL(primary_current()->origin, "node:mars");
}

CAF_TEST(a replica with a wrong secret of the same length gets nothing) {
  auto r_mars = connect_replica(mars, "mars", secret);
  auto wrong = connect_replica(jupiter, "jupiter", wrong_secret);
  auto none = connect_replica(jupiter, "jupiter-2", "");
  for (auto& r : {wrong, none}) {
    auto st = status(jupiter, r);
    CAF_CHECK(!st.connected);
    CAF_CHECK(st.stale);
    CAF_CHECK_EQUAL(st.version, 0u);
  }
  CAF_CHECK_EQUAL(refused("bad_proof"), 2u);
  CAF_CHECK_EQUAL(stats().peers, 1u);
  CAF_CHECK(!listed("jupiter"));
  CAF_CHECK(!listed("jupiter-2"));
  check_streaming(r_mars, 300);
  CAF_CHECK_EQUAL(status(jupiter, wrong).version, 0u);
}

CAF_TEST(a replica follows no primary that cannot prove the secret) {
  auto hellos = std::make_shared<int>(0);
  auto fake = caf::actor_cast<primary_actor>(
    mars.sys.spawn(fake_primary, hellos));
  replica_options opts;
  opts.node = "mars";
  opts.secret = secret;
  auto r = spawn_replica(mars.sys, opts);
  replicas.push_back(r);
  mars.self->send(r, join_atom::value, fake);
  run();
  CAF_CHECK_EQUAL(*hellos, 0);
  auto st = status(mars, r);
  CAF_CHECK(st.stale);
  CAF_CHECK(!st.connected);
  caf::anon_send_exit(fake, caf::exit_reason::user_shutdown);
}

CAF_TEST(a peer without the secret can neither write nor read nor forget) {
  auto r_mars = connect_replica(mars, "mars", secret);
  auto prim = jupiter.remote_actor<primary_actor>("earth", port);
  CAF_REQUIRE(prim);
  auto [p, log] = probe(jupiter);
  auto before = primary_current();
  auto req = set_request("limits.rps", 1);
  caf::send_as(p, prim, linked_write{"", req, consistency::local, 0});
  caf::send_as(p, prim, linked_write{std::string(64, '0'), req,
                                     consistency::local, 0});
  caf::send_as(p, prim, write_atom::value, req);
  caf::send_as(p, prim, write_atom::value, req, consistency::all, uint32_t{0});
  // Asking for the snapshot, as a new replica and as the live one.
  caf::send_as(p, prim, hello{"jupiter", 0, "", "", {}, false});
  caf::send_as(p, prim, hello{"mars", 0, "", std::string(64, '0'), {}, false});
  caf::send_as(p, prim, forget_atom::value, std::string{"mars"});
  caf::send_as(p, prim, replicas_atom::value);
  caf::send_as(p, prim, stats_atom::value);
  run();
  // Each request was answered with an error, each hello with nothing.
  CAF_CHECK_EQUAL(log->errors.size(), 7u);
  for (auto& err : log->errors)
    CAF_CHECK_EQUAL(code_of(err), static_cast<uint8_t>(errc::unauthenticated));
  CAF_CHECK(log->writes.empty());
  CAF_CHECK(log->snapshots.empty());
  CAF_CHECK(log->changes.empty());
  CAF_CHECK(log->listings.empty());
  CAF_CHECK(log->forgotten.empty());
  CAF_CHECK_EQUAL(refused("unauthenticated"), 5u); // 2 writes, 2 hellos, list
  CAF_CHECK_EQUAL(refused("not_local"), 4u); // 2 plain writes, forget, stats
  auto after = primary_current();
  CAF_CHECK_EQUAL(after->version, before->version);
  CAF_CHECK_EQUAL(after->hash, before->hash);
  CAF_CHECK_EQUAL(listing().size(), 1u);
  CAF_CHECK(listed("mars"));
  // The replica keeps streaming, the peer keeps getting nothing.
  check_streaming(r_mars, 400);
  CAF_CHECK(log->changes.empty());
  CAF_CHECK(log->snapshots.empty());
}

CAF_TEST(an ack counts only from the replica it names) {
  auto r_mars = connect_replica(mars, "mars", secret);
  auto prim = jupiter.remote_actor<primary_actor>("earth", port);
  auto [stranger, stranger_log] = probe(jupiter);
  auto [insider, insider_log] = probe(jupiter);
  auto hs = prove(insider, *insider_log, prim, "intruder", secret);
  CAF_REQUIRE(!hs.session.empty());
  CAF_CHECK(hs.primary_proved);
  auto version = primary_current()->version + 1;
  auto f = earth.self->request(primary, caf::infinite, write_atom::value,
                               set_request("features.beta", true),
                               consistency::all, uint32_t{1000});
  // Earth commits and streams; mars has not read it yet. Both peers ack for
  // mars first.
  run_alone(earth);
  caf::send_as(stranger, prim, ack{"mars", version, "forged", ""});
  caf::send_as(insider, prim, ack{"mars", version, "forged", hs.session});
  run_alone(jupiter);
  run_alone(earth);
  CAF_CHECK(!answered(earth));
  CAF_CHECK_EQUAL(refused("unauthenticated"), 1u);
  CAF_CHECK_EQUAL(refused("not_owner"), 1u);
  // Nor from a replica's own connection, once it proved another name.
  auto [renamed, renamed_log] = probe(jupiter);
  auto old_name = prove(renamed, *renamed_log, prim, "venus", secret);
  CAF_REQUIRE(!old_name.session.empty());
  caf::send_as(renamed, prim, hello{"venus", 0, "", old_name.session, {}, false});
  run_alone(jupiter);
  run_alone(earth);
  auto new_name = prove(renamed, *renamed_log, prim, "venus-2", secret);
  CAF_REQUIRE(!new_name.session.empty());
  caf::send_as(renamed, prim, ack{"venus", version, "forged",
                                  new_name.session});
  run_alone(jupiter);
  run_alone(earth);
  CAF_CHECK_EQUAL(refused("not_owner"), 2u);
  // Mars's own ack satisfies it.
  run();
  auto res = answer_of<consistent_write_result>(earth, f);
  CAF_CHECK(res.satisfied);
  CAF_CHECK_EQUAL(res.acked, std::vector<std::string>{"mars"});
  check_in_step(mars, r_mars);
}

CAF_TEST(the name of a live replica stays with its connection) {
  auto r_mars = connect_replica(mars, "mars", secret);
  auto prim = jupiter.remote_actor<primary_actor>("earth", port);
  // Knowing the secret does not make a peer mars while mars is connected.
  auto [thief, thief_log] = probe(jupiter);
  auto hs = prove(thief, *thief_log, prim, "mars", secret);
  CAF_CHECK(hs.session.empty());
  CAF_CHECK_EQUAL(refused("name_taken"), 1u);
  // Nor does saying so in a hello after proving another name.
  auto [liar, liar_log] = probe(jupiter);
  auto other = prove(liar, *liar_log, prim, "venus", secret);
  CAF_REQUIRE(!other.session.empty());
  caf::send_as(liar, prim, hello{"mars", 0, "", other.session, {}, false});
  run();
  CAF_CHECK(liar_log->snapshots.empty());
  CAF_CHECK_EQUAL(refused("name_mismatch"), 1u);
  // Two peers may prove the same free name; the first hello takes it.
  auto [first, first_log] = probe(jupiter);
  auto [second, second_log] = probe(jupiter);
  auto a = prove(first, *first_log, prim, "venus-2", secret);
  auto b = prove(second, *second_log, prim, "venus-2", secret);
  CAF_REQUIRE(!a.session.empty() && !b.session.empty());
  caf::send_as(first, prim, hello{"venus-2", 0, "", a.session, {}, false});
  run();
  caf::send_as(second, prim, hello{"venus-2", 0, "", b.session, {}, false});
  run();
  CAF_CHECK_EQUAL(first_log->snapshots.size(), 1u);
  CAF_CHECK(second_log->snapshots.empty());
  CAF_CHECK_EQUAL(refused("name_taken"), 2u);
  // A replica with the secret and mars's name stays out as well.
  auto twin = connect_replica(jupiter, "mars", secret);
  CAF_CHECK(!status(jupiter, twin).connected);
  CAF_CHECK_EQUAL(refused("name_taken"), 3u);
  auto xs = listing();
  CAF_REQUIRE_EQUAL(xs.size(), 2u); // mars and venus-2
  CAF_CHECK_EQUAL(xs[0].node, "mars");
  CAF_CHECK_EQUAL(xs[0].state, replica_state::connected);
  check_streaming(r_mars, 500);
}

CAF_TEST(hundreds of names register neither without the secret nor past the cap) {
  auto r_mars = connect_replica(mars, "mars", secret);
  auto prim = jupiter.remote_actor<primary_actor>("earth", port);
  auto [p, log] = probe(jupiter);
  for (int i = 0; i < 300; ++i)
    caf::send_as(p, prim, hello{"ghost-" + std::to_string(i), 0, "", "", {}, false});
  run();
  CAF_CHECK(log->snapshots.empty());
  CAF_CHECK_EQUAL(refused("unauthenticated"), 300u);
  CAF_CHECK_EQUAL(listing().size(), 1u);
  // With the secret, names register up to the cap.
  for (int i = 0; i < 300; ++i) {
    auto [q, qlog] = probe(jupiter);
    auto name = "ghost-" + std::to_string(i);
    auto hs = prove(q, *qlog, prim, name, secret);
    CAF_REQUIRE(!hs.session.empty());
    caf::send_as(q, prim, hello{name, 0, "", hs.session, {}, false});
  }
  run();
  CAF_CHECK_EQUAL(listing().size(), max_replicas);
  CAF_CHECK_EQUAL(refused("too_many_replicas"), 300u - (max_replicas - 1));
  check_streaming(r_mars, 600);
  // A real replica past the cap hears nothing back: after its hello's
  // timeout it drops the primary, goes stale and tries again later.
  auto late = connect_replica(jupiter, "late", secret);
  CAF_CHECK(!status(jupiter, late).connected);
  CAF_CHECK(!status(jupiter, late).stale);
  fire_timers(jupiter);
  CAF_CHECK(status(jupiter, late).stale);
  CAF_CHECK_EQUAL(refused("too_many_replicas"), 301u - (max_replicas - 1));
}

CAF_TEST(a proof counts once and only for the peer it was asked by) {
  auto prim = jupiter.remote_actor<primary_actor>("earth", port);
  auto [a, a_log] = probe(jupiter);
  auto hs = prove(a, *a_log, prim, "venus", secret);
  CAF_REQUIRE(!hs.session.empty());
  // Replayed by the same peer: its nonce is spent.
  caf::send_as(a, prim, hs.proof);
  run();
  CAF_CHECK_EQUAL(a_log->accepts.size(), 1u);
  CAF_CHECK_EQUAL(refused("unknown_nonce"), 1u);
  // Replayed by another actor: no nonce was handed to it.
  auto [b, b_log] = probe(jupiter);
  caf::send_as(b, prim, hs.proof);
  run();
  CAF_CHECK(b_log->accepts.empty());
  CAF_CHECK_EQUAL(refused("unknown_nonce"), 2u);
  // Replayed by another actor over a nonce of its own: the MAC is bound to
  // the nonce it was made for.
  caf::send_as(b, prim, auth_atom::value);
  run();
  CAF_REQUIRE_EQUAL(b_log->challenges.size(), 1u);
  auto replay = hs.proof;
  replay.primary_nonce = b_log->challenges.back().nonce;
  caf::send_as(b, prim, replay);
  run();
  CAF_CHECK(b_log->accepts.empty());
  CAF_CHECK_EQUAL(refused("bad_proof"), 1u);
  // A wrong secret of the same length fails the same way.
  auto [c, c_log] = probe(jupiter);
  CAF_CHECK(prove(c, *c_log, prim, "venus-2", wrong_secret).session.empty());
  CAF_CHECK_EQUAL(refused("bad_proof"), 2u);
  CAF_CHECK_EQUAL(stats().peers, 1u);
}

CAF_TEST(handshakes are capped per node and forgotten when they stall) {
  auto prim = jupiter.remote_actor<primary_actor>("earth", port);
  std::vector<link_log_ptr> logs;
  for (int i = 0; i < 5; ++i) {
    auto [p, log] = probe(jupiter);
    caf::send_as(p, prim, auth_atom::value);
    logs.push_back(log);
  }
  run();
  auto challenged = std::count_if(logs.begin(), logs.end(), [](auto& log) {
    return !log->challenges.empty();
  });
  CAF_CHECK_EQUAL(challenged, 4);
  CAF_CHECK_EQUAL(refused("too_many_pending"), 1u);
  CAF_CHECK_EQUAL(stats().pending, 4u);
  // The handshake timeout passes: the nonces are gone.
  fire_timers(earth);
  CAF_CHECK_EQUAL(stats().pending, 0u);
  CAF_CHECK_EQUAL(refused("handshake_timeout"), 4u);
  auto late = probes.front();
  caf::send_as(late, prim,
               auth_proof{"late", logs.front()->challenges.front().nonce,
                          std::string(64, 'c'), std::string(64, 'd')});
  run();
  CAF_CHECK_EQUAL(refused("unknown_nonce"), 1u);
}

CAF_TEST(only the primary and the replica are addressable from other nodes) {
  auto r_mars = connect_replica(mars, "mars", secret);
  auto res = ask<write_result>(mars, r_mars, write_atom::value,
                               set_request("limits.rps", 700));
  CAF_REQUIRE(res.ok());
  auto all = ask<consistent_write_result>(mars, r_mars, write_atom::value,
                                          set_request("limits.rps", 701),
                                          consistency::all, uint32_t{0});
  CAF_REQUIRE(all.satisfied);
  // BASP resolves a message's destination id in the registry, which holds
  // every local actor whose handle ever crossed the wire.
  auto registered = [](planet& p, caf::actor_id id) {
    return p.sys.registry().get(id) != nullptr;
  };
  CAF_CHECK(registered(earth, primary.id()));
  CAF_CHECK(!registered(earth, pipe.validator.id()));
  CAF_CHECK(!registered(earth, pipe.store.id()));
  CAF_CHECK(!registered(earth, pipe.router.id()));
  CAF_CHECK(registered(mars, r_mars.id()));
  CAF_CHECK(!registered(mars, mars.self->id()));
}

CAF_TEST(a replica applies only what the primary signed for its session) {
  auto r_mars = connect_replica(mars, "mars", secret);
  auto cur = ask<snapshot_ptr>(mars, r_mars, get_atom::value);
  // The same proxy the replica follows: as a BASP routed message that names
  // the primary as its source would arrive.
  auto as_primary = caf::actor_cast<caf::actor>(
    mars.remote_actor<primary_actor>("earth", port));
  auto patch = json::parse(R"([{"op":"add","path":"/pwned","value":true}])");
  auto tree = cur->effective->patch(patch);
  replicated_change change{cur->version + 1, cur->version,
                           canonical_hash(tree), 0, "evil", patch, false,
                           {}, {}, 0, {}, std::string(64, '0'), {}, {}};
  full_snapshot snap{cur->version + 2, canonical_hash(tree), 0, "evil",
                     json::array(), tree, {}, {}, 0, {},
                     std::string(64, '0'), {}, {}};
  caf::send_as(as_primary, r_mars, change);
  caf::send_as(as_primary, r_mars, snap);
  run();
  auto st = status(mars, r_mars);
  CAF_CHECK_EQUAL(st.version, cur->version);
  CAF_CHECK_EQUAL(st.hash, cur->hash);
  CAF_CHECK_EQUAL(st.resyncs, 0u);
  CAF_CHECK(!ask<snapshot_ptr>(mars, r_mars, get_atom::value)
               ->effective->contains("pwned"));
  check_streaming(r_mars, 800);
}

CAF_TEST(stray and forged messages change nothing and are counted) {
  auto r_mars = connect_replica(mars, "mars", secret);
  cut(to_mars);
  // A local copy: CAF's macro keeps a reference, which into a temporary
  // would dangle.
  auto listed_now = listing();
  CAF_REQUIRE_EQUAL(listed_now.at(0).state, replica_state::disconnected);
  auto prim = jupiter.remote_actor<primary_actor>("earth", port);
  auto [p, log] = probe(jupiter);
  auto dyn = caf::actor_cast<caf::actor>(prim);
  // The primary's own forget timer, without its cookie.
  caf::send_as(p, dyn, forget_atom::value, std::string{"mars"}, uint64_t{1},
               uint64_t{0});
  // A bare error (CAF's default would end the primary) and a stray value.
  caf::send_as(p, dyn, make_error(errc::unavailable, "bye"));
  caf::send_as(p, dyn, std::string{"hi"});
  // A message that claims the primary sent it to itself.
  caf::send_as(caf::actor_cast<caf::actor>(primary), primary,
               hello{"mars", 0, "", "", {}, false});
  run();
  CAF_CHECK_EQUAL(refused("forged_self"), 2u);
  CAF_CHECK_EQUAL(refused("unexpected"), 2u);
  CAF_CHECK(listed("mars"));
  CAF_CHECK_EQUAL(stats().replicas, 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace cluster_link_suite

#define CAF_SUITE cluster_net
// Primary and replica in two actor systems over real loopback TCP, through
// the cluster link (link/) that BASP talks over: join, stream, forwarded
// writes, primary loss and return.
#include "cfgactors_test.hpp"

#include <chrono>
#include <functional>
#include <mutex>
#include <optional>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "link/link_dialer.hpp"
#include "link/primary_gate.hpp"
#include "pipeline/pipeline_core.hpp"
#include "cfgactors/system_config.hpp"

namespace cluster_net_suite {

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

struct net_config : system_config {
  net_config() {
    load<caf::io::middleman>();
    set("scheduler.policy", caf::atom("sharing"));
    set("scheduler.max-threads", 2);
  }
};

/// Values a subscriber saw, shared with the test thread.
struct seen_log {
  std::mutex mtx;
  std::vector<json> values;

  void add(const change& c) {
    std::lock_guard<std::mutex> guard{mtx};
    values.push_back(c.new_value());
  }

  bool has(const json& x) {
    std::lock_guard<std::mutex> guard{mtx};
    return std::find(values.begin(), values.end(), x) != values.end();
  }
};

caf::behavior seen_subscriber(caf::event_based_actor*,
                              std::shared_ptr<seen_log> log) {
  return {[log](const change& c) { log->add(c); }};
}

/// Polls `pred` for up to 20 s.
bool eventually(const std::function<bool()>& pred) {
  for (int i = 0; i < 400; ++i) {
    if (pred())
      return true;
    std::this_thread::sleep_for(50ms);
  }
  return pred();
}

template <class T, class Handle, class... Ts>
std::optional<T> ask(caf::actor_system& sys, const Handle& dest, Ts&&... xs) {
  caf::scoped_actor self{sys};
  std::optional<T> result;
  self->request(dest, 10s, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) {
               CAF_MESSAGE("request failed: " << sys.render(err));
             });
  return result;
}

constexpr const char* test_secret = "cluster-net-secret-0123456789";

detail::link_options test_link() {
  detail::link_options out;
  out.secret = test_secret;
  out.heartbeat = 100ms;
  out.idle_timeout = 1s;
  return out;
}

/// The primary side: pipeline + primary behind a link gate.
struct primary_side {
  net_config cfg;
  caf::actor_system sys{cfg};
  detail::pipeline_core pipe;
  primary_actor primary;
  detail::link_context_ptr link = std::make_shared<detail::link_context>();
  detail::link_gate_ptr gate;
  uint16_t port = 0;

  explicit primary_side(uint16_t at = 0) {
    pipe = *detail::open_pipeline_core(sys, {});
    // As node::primary does: without a journal, each start is a cluster of
    // its own.
    primary_options popts;
    popts.secret = test_secret;
    popts.cluster_id = pipe.cluster_id;
    popts.epoch = pipe.epoch;
    primary = spawn_primary(sys, pipe.store, pipe.validator, popts);
    auto g = detail::open_primary_gate(sys, link, primary, "127.0.0.1", at,
                                       test_link());
    CAF_REQUIRE(g);
    gate = *g;
    port = gate->port();
  }

  ~primary_side() {
    gate->close();
    link->stop();
    // A published actor keeps the system alive: end it explicitly.
    caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
    shutdown(pipe.handles());
  }

  snapshot_ptr current() {
    return ask<snapshot_ptr>(sys, pipe.store, get_atom::value).value_or(nullptr);
  }
};

struct replica_side {
  net_config cfg;
  caf::actor_system sys{cfg};
  detail::link_context_ptr link = std::make_shared<detail::link_context>();
  replica_actor replica;

  replica_side(std::string name, uint16_t port) {
    replica_options opts;
    opts.node = std::move(name);
    opts.host = "127.0.0.1";
    opts.port = port;
    opts.min_backoff = 20ms;
    opts.max_backoff = 200ms;
    opts.secret = test_secret;
    opts.dialer = std::make_shared<detail::link_dialer>(link, test_link());
    replica = spawn_replica(sys, opts);
  }

  ~replica_side() {
    caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
    link->stop();
  }

  replica_status status() {
    return ask<replica_status>(sys, replica, status_atom::value)
      .value_or(replica_status{});
  }

  bool mirrors(const snapshot_ptr& snap) {
    auto st = status();
    return snap && st.connected && st.version == snap->version
           && st.hash == snap->hash;
  }
};

consistent_write_result write_all(caf::actor_system& sys,
                                  const replica_actor& via, std::string path,
                                  json value) {
  write_request req{{operation::set(std::move(path), std::move(value))},
                    "test", 0, {}};
  auto res = ask<consistent_write_result>(sys, via, write_atom::value, req,
                                          consistency::all, uint32_t{5000});
  CAF_REQUIRE(res);
  return *res;
}

} // namespace

CAF_TEST(a replica in another system mirrors the primary over tcp) {
  std::optional<primary_side> primary{std::in_place};
  auto port = primary->port;
  replica_side replica{"r1", port};
  auto log = std::make_shared<seen_log>();
  auto sub = caf::actor_cast<subscriber_actor>(
    replica.sys.spawn(seen_subscriber, log));
  CAF_REQUIRE(ask<uint64_t>(replica.sys, replica.replica, subscribe_atom::value,
                            std::string{"features"}, sub));
  CAF_REQUIRE(eventually([&] { return replica.mirrors(primary->current()); }));
  // A write through the replica reaches the primary and comes back acked.
  auto res = write_all(replica.sys, replica.replica, "features.new_algorithm",
                       true);
  CAF_CHECK(res.result.ok());
  CAF_CHECK(res.satisfied);
  CAF_CHECK_EQUAL(res.acked, std::vector<std::string>{"r1"});
  CAF_CHECK(eventually(
    [&] { return log->has(json{{"new_algorithm", true}}); }));
  auto replicas = ask<std::vector<replica_info>>(
    primary->sys, primary->primary, replicas_atom::value);
  CAF_REQUIRE(replicas);
  CAF_REQUIRE_EQUAL(replicas->size(), 1u);
  CAF_CHECK_EQUAL(replicas->front().node, "r1");
  CAF_CHECK_EQUAL(replicas->front().acked_version, res.result.version);
  // The primary goes away: the replica keeps its snapshot and is stale.
  auto last = primary->current();
  primary.reset();
  CAF_CHECK(eventually([&] { return replica.status().stale; }));
  auto snap = ask<snapshot_ptr>(replica.sys, replica.replica, get_atom::value);
  CAF_REQUIRE(snap);
  CAF_CHECK_EQUAL((*snap)->hash, last->hash);
  // It comes back on the same port with a fresh store (another cluster,
  // versions gone back): the replica reconnects by itself but keeps its
  // snapshot and says why it is stale...
  primary.emplace(port);
  CAF_CHECK(eventually([&] {
    auto st = replica.status();
    return st.stale && st.reason.find("another cluster") != std::string::npos;
  }));
  snap = ask<snapshot_ptr>(replica.sys, replica.replica, get_atom::value);
  CAF_REQUIRE(snap);
  CAF_CHECK_EQUAL((*snap)->hash, last->hash);
  CAF_CHECK_NOT_EQUAL((*snap)->hash, primary->current()->hash);
  // ... until it is told to resync: then it follows the new primary.
  auto resynced = ask<replica_status>(replica.sys, replica.replica,
                                      resync_atom::value);
  CAF_REQUIRE(resynced);
  CAF_CHECK_EQUAL(resynced->hash, primary->current()->hash);
  CAF_CHECK_EQUAL(resynced->cluster_id, primary->pipe.cluster_id);
  CAF_CHECK(resynced->reason.empty());
  CAF_REQUIRE(eventually([&] { return replica.mirrors(primary->current()); }));
  res = write_all(replica.sys, replica.replica, "features.new_algorithm", false);
  CAF_CHECK(res.satisfied);
  CAF_CHECK(eventually(
    [&] { return log->has(json{{"new_algorithm", false}}); }));
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  primary.reset();
}

} // namespace cluster_net_suite

#define CAF_SUITE etcd_node
// Two nodes of a service in etcd mode, as a library user has them: each in
// its own actor system, on a real etcd (/usr/bin/etcd). Writes on either
// reach the other's subscribers; a keyed write is one version wherever it
// is retried; without etcd both serve their last config, stale, and refuse
// writes.
#include "etcd/etcd_server.hpp"

#include <condition_variable>
#include <mutex>
#include <vector>

#include "cfgactors/node.hpp"
#include "cfgactors/system_config.hpp"

namespace etcd_node_suite {

using namespace cfgactors;
using namespace cfgactors::test;
using namespace std::chrono_literals;

namespace {

/// Every change a subscription got, and a way to wait for one.
struct seen_changes {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<change> all;

  void add(const change& c) {
    std::lock_guard<std::mutex> guard{mtx};
    all.push_back(c);
    cv.notify_all();
  }

  template <class Pred>
  bool wait_for(Pred pred, std::chrono::seconds timeout = 10s) {
    std::unique_lock<std::mutex> guard{mtx};
    return cv.wait_for(guard, timeout, [&] {
      for (auto& c : all)
        if (pred(c))
          return true;
      return false;
    });
  }
};

} // namespace

CAF_TEST(two nodes on one etcd follow each other and go stale without it) {
  shm_dir dir{"etcd-node"};
  etcd_server server{dir};
  system_config cfg_a;
  system_config cfg_b;
  caf::actor_system sys_a{cfg_a};
  caf::actor_system sys_b{cfg_b};
  auto options = [&](const char* name) {
    return node_options{}
      .etcd({server.endpoint()}, "lib")
      .node_name(name)
      .write_timeout(3s);
  };
  auto a = node::primary(sys_a, options("a"));
  CAF_REQUIRE(a);
  auto b = node::primary(sys_b, options("b"));
  CAF_REQUIRE(b);
  CAF_CHECK(a->in_etcd());
  CAF_CHECK(!b->stale());
  seen_changes on_b;
  auto sub = b->subscribe("feature",
                          [&](const change& c) { on_b.add(c); });
  CAF_REQUIRE(sub);
  // A write on a reaches b's subscriber, with a's number.
  auto w = a->set("feature.x", true);
  CAF_REQUIRE(w.result.ok());
  CAF_CHECK(on_b.wait_for([&](const change& c) {
    return c.version == w.result.version && !c.stale;
  }));
  // And the other way round, on top of it.
  auto w2 = b->set("feature.y", 1);
  CAF_REQUIRE(w2.result.ok());
  CAF_CHECK_GREATER(w2.result.version, w.result.version);
  for (int i = 0; i < 200 && a->version() < w2.result.version; ++i)
    std::this_thread::sleep_for(10ms);
  CAF_CHECK_EQUAL(a->version(), w2.result.version);
  // `all` counts both nodes.
  auto w3 = a->set("feature.z", 2, consistency::all);
  CAF_CHECK(w3.satisfied);
  CAF_CHECK_EQUAL(w3.acked, (std::vector<std::string>{"a", "b"}));
  // A keyed write retried on either node is one version.
  write_request keyed{{operation::set("orders.n", 1)}, "test", 0, {},
                      "order-42"};
  auto k1 = a->write(keyed);
  auto k2 = b->write(keyed);
  auto k3 = a->write(keyed);
  CAF_REQUIRE(k1.result.ok());
  CAF_CHECK_EQUAL(k2.result.version, k1.result.version);
  CAF_CHECK_EQUAL(k3.result.version, k1.result.version);
  // etcd goes away: both serve what they have, stale, and say so.
  auto last = b->version();
  server.kill();
  CAF_CHECK(on_b.wait_for([](const change& c) { return c.stale; }));
  // Each node finds out on its own (its watch ends, its sync fails).
  for (int i = 0; i < 500 && !a->stale(); ++i)
    std::this_thread::sleep_for(10ms);
  CAF_CHECK(a->stale());
  CAF_CHECK(b->stale());
  CAF_CHECK_EQUAL(b->version(), last);
  auto refused = b->set("feature.w", 3);
  CAF_CHECK_EQUAL(refused.result.code, errc::unavailable);
  CAF_CHECK_EQUAL(b->version(), last);
  b->unsubscribe(*sub);
}

} // namespace etcd_node_suite

#define CAF_SUITE topic_router
#include "pipeline_fixture.hpp"
#include "gate_subscriber.hpp"

#include <map>
#include <set>

namespace topic_router_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

struct fixture : pipeline_fixture {
  router_stats stats() {
    auto st = router_st().stats;
    st.subscribers = router_st().subscriptions.size();
    return st;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(topic_router_tests, fixture)

CAF_TEST(subscribers get changes under their prefix only) {
  set("logging.level", "INFO");
  set("features.beta", false);
  auto logging = subscribe("logging");
  auto features = subscribe("features");
  auto all = subscribe("");
  auto res = set("logging.level", "DEBUG");
  CAF_REQUIRE_EQUAL(logging->size(), 1u);
  CAF_CHECK_EQUAL(features->size(), 0u);
  CAF_CHECK_EQUAL(all->size(), 1u);
  auto& c = logging->front();
  CAF_CHECK_EQUAL(c.version, res.version);
  CAF_CHECK_EQUAL(c.hash, res.hash);
  CAF_CHECK_EQUAL(c.paths, std::vector<std::string>{"logging.level"});
  CAF_CHECK_EQUAL(c.old_value(), json({{"level", "INFO"}}));
  CAF_CHECK_EQUAL(c.new_value(), json({{"level", "DEBUG"}}));
  CAF_CHECK_EQUAL(c.skipped, 0u);
}

CAF_TEST(a prefix does not match a longer key that shares its text) {
  auto log = subscribe("log");
  set("logging.level", "DEBUG");
  set("log", 1);
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  CAF_CHECK_EQUAL(log->front().paths, std::vector<std::string>{"log"});
}

CAF_TEST(replacing an ancestor notifies the subscribers below it) {
  set("features.a", true);
  auto log = subscribe("features.a");
  write(operation::merge_patch(json{{"features", nullptr}}));
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  CAF_CHECK(log->front().new_value().is_null());
  CAF_CHECK_EQUAL(log->front().old_value(), true);
}

CAF_TEST(a version reaches the prefixes its paths lie within or hold) {
  write(operation::merge_patch(json::parse(R"({
    "a": {"b": {"c": {"d": 0}}, "bc": 0}, "b": 0, "a.b": 0, "x": 0
  })")));
  std::map<std::string, change_log> logs;
  for (auto prefix : {"", "a", "a.b", "a.b.c", "a.b.c.d", "a.bc", "b",
                      "a\\.b", "x", "a.b.c.d.e"})
    logs[prefix] = subscribe(prefix);
  std::map<std::string, std::size_t> had;
  // The prefixes whose subscriber got a change since the last call.
  auto receivers = [&] {
    std::set<std::string> result;
    for (auto& [prefix, log] : logs)
      if (log->size() > had[prefix]) {
        had[prefix] = log->size();
        result.insert(prefix);
      }
    return result;
  };
  using names = std::set<std::string>;
  auto last_paths = [&](const std::string& prefix) {
    auto& log = logs[prefix];
    CAF_REQUIRE(!log->empty());
    return log->back().paths;
  };
  // More prefixes than a publish tests one by one: each found from the
  // paths (and a value where an absent prefix would go reaches that
  // prefix too). The tests above, with a few prefixes, test each.
  set("a.b.c.d", 1);
  CAF_CHECK_EQUAL(receivers(), (names{"", "a", "a.b", "a.b.c", "a.b.c.d",
                                      "a.b.c.d.e"}));
  CAF_CHECK_EQUAL(last_paths("a.b"),
                  std::vector<std::string>{"a.b.c.d"});
  // A key with a dot in it is no parent of "a.b".
  set("a\\.b", 1);
  CAF_CHECK_EQUAL(receivers(), (names{"", "a\\.b"}));
  // An object replaced whole reaches the prefixes within it.
  write(operation::merge_patch(json::parse(R"({"a": {"b": 7}})")));
  CAF_CHECK_EQUAL(receivers(),
                  (names{"", "a", "a.b", "a.b.c", "a.b.c.d", "a.b.c.d.e"}));
  CAF_CHECK_EQUAL(last_paths("a.b.c.d.e"),
                  std::vector<std::string>{"a.b"});
  // Many paths at once.
  write(operation::merge_patch(json::parse(R"({
    "a": {"b": {"c": {"d": 2}}, "bc": 1}, "b": 1, "x": 1,
    "p1": 1, "p2": 1, "p3": 1, "p4": 1, "p5": 1, "p6": 1, "p7": 1, "p8": 1
  })")));
  CAF_CHECK_EQUAL(receivers(), (names{"", "a", "a.b", "a.b.c", "a.b.c.d",
                                    "a.b.c.d.e", "a.bc", "b", "x"}));
  CAF_CHECK_EQUAL(last_paths("a"),
                  (std::vector<std::string>{"a.b", "a.bc"}));
  CAF_CHECK_EQUAL(last_paths("").size(), 12u);
}

CAF_TEST(subscriptions at one prefix leave it one by one) {
  std::vector<caf::actor> subs;
  auto log = std::make_shared<std::vector<change>>();
  for (int i = 0; i < 3; ++i) {
    subs.push_back(sys.spawn(recorder, log));
    self->send(pipe.router, subscribe_atom::value, std::string{"n"},
               caf::actor_cast<subscriber_actor>(subs.back()));
  }
  run();
  CAF_CHECK_EQUAL(router_st().prefixes.at("n").ids.size(), 3u);
  // The first leaves: the last takes its place in the list, and knows it.
  self->send_exit(subs[0], caf::exit_reason::kill);
  run();
  auto& ids = router_st().prefixes.at("n").ids;
  CAF_REQUIRE_EQUAL(ids.size(), 2u);
  for (std::size_t i = 0; i < ids.size(); ++i)
    CAF_CHECK_EQUAL(router_st().subscriptions.at(ids[i]).slot, i);
  set("n", 1);
  CAF_CHECK_EQUAL(log->size(), 2u);
  for (int i = 2; i > 0; --i)
    self->send_exit(subs[i], caf::exit_reason::kill);
  run();
  CAF_CHECK(router_st().prefixes.empty());
  set("n", 2);
  CAF_CHECK_EQUAL(log->size(), 2u);
}

CAF_TEST(dead subscribers are dropped) {
  auto log = std::make_shared<std::vector<change>>();
  auto sub = sys.spawn(recorder, log);
  self->send(pipe.router, subscribe_atom::value, std::string{},
             caf::actor_cast<subscriber_actor>(sub));
  run();
  CAF_CHECK_EQUAL(stats().subscribers, 1u);
  self->send_exit(sub, caf::exit_reason::kill);
  sub = nullptr;
  run();
  CAF_CHECK_EQUAL(stats().subscribers, 0u);
  set("n", 1);
  CAF_CHECK_EQUAL(log->size(), 0u);
}

CAF_TEST(unsubscribing stops the changes) {
  auto log = std::make_shared<std::vector<change>>();
  auto sub = caf::actor_cast<subscriber_actor>(sys.spawn(recorder, log));
  auto f = self->request(pipe.router, caf::infinite, subscribe_atom::value,
                         std::string{}, sub);
  run();
  uint64_t id = 0;
  f.receive([&](uint64_t x) { id = x; }, [](caf::error&) {});
  set("n", 1);
  self->send(pipe.router, unsubscribe_atom::value, id);
  run();
  set("n", 2);
  CAF_CHECK_EQUAL(log->size(), 1u);
}

CAF_TEST(an idle subscription keeps no snapshot alive) {
  set("a.x", 1);
  auto log = subscribe("a");
  auto seen = set("a.x", 2);
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  std::weak_ptr<const snapshot> delivered = log->front().after;
  log->clear(); // the subscriber is done with it
  // Versions under another prefix, until the history lets go of `seen`
  // too: at 100,000 keys a version kept alive is a tree of ~9 MiB.
  auto history = pipeline_options{}.storage.history_size;
  for (std::size_t i = 0; i <= history; ++i)
    set("b", static_cast<int64_t>(i));
  CAF_CHECK(delivered.expired());
  // The next change still tells what it saw: the version it was given
  // last, and under its prefix that version's value.
  auto res = set("a.x", 3);
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  auto& c = log->front();
  CAF_CHECK_EQUAL(c.prev_version, seen.version);
  CAF_CHECK_EQUAL(c.version, res.version);
  CAF_CHECK_EQUAL(c.before->version, res.version - 1);
  CAF_CHECK_EQUAL(c.old_value(), json({{"x", 2}}));
  CAF_CHECK_EQUAL(c.new_value(), json({{"x", 3}}));
  CAF_CHECK_EQUAL(c.paths, std::vector<std::string>{"a.x"});
}

CAF_TEST(a busy subscriber gets the latest version and the count skipped) {
  auto log = std::make_shared<std::vector<change>>();
  auto busy = sys.spawn(gate, log);
  self->send(pipe.router, subscribe_atom::value, std::string{"n"},
             caf::actor_cast<subscriber_actor>(busy));
  run();
  for (int i = 1; i <= 10000; ++i) {
    set("n", i);
    // However many versions pile up, one is in flight and one is pending.
    if (i % 1000 == 0) {
      auto st = stats();
      CAF_CHECK_EQUAL(st.in_flight, 1u);
      CAF_CHECK_LESS_OR_EQUAL(st.pending, 1u);
    }
  }
  CAF_CHECK_EQUAL(log->size(), 1u);
  CAF_CHECK_EQUAL(log->front().version, 1u);
  self->send(busy, release_atom::value);
  run();
  CAF_REQUIRE_EQUAL(log->size(), 2u);
  auto& last = log->back();
  CAF_CHECK_EQUAL(last.version, 10000u);
  CAF_CHECK_EQUAL(last.prev_version, 1u);
  CAF_CHECK_EQUAL(last.skipped, 9998u);
  CAF_CHECK_EQUAL(last.new_value(), 10000);
  CAF_CHECK_EQUAL(last.paths, std::vector<std::string>{"n"});
  self->send(busy, release_atom::value);
  run();
  CAF_CHECK_EQUAL(stats().in_flight, 0u);
  CAF_CHECK_EQUAL(stats().pending, 0u);
  self->send_exit(busy, caf::exit_reason::kill);
}

CAF_TEST(a folded change names every path any folded version touched) {
  auto log = std::make_shared<std::vector<change>>();
  auto busy = sys.spawn(gate, log);
  self->send(pipe.router, subscribe_atom::value, std::string{"a"},
             caf::actor_cast<subscriber_actor>(busy));
  run();
  set("a.x", 1); // delivered: the subscriber is busy from here on
  set("a.y", 1);
  set("a.x", 2);
  set("a.y", 2);
  set("a.x", 3);
  set("b", 1); // not under the prefix: folds nothing
  set("a.z", 1);
  set("a.z", nullptr);
  CAF_REQUIRE_EQUAL(log->size(), 1u);
  self->send(busy, release_atom::value);
  run();
  CAF_REQUIRE_EQUAL(log->size(), 2u);
  auto& folded = log->back();
  CAF_CHECK_EQUAL(folded.paths, (std::vector<std::string>{"a.x", "a.y", "a.z"}));
  CAF_CHECK_EQUAL(folded.skipped, 5u);
  CAF_CHECK_EQUAL(folded.new_value(), (json{{"x", 3}, {"y", 2}}));
  self->send(busy, release_atom::value);
  run();
  self->send_exit(busy, caf::exit_reason::kill);
}

CAF_TEST(a version that changes no value reaches every version subscribers) {
  set("logging.level", "INFO");
  auto all = subscribe("");
  auto every = std::make_shared<std::vector<change>>();
  self->send(pipe.router, subscribe_atom::value, std::string{},
             caf::actor_cast<subscriber_actor>(sys.spawn(recorder, every)),
             every_version_atom::value);
  run();
  // A layer below the runtime layer with the same value: a new version,
  // the same tree.
  auto res = write(operation::replace_layer(
    "file:more.yaml", json{{"logging", {{"level", "INFO"}}}}));
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(all->size(), 0u);
  CAF_REQUIRE_EQUAL(every->size(), 1u);
  CAF_CHECK_EQUAL(every->front().version, res.version);
  CAF_CHECK(every->front().paths.empty());
  // Changes of values reach both as before.
  set("logging.level", "DEBUG");
  CAF_CHECK_EQUAL(all->size(), 1u);
  CAF_CHECK_EQUAL(every->size(), 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace topic_router_suite

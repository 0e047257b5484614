#define CAF_SUITE validator
#include "pipeline_fixture.hpp"

#include "cfgactors/flags.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "cfgactors/hash.hpp"
#include "cfgactors/rules.hpp"
#include "cfgactors/schema.hpp"
#include "model/config_tree.hpp"

namespace validator_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

pipeline_options with_rules() {
  auto rules = std::make_shared<rule_set>();
  rules->one_of("logging.level", {"TRACE", "DEBUG", "INFO", "WARNING", "ERROR"})
    .range("buffer_size", 100, 100000);
  pipeline_options opts;
  opts.validation.rules = rules;
  return opts;
}

json base_config() {
  return json{{"logging", {{"level", "INFO"}}},
              {"buffer_size", 1024},
              {"features", {{"new_algorithm", false},
                            {"beta_ui", {{"enabled", false}, {"rollout", 10}}}}},
              {"servers", json::array({{{"host", "a"}}, {{"host", "b"}}})}};
}

struct fixture : pipeline_fixture {
  fixture() : pipeline_fixture(with_rules()) {
    auto res = write(operation::replace_layer("file:app.yaml", base_config()));
    CAF_REQUIRE_EQUAL(res.status, write_status::committed);
    CAF_REQUIRE_EQUAL(res.version, 1u);
  }

  const json& effective() {
    return *current()->effective;
  }
};

std::vector<std::string> paths_of(const write_result& res) {
  std::vector<std::string> out;
  for (auto& err : res.errors)
    out.push_back(err.path);
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(validator_tests, fixture)

CAF_TEST(a valid write commits a new version with the hash of its content) {
  auto res = set("logging.level", "DEBUG");
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(res.version, 2u);
  CAF_CHECK_EQUAL(res.hash, current()->hash);
  CAF_CHECK_EQUAL(effective()["logging"]["level"], "DEBUG");
  CAF_CHECK_EQUAL(current()->origin, "test");
}

CAF_TEST(an invalid candidate is refused with every reason and nothing changes) {
  auto before = current();
  auto res = write(write_request{{operation::set("logging.level", "LOUD"),
                                  operation::set("buffer_size", 5)},
                                 "test",
                                 0, {}});
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_CHECK_EQUAL(res.code, errc::validation_failed);
  auto paths = paths_of(res);
  std::sort(paths.begin(), paths.end());
  CAF_CHECK_EQUAL(paths, (std::vector<std::string>{"buffer_size",
                                                   "logging.level"}));
  CAF_CHECK_EQUAL(res.version, 1u);
  CAF_CHECK_EQUAL(current(), before);
  auto& stats = validator_st().stats;
  CAF_CHECK_EQUAL(stats.rejected, 1u);
  CAF_CHECK_EQUAL(stats.failures_by_rule["one_of"], 1u);
  CAF_CHECK_EQUAL(stats.failures_by_rule["range"], 1u);
}

CAF_TEST(a write that changes no layer creates no version) {
  auto res = set("logging.level", "DEBUG");
  CAF_REQUIRE_EQUAL(res.version, 2u);
  res = set("logging.level", "DEBUG");
  CAF_CHECK_EQUAL(res.status, write_status::unchanged);
  CAF_CHECK_EQUAL(res.version, 2u);
  res = write(operation::replace_layer("file:app.yaml", base_config()));
  CAF_CHECK_EQUAL(res.status, write_status::unchanged);
  CAF_CHECK_EQUAL(current()->version, 2u);
}

CAF_TEST(compare and set on a stale version is a conflict) {
  set("buffer_size", 2048);
  auto res = write(write_request{{operation::set("buffer_size", 4096)}, "cas", 1, {}});
  CAF_CHECK_EQUAL(res.code, errc::version_conflict);
  CAF_CHECK_EQUAL(effective()["buffer_size"], 2048);
  res = write(write_request{{operation::set("buffer_size", 4096)}, "cas", 2, {}});
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(effective()["buffer_size"], 4096);
}

CAF_TEST(a transaction is one version or nothing) {
  auto res = write(write_request{{operation::set("buffer_size", 2000),
                                  operation::set("logging.level", "ERROR"),
                                  operation::flag("new_algorithm", true)},
                                 "tx",
                                 0, {}});
  CAF_CHECK_EQUAL(res.version, 2u);
  CAF_CHECK_EQUAL(effective()["buffer_size"], 2000);
  CAF_CHECK_EQUAL(effective()["features"]["new_algorithm"], true);
  res = write(write_request{{operation::set("buffer_size", 3000),
                             operation::set("a..b", 1)},
                            "tx",
                            0, {}});
  CAF_CHECK_EQUAL(res.code, errc::invalid_argument);
  CAF_CHECK_EQUAL(paths_of(res), std::vector<std::string>{"a..b"});
  CAF_CHECK_EQUAL(effective()["buffer_size"], 2000);
  CAF_CHECK_EQUAL(current()->version, 2u);
}

CAF_TEST(a flag flip on a rollout flag changes only enabled) {
  CAF_CHECK_EQUAL(write(operation::flag("beta_ui", true)).version, 2u);
  CAF_CHECK_EQUAL(effective()["features"]["beta_ui"],
                  (json{{"enabled", true}, {"rollout", 10}}));
  auto res = write(operation{op_kind::flag, "beta_ui", "yes", {}, 0});
  CAF_CHECK_EQUAL(res.code, errc::invalid_argument);
}

CAF_TEST(unset hides a key and reset brings the lower layer back) {
  CAF_CHECK_EQUAL(write(operation::unset("buffer_size")).status,
                  write_status::committed);
  CAF_CHECK(!effective().contains("buffer_size"));
  CAF_CHECK_EQUAL(write(operation::reset("buffer_size")).status,
                  write_status::committed);
  CAF_CHECK_EQUAL(effective()["buffer_size"], 1024);
  auto res = write(operation::unset("no.such.key"));
  CAF_CHECK_EQUAL(res.code, errc::not_found);
  CAF_CHECK_EQUAL(paths_of(res), std::vector<std::string>{"no.such.key"});
}

CAF_TEST(setting an array element keeps the rest of the array) {
  CAF_CHECK_EQUAL(set("servers[1].host", "c").status, write_status::committed);
  CAF_CHECK_EQUAL(effective()["servers"],
                  json::parse(R"([{"host":"a"},{"host":"c"}])"));
  CAF_CHECK_EQUAL(write(operation::unset("servers[0]")).status,
                  write_status::committed);
  CAF_CHECK_EQUAL(effective()["servers"], json::parse(R"([{"host":"c"}])"));
}

CAF_TEST(a merge patch merges into the runtime layer and null deletes) {
  auto res = write(operation::merge_patch(
    json{{"logging", {{"level", "WARNING"}, {"format", "json"}}},
         {"servers", nullptr}}));
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(effective()["logging"],
                  (json{{"level", "WARNING"}, {"format", "json"}}));
  CAF_CHECK(!effective().contains("servers"));
}

CAF_TEST(a merge patch over a replaced value keeps the file value hidden) {
  // The runtime layer replaces beta_ui, then a patch makes it an object
  // again: the file's rollout stays hidden, as after the two writes in turn.
  CAF_CHECK_EQUAL(set("features.beta_ui", true).status,
                  write_status::committed);
  auto patch = json::parse(R"({"features": {"beta_ui": {"enabled": true}}})");
  CAF_CHECK_EQUAL(write(operation::merge_patch(patch)).status,
                  write_status::committed);
  CAF_CHECK_EQUAL(effective()["features"]["beta_ui"], (json{{"enabled", true}}));
  // The same after a deletion, at a path below the deleted object.
  CAF_CHECK_EQUAL(write(operation::unset("features")).status,
                  write_status::committed);
  CAF_CHECK_EQUAL(write(operation::merge_patch(json{{"enabled", false}},
                                               "features.beta_ui"))
                    .status,
                  write_status::committed);
  CAF_CHECK_EQUAL(effective()["features"],
                  json::parse(R"({"beta_ui": {"enabled": false}})"));
}

CAF_TEST(rollback restores the content and hash of an earlier version) {
  auto v1 = current();
  set("buffer_size", 2048);
  set("logging.level", "DEBUG");
  auto res = write(operation::rollback(1));
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(res.version, 4u);
  CAF_CHECK_EQUAL(res.hash, v1->hash);
  CAF_CHECK_EQUAL(*current()->effective, *v1->effective);
  // Named for its target; the writer without an author is kept as one.
  CAF_CHECK_EQUAL(current()->origin, "rollback:1");
  CAF_CHECK_EQUAL(current()->author, "test");
  res = write(operation::rollback(99));
  CAF_CHECK_EQUAL(res.code, errc::not_found);
  CAF_CHECK_EQUAL(current()->version, 4u);
}

CAF_TEST(the author and reason of a write reach its snapshot and the history) {
  write_request req{{operation::set("buffer_size", 2048)}, "api:alice", 0, {}};
  req.author = "alice";
  req.reason = "OPS-42: bigger buffers \u2014 see the ticket";
  auto res = write(req);
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(current()->origin, "api:alice");
  CAF_CHECK_EQUAL(current()->author, "alice");
  CAF_CHECK_EQUAL(current()->reason, req.reason);
  auto rows = ask<std::vector<version_info>>(pipe.store, history_atom::value,
                                             uint64_t{0}, uint32_t{1});
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0], (version_info{res.version, res.hash,
                                         current()->timestamp_ms, "api:alice",
                                         "alice", req.reason}));
  // A write without them leaves them empty, not the previous version's.
  set("buffer_size", 4096);
  CAF_CHECK_EQUAL(current()->author, "");
  CAF_CHECK_EQUAL(current()->reason, "");
}

CAF_TEST(a rollback is named for its target and keeps its author and reason) {
  set("buffer_size", 2048);
  write_request req{{operation::rollback(1)}, "api:alice", 0, {}};
  req.author = "alice";
  req.reason = "2048 was too much";
  auto res = write(req);
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(current()->origin, "rollback:1");
  CAF_CHECK_EQUAL(current()->author, "alice");
  CAF_CHECK_EQUAL(current()->reason, "2048 was too much");
  // A rollback of an unknown version is refused as before.
  req.ops = {operation::rollback(99)};
  CAF_CHECK_EQUAL(write(req).code, errc::not_found);
}

CAF_TEST(a reason that is not one printable line is refused by name) {
  auto with_reason = [&](std::string why) {
    write_request req{{operation::set("buffer_size", 2048)}, "t", 0, {}};
    req.reason = std::move(why);
    return write(std::move(req));
  };
  for (auto bad : {std::string{"two\nlines"}, std::string{"bell\x07"},
                   std::string{"\xc3\x28"}, std::string(501, 'x'),
                   std::string{"c1 \xc2\x9b"}}) {
    auto res = with_reason(bad);
    CAF_CHECK_EQUAL(res.code, errc::invalid_argument);
    CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
    CAF_CHECK_EQUAL(res.errors[0].rule, "reason");
  }
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL(with_reason(std::string(500, 'x')).status,
                  write_status::committed);
}

CAF_TEST(a rollback inside a transaction is refused) {
  auto res = write(write_request{{operation::set("buffer_size", 2000),
                                  operation::rollback(1)},
                                 "tx",
                                 0, {}});
  CAF_CHECK_EQUAL(res.code, errc::invalid_argument);
  CAF_CHECK_EQUAL(current()->version, 1u);
}

CAF_TEST(a value nested ten thousand levels deep is refused cleanly) {
  // Built in place: copying a tree this deep would itself recurse 10,000
  // levels (nlohmann copies recursively), which is what callers must avoid.
  json deep = json::array();
  auto cur = &deep;
  for (int i = 0; i < 10000; ++i) {
    cur->push_back(json::array());
    cur = &cur->back();
  }
  write_request req;
  req.origin = "test";
  req.ops.push_back(operation{op_kind::set, "deep", std::move(deep), {}, 0});
  auto res = write(std::move(req));
  CAF_CHECK_EQUAL(res.code, errc::too_deep);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].rule, "limit.depth");
  CAF_CHECK_EQUAL(current()->version, 1u);
}

CAF_TEST(a very large value is accepted whole) {
  std::string big(5u << 20, 'x');
  auto res = set("blob", big);
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(effective()["blob"].get<std::string>().size(), big.size());
}

CAF_TEST(layers of higher precedence win and null deletes lower keys) {
  write(operation::replace_layer("env", json{{"buffer_size", 4096}}));
  CAF_CHECK_EQUAL(effective()["buffer_size"], 4096);
  write(operation::replace_layer("defaults", json{{"buffer_size", 100},
                                                  {"extra", 1}}));
  CAF_CHECK_EQUAL(effective()["buffer_size"], 4096);
  CAF_CHECK_EQUAL(effective()["extra"], 1);
  write(operation::replace_layer("remote:cfg", json{{"extra", nullptr}}));
  CAF_CHECK(!effective().contains("extra"));
  auto res = write(operation::replace_layer("env", json::array()));
  CAF_CHECK_EQUAL(res.code, errc::invalid_argument);
}

CAF_TEST(the next write builds on the previous one while the store commits it) {
  auto mailbox_size = [](const auto& hdl) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(hdl);
    return static_cast<caf::scheduled_actor*>(ptr)->mailbox().size();
  };
  auto before = validator_st().version;
  self->send(pipe.validator, write_atom::value,
             write_request{{operation::set("buffer_size", 2000)}, "a", 0, {}});
  self->send(pipe.validator, write_atom::value,
             write_request{{operation::set("buffer_size", 3000)}, "b", 0, {}});
  expect((write_atom, write_request), from(self).to(pipe.validator));
  expect((write_atom, write_request), from(self).to(pipe.validator));
  // The store has answered neither: both commits are in flight, the second
  // admitted on top of the first.
  CAF_CHECK_EQUAL(mailbox_size(pipe.store), 2u);
  CAF_CHECK_EQUAL(validator_st().in_flight.size(), 2u);
  CAF_CHECK_EQUAL(validator_st().version, before + 2);
  CAF_CHECK_EQUAL(current()->version, before);
  run();
  CAF_CHECK_EQUAL(validator_st().in_flight.size(), 0u);
  CAF_CHECK_EQUAL(current()->version, before + 2);
  CAF_CHECK_EQUAL(current()->origin, "b");
  CAF_CHECK_EQUAL((*current()->effective)["buffer_size"], 3000);
}

CAF_TEST(a write that runs alone waits until no commit is in flight) {
  auto before = validator_st().version;
  self->send(pipe.validator, write_atom::value,
             write_request{{operation::set("buffer_size", 2000)}, "a", 0, {}});
  write_request dry{{operation::set("buffer_size", 3000)}, "b", 0, {}};
  dry.dry_run = true;
  auto f = self->request(pipe.validator, caf::infinite, write_atom::value,
                         std::move(dry));
  expect((write_atom, write_request), from(self).to(pipe.validator));
  expect((write_atom, write_request), from(self).to(pipe.validator));
  // The dry run diffs against the durable version: it waits for the first.
  CAF_CHECK_EQUAL(validator_st().held.size(), 1u);
  run();
  CAF_CHECK_EQUAL(validator_st().held.size(), 0u);
  f.receive(
    [&](write_result& r) {
      CAF_CHECK_EQUAL(r.status, write_status::accepted);
      CAF_CHECK_EQUAL(r.diff.from, before + 1);
      CAF_CHECK_EQUAL(r.diff.view["buffer_size"]["old"], 2000);
    },
    [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
}

CAF_TEST(values marked secret never appear in the errors) {
  // The rule on logging.level echoes what it got; the source marked it secret.
  auto res = write(write_request{{operation::replace_layer(
                                   "env", json{{"logging", {{"level", "hunter2-pw"}}}})},
                                 "env:CFG_", 0, {"logging.level"}});
  CAF_REQUIRE_EQUAL(res.status, write_status::rejected);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].path, "logging.level");
  CAF_CHECK(res.errors[0].message.find("hunter2-pw") == std::string::npos);
  CAF_CHECK(res.errors[0].message.find("***") != std::string::npos);
  // Once marked, the path stays secret for later writes from anyone.
  res = set("logging.level", "hunter3-pw");
  CAF_REQUIRE_EQUAL(res.status, write_status::rejected);
  CAF_CHECK(res.describe().find("hunter3-pw") == std::string::npos);
  // Unmarked values are still shown: they help the operator.
  res = set("buffer_size", 5);
  CAF_CHECK(res.describe().find("got 5") != std::string::npos);
}

CAF_TEST(writes to the runtime layer and below always commit the full merge) {
  // The validator copies its cached base ahead of the next write; a change
  // below the runtime layer must not reuse that copy.
  set("buffer_size", 2000);
  write(operation::replace_layer("file:app.yaml",
                                 json{{"logging", {{"level", "DEBUG"}}},
                                      {"buffer_size", 1024}}));
  CAF_CHECK_EQUAL(effective(), current()->layers.effective());
  CAF_CHECK_EQUAL(effective()["logging"]["level"], "DEBUG");
  CAF_CHECK_EQUAL(effective()["buffer_size"], 2000);
  CAF_CHECK(!effective().contains("servers"));
  set("buffer_size", 3000);
  write(operation::replace_layer("env", json{{"extra", 1}}));
  set("buffer_size", 4000);
  CAF_CHECK_EQUAL(effective(), current()->layers.effective());
  CAF_CHECK_EQUAL(effective()["extra"], 1);
  CAF_CHECK_EQUAL(effective()["buffer_size"], 4000);
  CAF_CHECK_EQUAL(current()->version, 6u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

// A history of `Versions` versions: the store lets go of a snapshot that
// many commits after it was made (when nobody else holds it any more), so
// candidates are built in trees of older versions.
template <size_t Versions>
struct history_fixture : pipeline_fixture {
  static pipeline_options with_history() {
    pipeline_options opts;
    opts.storage.history_size = Versions;
    return opts;
  }

  history_fixture() : pipeline_fixture(with_history()) {
    // nop
  }
};

using short_history_fixture = history_fixture<4>;

// With one version the store lets go of every snapshot at the next commit.
using one_version_fixture = history_fixture<1>;

} // namespace

/// Pipelined one-key writes to a config of 6,000 values in `layer`: each is
/// built along its change, none merged whole.
template <class Fixture>
void large_config_builds_along(Fixture& fx, const char* layer) {
  json big = json::object();
  for (int i = 0; i < 6000; ++i)
    big["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  auto first = fx.write(operation::replace_layer(layer, big));
  CAF_REQUIRE_EQUAL(first.status, write_status::committed);
  for (int i = 1; i <= 6; ++i)
    first = fx.set("s0.k" + std::to_string(i), -i);
  auto copies_before
    = fx.template ask<validator_stats>(fx.pipe.validator, stats_atom::value)
        .tree_copies;
  // Thirty writes at once: each built on the candidate before it, which
  // the store has not committed yet.
  constexpr int writes = 30;
  for (int i = 1; i <= writes; ++i)
    fx.self->send(fx.pipe.validator, write_atom::value,
                  write_request{{operation::set("s0.k0", -i)}, "w", 0, {}});
  fx.run();
  std::vector<uint64_t> versions;
  for (int i = 0; i < writes; ++i)
    fx.self->receive([&](write_result& r) {
      CAF_CHECK_EQUAL(r.status, write_status::committed);
      versions.push_back(r.version);
    });
  CAF_REQUIRE_EQUAL(versions.size(), static_cast<size_t>(writes));
  for (int i = 0; i < writes; ++i)
    CAF_CHECK_EQUAL(versions[i], first.version + 1 + i);
  auto snap = fx.current();
  CAF_CHECK_EQUAL(snap->version, first.version + writes);
  CAF_CHECK_EQUAL((*snap->effective)["s0"]["k0"], -writes);
  CAF_CHECK_EQUAL(*snap->effective, snap->layers.effective());
  CAF_CHECK_EQUAL(snap->hash, canonical_hash(*snap->effective));
  // Every one built along its change: none merged whole.
  auto copies
    = fx.template ask<validator_stats>(fx.pipe.validator, stats_atom::value)
        .tree_copies;
  CAF_CHECK_EQUAL(copies, copies_before);
}

CAF_TEST_FIXTURE_SCOPE(waiting_tests, short_history_fixture)

CAF_TEST(pipelined writes to a large config build along their changes) {
  large_config_builds_along(*this, "file:big.yaml");
}

CAF_TEST(writes to a large config in the runtime layer build along too) {
  // The layers below the runtime layer are empty: the config is the
  // runtime layer, which every write edits.
  large_config_builds_along(*this, "runtime");
}

namespace {

/// `values` integers in sections of 100: s0.k0 ...
json wide_config(int values) {
  json big = json::object();
  for (int i = 0; i < values; ++i)
    big["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  return big;
}

} // namespace

CAF_TEST(a reader that keeps every version holds up no write and no copy) {
  // 6,000 values; a reader (a subscriber's last versions, say) keeps each
  // version: every write is still answered at once, and builds its tree
  // along its change, sharing the rest with the versions kept.
  auto first = write(operation::replace_layer("file:big.yaml",
                                              wide_config(6000)));
  CAF_REQUIRE_EQUAL(first.status, write_status::committed);
  auto whole = validator_st().merged.whole_builds;
  std::vector<snapshot_ptr> held{current()};
  for (int i = 1; i <= 20; ++i) {
    self->send(pipe.validator, write_atom::value,
               write_request{{operation::set("s0.k0", -i)}, "w", 0, {}});
    sched.run();
    self->receive([](write_result& r) {
      CAF_CHECK_EQUAL(r.status, write_status::committed);
    }, caf::after(std::chrono::seconds(0)) >> [&] {
      CAF_FAIL("write " << i << " was not answered");
    });
    held.push_back(current());
  }
  CAF_CHECK_EQUAL(validator_st().merged.whole_builds, whole);
  CAF_CHECK_EQUAL((*current()->effective)["s0"]["k0"], -20);
  CAF_CHECK_EQUAL(*current()->effective, current()->layers.effective());
  CAF_CHECK_EQUAL(current()->hash, canonical_hash(*current()->effective));
  // The versions kept share every section but the one written.
  auto& oldest = *held.front()->effective.tree();
  auto& newest = *held.back()->effective.tree();
  CAF_CHECK_EQUAL(oldest.member("s1"), newest.member("s1"));
  CAF_CHECK_NOT_EQUAL(oldest.member("s0"), newest.member("s0"));
}

CAF_TEST(writes are pipelined with the history full) {
  // Each admitted before the one before commits.
  for (int i = 0; i < 6; ++i)
    CAF_REQUIRE_EQUAL(set("a", -i).status, write_status::committed);
  for (int i = 1; i <= 3; ++i)
    self->send(pipe.validator, write_atom::value,
               write_request{{operation::set("a", i)}, "w", 0, {}});
  for (int i = 1; i <= 3; ++i)
    expect((write_atom, write_request), from(self).to(pipe.validator));
  CAF_CHECK_EQUAL(validator_st().in_flight.size(), 3u);
  run();
  for (int i = 0; i < 3; ++i)
    self->receive([](write_result& r) {
      CAF_CHECK_EQUAL(r.status, write_status::committed);
    });
  CAF_CHECK_EQUAL((*current()->effective)["a"], 3);
}

CAF_TEST_FIXTURE_SCOPE_END()

CAF_TEST_FIXTURE_SCOPE(recycling_tests, one_version_fixture)

CAF_TEST(candidates built along their writes are exactly the merge of layers) {
  auto committed = [&](const write_result& res) {
    CAF_REQUIRE_EQUAL(res.status, write_status::committed);
    auto snap = current();
    CAF_CHECK_EQUAL(snap->version, res.version);
    CAF_CHECK_EQUAL(*snap->effective, snap->layers.effective());
    return *snap->effective;
  };
  committed(write(operation::replace_layer(
    "file:a.yaml", json{{"a", {{"x", 0}, {"y", 1}}}, {"list", {1, 2, 3}}})));
  for (int i = 1; i <= 40; ++i) {
    switch (i % 4) {
      case 0: {
        auto eff = committed(set("a.x", i));
        CAF_CHECK_EQUAL(eff["a"]["x"], i);
        break;
      }
      case 1: {
        // Keys that sort ever earlier: the old one is always the last.
        auto key = "z" + std::to_string(100 - i);
        auto eff = committed(write(operation::replace_layer(
          "file:a.yaml", json{{"a", {{"y", i}}}, {key, i}, {"list", {i}}})));
        CAF_CHECK_EQUAL(eff[key], i);
        CAF_CHECK_EQUAL(eff["list"], json::array({i}));
        break;
      }
      case 2:
        if (i % 8 == 2) {
          auto eff = committed(write(
            operation::merge_patch(json{{"a", {{"y", nullptr}, {"w", i}}}})));
          CAF_CHECK(!eff["a"].contains("y"));
          CAF_CHECK_EQUAL(eff["a"]["w"], i);
        } else {
          // No runtime layer at all: the candidate is the base itself.
          auto eff = committed(write(operation::reset("")));
          CAF_CHECK(!eff["a"].contains("x"));
          CAF_CHECK_EQUAL(eff["a"]["y"], i - 1);
        }
        break;
      case 3: {
        auto eff = committed(write(operation::replace_layer(
          "env", json{{"a", {{"z", {i, i + 1}}}}, {"s", std::to_string(i)}})));
        CAF_CHECK_EQUAL(eff["a"]["z"], json::array({i, i + 1}));
        CAF_CHECK_EQUAL(eff["s"], std::to_string(i));
        break;
      }
    }
  }
  // Every one was built along its change, none merged whole.
  CAF_CHECK_EQUAL(validator_st().merged.whole_builds, 0u);
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

pipeline_options with_schema() {
  std::string error;
  pipeline_options opts;
  opts.validation.schema = json_schema::compile(json::parse(R"({
    "type": "object", "required": ["limits"],
    "properties": {"limits": {"type": "object",
                              "additionalProperties": {"type": "integer",
                                                       "minimum": 0}}}
  })"), &error);
  return opts;
}

struct schema_fixture : pipeline_fixture {
  schema_fixture() : pipeline_fixture(with_schema()) {
    // nop
  }

  /// Whether the validator's running layers are the very layers its schema
  /// accepted last (so the next write is proved along what it changes).
  bool on_proven_layers() {
    auto& st = validator_st();
    if (!st.proven || st.proven->size() != st.layers.size())
      return false;
    return std::equal(st.layers.begin(), st.layers.end(), st.proven->begin(),
                      [](const layer& x, const layer& y) {
                        return x.name == y.name && x.data == y.data;
                      });
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(proven_layers_tests, schema_fixture)

CAF_TEST(writes build on the layers the schema accepted) {
  // Nothing proven before the first write: it takes the full pass.
  CAF_CHECK(!on_proven_layers());
  auto first = write(operation::replace_layer("file:app.yaml",
                                              json{{"limits", {{"a", 1}}}}));
  CAF_REQUIRE_EQUAL(first.status, write_status::committed);
  CAF_CHECK(on_proven_layers());
  CAF_CHECK_EQUAL(validator_st().judged_on_proven, 0u);
  for (int i = 0; i < 5; ++i) {
    CAF_CHECK_EQUAL(set("limits.b", i).status, write_status::committed);
    CAF_CHECK(on_proven_layers());
  }
  // Each of them on the layers the previous one left.
  CAF_CHECK_EQUAL(validator_st().judged_on_proven, 5u);
  // Refused along the changed path, with the full pass's error; the base
  // stays the proven one.
  auto bad = set("limits.c", -1);
  CAF_CHECK_EQUAL(bad.status, write_status::rejected);
  CAF_REQUIRE_EQUAL(bad.errors.size(), 1u);
  CAF_CHECK_EQUAL(bad.errors[0].path, "limits.c");
  CAF_CHECK_EQUAL(bad.errors[0].rule, "schema.minimum");
  CAF_CHECK_EQUAL(validator_st().judged_on_proven, 6u);
  CAF_CHECK(on_proven_layers());
  auto limits = (*current()->effective)["limits"];
  CAF_CHECK_EQUAL(limits, (json{{"a", 1}, {"b", 4}}));
}

CAF_TEST_FIXTURE_SCOPE_END()

namespace {

/// cfgd's rules (the flags' check) and a range over every section.
pipeline_options with_flag_rules() {
  auto rules = std::make_shared<rule_set>();
  add_feature_rules(*rules);
  rules->range("*.k0", -1000, 100000);
  pipeline_options opts;
  opts.validation.rules = rules;
  return opts;
}

struct flag_rules_fixture : pipeline_fixture {
  flag_rules_fixture() : pipeline_fixture(with_flag_rules()) {
    // nop
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(rules_along_tests, flag_rules_fixture)

CAF_TEST(rules run along the write without making the config JSON) {
  auto cfg = json::object();
  for (int i = 0; i < 10000; ++i)
    cfg["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  cfg["features"]["f"] = json{{"enabled", true}, {"rollout", 10}};
  CAF_REQUIRE_EQUAL(write(operation::replace_layer("file:big.yaml", cfg))
                      .status,
                    write_status::committed);
  auto before = detail::whole_jsons_made();
  for (int i = 1; i <= 10; ++i)
    CAF_CHECK_EQUAL(set("s7.k3", -i).status, write_status::committed);
  CAF_CHECK_EQUAL(write(operation::flag("f", false)).status,
                  write_status::committed);
  CAF_CHECK_EQUAL(detail::whole_jsons_made(), before);
  // And they still refuse what they refuse: a bad flag, a value out of
  // range, each named by its path.
  auto bad_flag = set("features.f.rollout", 400);
  CAF_CHECK_EQUAL(bad_flag.status, write_status::rejected);
  CAF_CHECK_EQUAL(paths_of(bad_flag),
                  std::vector<std::string>{"features.f.rollout"});
  auto out_of_range = set("s7.k0", -5000);
  CAF_CHECK_EQUAL(out_of_range.status, write_status::rejected);
  CAF_CHECK_EQUAL(paths_of(out_of_range), std::vector<std::string>{"s7.k0"});
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace validator_suite

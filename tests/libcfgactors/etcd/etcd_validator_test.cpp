// The validator in etcd mode, against a scripted committer (no etcd): how a
// write goes through compare-and-set, what a conflict, a duplicate or an
// outage make of it, and how versions of other nodes are adopted.
#define CAF_SUITE etcd_validator
#include "pipeline_fixture.hpp"

#include <deque>
#include <memory>
#include <vector>

#include "cfgactors/hash.hpp"
#include "cfgactors/merge.hpp"
#include "etcd/etcd_actor_types.hpp"

namespace etcd_validator_suite {

using namespace cfgactors;
using namespace cfgactors::detail;
using outcome = etcd_commit_result::outcome;

namespace {

/// What the fake committer was asked and what it answers, in order.
struct script {
  std::deque<etcd_commit_result> answers;
  std::vector<etcd_commit> asked;
};

using script_ptr = std::shared_ptr<script>;

etcd_committer_actor::behavior_type fake_committer(script_ptr s) {
  return {
    [s](commit_atom, etcd_commit& c) -> etcd_commit_result {
      s->asked.push_back(c);
      if (s->answers.empty())
        return etcd_commit_result{outcome::committed, 0, {}, 0, {}, {}};
      auto out = std::move(s->answers.front());
      s->answers.pop_front();
      return out;
    },
    [](etcd_sync_atom, uint64_t, int64_t) { return etcd_sync_result{}; },
  };
}

using applied_log = std::shared_ptr<std::vector<uint64_t>>;

etcd_presence_actor::behavior_type fake_presence(applied_log log) {
  return {
    [log](applied_atom, uint64_t v, const std::string&) { log->push_back(v); },
    [](want_atom, uint64_t, bool) {},
    [](etcd_follower_actor&) {},
  };
}

/// A record another node committed: `layers` merged and hashed as a
/// validator would.
version_record record_of(uint64_t version, uint64_t previous,
                         layer_stack layers, std::string node = "n2") {
  version_record r;
  r.version = version;
  r.previous = previous;
  r.hash = canonical_hash(layers.effective());
  r.origin = "api:other";
  r.node = std::move(node);
  r.timestamp_ms = 1700000000000;
  r.layers = std::move(layers);
  return r;
}

layer_stack runtime(json x) {
  layer_stack out;
  out.put(std::string{runtime_layer}, std::move(x));
  return out;
}

struct fixture : test_coordinator_fixture<system_config> {
  script_ptr s = std::make_shared<script>();
  applied_log applied = std::make_shared<std::vector<uint64_t>>();
  etcd_counters_ptr counters = std::make_shared<etcd_counters>();
  pipeline_core pipe;

  fixture() {
    counters->writable = true; // the follower's word: in sync with etcd
    etcd_hooks hooks;
    hooks.committer = sys.spawn(fake_committer, s);
    hooks.presence = sys.spawn(fake_presence, applied);
    hooks.node = "n1";
    hooks.counters = counters;
    pipe = *open_pipeline_core(sys, {}, hooks);
    run();
  }

  ~fixture() {
    shutdown(pipe.handles());
    run();
  }

  write_result write(write_request req) {
    write_result out;
    auto f = self->request(pipe.validator, caf::infinite, write_atom::value,
                           std::move(req));
    run();
    f.receive([&](write_result& r) { out = std::move(r); },
              [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  write_result set(std::string path, json value, std::string key = {}) {
    return write(write_request{{operation::set(std::move(path),
                                               std::move(value))},
                               "api:test", 0, {}, std::move(key)});
  }

  snapshot_ptr current() {
    snapshot_ptr out;
    auto f = self->request(pipe.store, caf::infinite, get_atom::value);
    run();
    f.receive([&](snapshot_ptr& x) { out = std::move(x); },
              [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return out;
  }

  void adopt(version_record r) {
    self->send(pipe.validator_ext, adopt_atom::value, std::move(r));
    run();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(etcd_validator_tests, fixture)

CAF_TEST(a write is committed in etcd before the store numbers it) {
  auto r = set("a", 1);
  CAF_CHECK_EQUAL(r.status, write_status::committed);
  CAF_CHECK_EQUAL(r.version, 1u);
  CAF_REQUIRE_EQUAL(s->asked.size(), 1u);
  auto& c = s->asked[0];
  CAF_CHECK_EQUAL(c.base, 0u);
  CAF_CHECK_EQUAL(c.expect_head, 0u);
  CAF_CHECK_EQUAL(c.record.version, 1u);
  CAF_CHECK_EQUAL(c.record.node, "n1");
  CAF_CHECK_EQUAL(c.record.origin, "api:test");
  // The store took etcd's number and the record's hash and time.
  auto snap = current();
  CAF_CHECK_EQUAL(snap->version, 1u);
  CAF_CHECK_EQUAL(snap->hash, c.record.hash);
  CAF_CHECK_EQUAL(snap->timestamp_ms, c.record.timestamp_ms);
  CAF_CHECK_EQUAL(*snap->effective, (json{{"a", 1}}));
  CAF_CHECK_EQUAL(*applied, (std::vector<uint64_t>{0, 1}));
  CAF_CHECK_EQUAL(counters->commits.load(), 1u);
}

CAF_TEST(a record holds what changed on top of its base and every layer every 32) {
  write(write_request{{operation::replace_layer("defaults",
                                                json{{"big", {1, 2, 3}}})},
                      "test", 0, {}});
  set("a", 1);
  CAF_REQUIRE_EQUAL(s->asked.size(), 2u);
  auto& first = s->asked[0].record;
  CAF_CHECK_EQUAL(first.base, 0u); // nothing to stand on: every layer
  auto& second = s->asked[1].record;
  CAF_CHECK_EQUAL(second.base, 1u);
  CAF_CHECK_EQUAL(second.layers.size(), 1u); // the runtime layer alone
  CAF_CHECK(second.layers.get("runtime") != nullptr);
  CAF_CHECK(second.removed.empty());
  write(write_request{{operation::remove_layer("defaults")}, "test", 0, {}});
  CAF_CHECK_EQUAL(s->asked[2].record.removed,
                  (std::vector<std::string>{"defaults"}));
  CAF_CHECK_EQUAL(s->asked[2].record.layers.size(), 0u);
  for (int i = 4; i <= 32; ++i)
    set("a", i);
  CAF_CHECK_EQUAL(s->asked.back().record.version, 32u);
  CAF_CHECK_EQUAL(s->asked.back().record.base, 0u);
  CAF_CHECK_EQUAL(s->asked.back().record.layers.size(), 1u);
}

CAF_TEST(a one-key write into a large layer is a record of that key) {
  auto big = json::object();
  for (int i = 0; i < 5000; ++i)
    big["s" + std::to_string(i / 100)]["k" + std::to_string(i)] = i;
  write(write_request{{operation::replace_layer("runtime", big)}, "test", 0,
                      {}});
  set("s7.k777", "seven");
  write(write_request{{operation::unset("s8.k801")}, "test", 0, {}});
  CAF_REQUIRE_EQUAL(s->asked.size(), 3u);
  auto whole = encode(s->asked[0].record).size();
  for (std::size_t i = 1; i <= 2; ++i) {
    auto& rec = s->asked[i].record;
    auto text = encode(rec);
    CAF_MESSAGE("record " << rec.version << ": " << text.size()
                          << " bytes (the first, whole: " << whole << ")");
    CAF_CHECK_EQUAL(rec.base, rec.version - 1);
    CAF_CHECK_EQUAL(rec.layers.size(), 0u);
    CAF_REQUIRE_EQUAL(rec.changes.size(), 1u);
    CAF_CHECK_EQUAL(rec.changes[0].first, "runtime");
    CAF_CHECK_LESS(text.size(), 400u);
  }
  auto& flip = s->asked[1].record.changes[0].second;
  CAF_REQUIRE_EQUAL(flip.set.size(), 1u);
  CAF_CHECK_EQUAL(flip.set[0].first.str(), "s7.k777");
  CAF_CHECK_EQUAL(flip.set[0].second, json("seven"));
  CAF_CHECK(flip.unset.empty());
  auto& gone = s->asked[2].record.changes[0].second;
  CAF_MESSAGE("unset: " << gone.set.size() << " set, " << gone.unset.size()
                        << " removed");
  CAF_REQUIRE_EQUAL(gone.set.size() + gone.unset.size(), 1u);
  CAF_CHECK_EQUAL((gone.unset.empty() ? gone.set[0].first : gone.unset[0]).str(),
                  "s8.k801");
  CAF_CHECK_GREATER(whole, 50000u);
}

CAF_TEST(a record of changes installs on its base and is checked by hash) {
  auto base = json{{"a", 1}, {"keep", {{"x", 1}, {"y", 2}}}};
  adopt(record_of(3, 2, runtime(base)));
  auto next = base;
  next["a"] = 2;
  next["keep"].erase("y");
  auto delta = record_of(4, 3, runtime(next));
  delta.base = 3;
  delta.layers = layer_stack{};
  layer_changes ch;
  ch.set.emplace_back(*config_path::parse("a"), json(2));
  ch.unset.push_back(*config_path::parse("keep.y"));
  delta.changes.emplace_back("runtime", ch);
  adopt(delta);
  CAF_CHECK_EQUAL(current()->version, 4u);
  CAF_CHECK_EQUAL(*current()->effective, next);
  // Changes that do not apply to the base: skipped and counted.
  auto stray = record_of(5, 4, runtime(next));
  stray.base = 4;
  stray.layers = layer_stack{};
  stray.changes.emplace_back("runtime", ch); // keep.y is gone already
  adopt(stray);
  CAF_CHECK_EQUAL(current()->version, 4u);
  CAF_CHECK_EQUAL(counters->errors.load(), 1u);
  // Changes that apply but make another config: the hash refuses them.
  next["a"] = 3;
  auto wrong = record_of(5, 4, runtime(next));
  wrong.base = 4;
  wrong.layers = layer_stack{};
  layer_changes other;
  other.set.emplace_back(*config_path::parse("a"), json(4));
  wrong.changes.emplace_back("runtime", other);
  adopt(wrong);
  CAF_CHECK_EQUAL(current()->version, 4u);
  CAF_CHECK_EQUAL(counters->hash_mismatches.load(), 1u);
}

CAF_TEST(a record of a change installs on its base only) {
  adopt(record_of(3, 2, runtime({{"a", 1}})));
  auto delta = record_of(4, 3, runtime({{"a", 2}}));
  delta.base = 3;
  adopt(delta);
  CAF_CHECK_EQUAL(current()->version, 4u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"a", 2}}));
  // On a base this node does not have: skipped, counted; the next full one
  // installs.
  auto stray = record_of(6, 5, runtime({{"a", 6}}));
  stray.base = 5;
  adopt(stray);
  CAF_CHECK_EQUAL(current()->version, 4u);
  CAF_CHECK_EQUAL(counters->errors.load(), 1u);
  adopt(record_of(7, 6, runtime({{"a", 7}})));
  CAF_CHECK_EQUAL(current()->version, 7u);
}

CAF_TEST(a conflict adopts the newer head and validates the write again) {
  s->answers.push_back(etcd_commit_result{
    outcome::conflict, 5, {record_of(5, 4, runtime({{"b", 2}}))}, 0, {}, {}});
  auto r = set("a", 1);
  CAF_CHECK_EQUAL(r.status, write_status::committed);
  CAF_CHECK_EQUAL(r.version, 6u);
  CAF_REQUIRE_EQUAL(s->asked.size(), 2u);
  CAF_CHECK_EQUAL(s->asked[1].base, 5u);
  CAF_CHECK_EQUAL(s->asked[1].expect_head, 5u);
  CAF_CHECK_EQUAL(s->asked[1].record.previous, 5u);
  // Built on the other node's version: both values are there.
  CAF_CHECK_EQUAL(*current()->effective, (json{{"a", 1}, {"b", 2}}));
  CAF_CHECK_EQUAL(counters->cas_conflicts.load(), 1u);
  CAF_CHECK_EQUAL(*applied, (std::vector<uint64_t>{0, 5, 6}));
}

CAF_TEST(a retry compares the head it was built on and not a newer one) {
  // etcd is at 100, but the conflict brought only version 50 (a node far
  // behind): the retry must not pass a compare against 100 with the layers
  // of 50, which would drop 51..100.
  s->answers.push_back(etcd_commit_result{
    outcome::conflict, 100, {record_of(50, 49, runtime({{"b", 2}}))}, 0, {},
    {}});
  set("a", 1);
  CAF_REQUIRE_EQUAL(s->asked.size(), 2u);
  CAF_CHECK_EQUAL(s->asked[1].base, 50u);
  CAF_CHECK_EQUAL(s->asked[1].expect_head, 50u);
  CAF_CHECK_EQUAL(s->asked[1].record.previous, 50u);
  CAF_CHECK_EQUAL(s->asked[1].record.version, 51u);
}

CAF_TEST(an etcd behind the node gets a number above both) {
  set("a", 1);
  set("a", 2);
  // etcd lost its data (restored from an old backup): its head is 0.
  s->answers.push_back(
    etcd_commit_result{outcome::conflict, 0, {}, 0, {}, {}});
  auto r = set("a", 3);
  CAF_CHECK_EQUAL(r.version, 3u);
  CAF_REQUIRE_EQUAL(s->asked.size(), 4u);
  CAF_CHECK_EQUAL(s->asked[3].expect_head, 0u);
  CAF_CHECK_EQUAL(s->asked[3].record.version, 3u);
}

CAF_TEST(a head that keeps moving ends in a conflict after 256 tries) {
  for (uint64_t i = 0; i < 256; ++i)
    s->answers.push_back(etcd_commit_result{
      outcome::conflict, i + 1,
      {record_of(i + 1, i, runtime({{"n", i}}))}, 0, {}, {}});
  auto r = set("a", 1);
  CAF_CHECK_EQUAL(r.status, write_status::rejected);
  CAF_CHECK_EQUAL(r.code, errc::version_conflict);
  CAF_CHECK_EQUAL(s->asked.size(), 256u);
  // What the other nodes committed meanwhile is here; the write is not.
  CAF_CHECK_EQUAL(current()->version, 256u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"n", 255}}));
}

CAF_TEST(etcd without a quorum makes a write unavailable and changes nothing) {
  s->answers.push_back(etcd_commit_result{outcome::unavailable, 0, {}, 0, {},
                                          "context deadline exceeded"});
  auto r = set("a", 1);
  CAF_CHECK_EQUAL(r.status, write_status::rejected);
  CAF_CHECK_EQUAL(r.code, errc::unavailable);
  CAF_REQUIRE_EQUAL(r.errors.size(), 1u);
  CAF_CHECK(r.errors[0].message.find("context deadline exceeded")
            != std::string::npos);
  CAF_CHECK_EQUAL(current()->version, 0u);
  CAF_CHECK_EQUAL(counters->errors.load(), 1u);
}

CAF_TEST(a node out of sync with etcd refuses writes before validating) {
  counters->writable = false;
  auto r = set("a", 1);
  CAF_CHECK_EQUAL(r.code, errc::unavailable);
  CAF_CHECK_EQUAL(s->asked.size(), 0u);
  counters->writable = true;
  CAF_CHECK_EQUAL(set("a", 1).version, 1u);
}

CAF_TEST(a duplicate key answers the first version without a new one) {
  s->answers.push_back(etcd_commit_result{outcome::duplicate, 0, {}, 4,
                                          "hash-of-4", {}});
  auto r = set("a", 1, "order-1");
  CAF_CHECK_EQUAL(r.status, write_status::committed);
  CAF_CHECK_EQUAL(r.version, 4u);
  CAF_CHECK_EQUAL(r.hash, "hash-of-4");
  CAF_CHECK_EQUAL(current()->version, 0u);
  // The node remembers it: the next retry does not ask etcd.
  auto again = set("a", 1, "order-1");
  CAF_CHECK_EQUAL(again.version, 4u);
  CAF_CHECK_EQUAL(s->asked.size(), 1u);
  CAF_CHECK_EQUAL(s->asked[0].record.idempotency_key, "order-1");
}

CAF_TEST(a duplicate installs the first write before it answers) {
  // The first write went through another node; this one has not seen its
  // version yet. A read after the answer must show it.
  auto first = record_of(1, 0, runtime({{"a", 1}}));
  first.idempotency_key = "order-5";
  s->answers.push_back(etcd_commit_result{
    outcome::duplicate, 1, {first}, 1, first.hash, {}});
  auto r = set("a", 2, "order-5");
  CAF_CHECK_EQUAL(r.status, write_status::committed);
  CAF_CHECK_EQUAL(r.version, 1u);
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"a", 1}}));
  CAF_CHECK_EQUAL(*applied, (std::vector<uint64_t>{0, 1}));
}

CAF_TEST(a key seen in a record of another node answers that version) {
  auto rec = record_of(3, 2, runtime({{"a", 1}}));
  rec.idempotency_key = "order-2";
  adopt(rec);
  auto r = set("a", 5, "order-2");
  CAF_CHECK_EQUAL(r.version, 3u);
  CAF_CHECK_EQUAL(s->asked.size(), 0u);
  // Another key of the same length is another write.
  auto other = set("a", 5, "order-3");
  CAF_CHECK_EQUAL(other.version, 4u);
}

CAF_TEST(author and reason go into the record and come out of an adopted one) {
  write_request req{{operation::set("a", 1)}, "api:alice", 0, {}};
  req.author = "alice";
  req.reason = "OPS-42";
  auto r = write(req);
  CAF_REQUIRE_EQUAL(r.status, write_status::committed);
  CAF_REQUIRE_EQUAL(s->asked.size(), 1u);
  CAF_CHECK_EQUAL(s->asked[0].record.author, "alice");
  CAF_CHECK_EQUAL(s->asked[0].record.reason, "OPS-42");
  CAF_CHECK_EQUAL(current()->author, "alice");
  CAF_CHECK_EQUAL(current()->reason, "OPS-42");
  // Another node's version: its author and reason, not this node's last.
  auto rec = record_of(3, 2, runtime({{"a", 2}}));
  rec.author = "bob";
  rec.reason = "written on n2";
  adopt(rec);
  CAF_REQUIRE_EQUAL(current()->version, 3u);
  CAF_CHECK_EQUAL(current()->author, "bob");
  CAF_CHECK_EQUAL(current()->reason, "written on n2");
  // A record of an older node has neither.
  adopt(record_of(4, 3, runtime({{"a", 3}})));
  CAF_REQUIRE_EQUAL(current()->version, 4u);
  CAF_CHECK_EQUAL(current()->author, "");
  CAF_CHECK_EQUAL(current()->reason, "");
}

CAF_TEST(adopted versions are installed in etcd order and checked by hash) {
  adopt(record_of(3, 2, runtime({{"a", 1}})));
  CAF_CHECK_EQUAL(current()->version, 3u);
  CAF_CHECK_EQUAL(current()->origin, "api:other");
  // Already there (a node sees its own commits come back): ignored.
  adopt(record_of(3, 2, runtime({{"a", 9}})));
  adopt(record_of(2, 1, runtime({{"a", 9}})));
  CAF_CHECK_EQUAL(*current()->effective, (json{{"a", 1}}));
  // A record whose layers do not hash to its hash is not installed.
  auto bad = record_of(4, 3, runtime({{"a", 2}}));
  bad.hash = canonical_hash(json{{"a", 3}});
  adopt(bad);
  CAF_CHECK_EQUAL(current()->version, 3u);
  CAF_CHECK_EQUAL(counters->hash_mismatches.load(), 1u);
  // The next good one is (each record holds every layer).
  adopt(record_of(5, 4, runtime({{"a", 5}})));
  CAF_CHECK_EQUAL(current()->version, 5u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"a", 5}}));
  // A write now builds on it.
  auto r = set("b", 1);
  CAF_CHECK_EQUAL(r.version, 6u);
  CAF_CHECK_EQUAL(s->asked.back().expect_head, 5u);
}

CAF_TEST(another node reading a layer differently is counted) {
  write_request req{{operation::replace_layer("file:/etc/app.yaml",
                                              json{{"x", 1}})},
                    "file:/etc/app.yaml", 0, {}};
  CAF_CHECK_EQUAL(write(req).version, 1u);
  // The same content from another node: no conflict.
  layer_stack same;
  same.put("file:/etc/app.yaml", json{{"x", 1}});
  same.put(std::string{runtime_layer}, json{{"r", 1}});
  adopt(record_of(2, 1, same));
  CAF_CHECK_EQUAL(counters->layer_conflicts.load(), 0u);
  layer_stack other;
  other.put("file:/etc/app.yaml", json{{"x", 2}});
  adopt(record_of(3, 2, other));
  CAF_CHECK_EQUAL(counters->layer_conflicts.load(), 1u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"x", 2}}));
}

CAF_TEST_FIXTURE_SCOPE_END()

// Without etcd, a node remembers its keyed writes too.
CAF_TEST_FIXTURE_SCOPE(standalone_idempotency_tests, test::pipeline_fixture)

CAF_TEST(a retried keyed write answers its first version) {
  auto first = write(write_request{{operation::set("a", 1)}, "t", 0, {}, "k"});
  auto again = write(write_request{{operation::set("a", 2)}, "t", 0, {}, "k"});
  CAF_CHECK_EQUAL(first.version, 1u);
  CAF_CHECK_EQUAL(again.version, 1u);
  CAF_CHECK_EQUAL(again.status, write_status::committed);
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"a", 1}}));
  auto other = write(write_request{{operation::set("a", 2)}, "t", 0, {}, "j"});
  CAF_CHECK_EQUAL(other.version, 2u);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace etcd_validator_suite

// Each version records where it changed (snapshot::changes), found from what
// the write touched, and its hash computed along those paths only: both
// must equal what a full diff and a full hash of the trees give.
#define CAF_SUITE changes
#include "pipeline_fixture.hpp"

#include <string>
#include <vector>

#include "cfgactors/diff.hpp"
#include "cfgactors/hash.hpp"
#include "model/hash_tree.hpp"

namespace changes_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

/// 20 sections of 20 keys, a nested object and an array in each.
json big_file() {
  json tree = json::object();
  for (int i = 0; i < 20; ++i) {
    auto& s = tree["s" + std::to_string(i)];
    for (int j = 0; j < 20; ++j)
      s["k" + std::to_string(j)] = i * 100 + j;
    s["nested"]["v"] = i;
    s["list"] = json::array({i, i + 1});
  }
  return tree;
}

struct fixture : pipeline_fixture {
  /// Checks the newest version against full computations over the trees,
  /// given the one before it; returns the number of changed paths.
  std::size_t check_newest(const snapshot_ptr& prev) {
    auto snap = current();
    CAF_REQUIRE(snap != nullptr);
    CAF_REQUIRE(snap->version == prev->version + 1);
    CAF_REQUIRE(snap->changes != nullptr);
    CAF_CHECK_EQUAL(snap->changes_from, prev->version);
    auto full = changed_paths(*prev->effective, *snap->effective);
    CAF_CHECK_EQUAL(*snap->changes, full);
    CAF_CHECK_EQUAL(snap->hash, canonical_hash(*snap->effective));
    CAF_REQUIRE(snap->hashes != nullptr);
    CAF_CHECK_EQUAL(snap->hashes->hex(), snap->hash);
    return full.size();
  }

  std::size_t commit(operation op) {
    auto prev = current();
    auto r = write(std::move(op));
    CAF_REQUIRE_EQUAL(r.status, write_status::committed);
    return check_newest(prev);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(changes_tests, fixture)

CAF_TEST(every kind of write records the paths a full diff finds) {
  CAF_CHECK_EQUAL(commit(operation::replace_layer("file:a.yaml", big_file())),
                  20u);
  CAF_CHECK_EQUAL(commit(operation::set("s0.k0", "runtime")), 1u);
  // Merged over the file's s1.nested: one key added.
  CAF_CHECK_EQUAL(commit(operation::set("s1.nested", json{{"w", 1}})), 1u);
  CAF_CHECK_EQUAL(commit(operation::set("s2.list", json::array({9}))), 1u);
  CAF_CHECK_EQUAL(commit(operation::set("s3", 5)), 1u);
  CAF_CHECK_EQUAL(commit(operation::unset("s0.k0")), 1u); // file's value back
  CAF_CHECK_EQUAL(commit(operation::set("s4.k1", nullptr)), 1u);
  CAF_CHECK_EQUAL(commit(operation::merge_patch(
                    json{{"s5", {{"k1", -1}, {"k2", nullptr}}},
                         {"new", {{"a", {{"b", 1}}}}}})),
                  3u);
  CAF_CHECK_EQUAL(commit(operation::flag("beta", true)), 1u);
  CAF_CHECK_EQUAL(commit(operation::reset("s5")), 2u);
  // A lower layer, partly shadowed by the runtime layer above it.
  auto env = json{{"s1", {{"nested", {{"w", 7}, {"x", 8}}}}},
                  {"s6", {{"k0", "env"}}}};
  CAF_CHECK_EQUAL(commit(operation::replace_layer("env", env)), 2u);
  auto file = big_file();
  file["s7"]["k7"] = "edited";
  file.erase("s8");
  CAF_CHECK_EQUAL(commit(operation::replace_layer("file:a.yaml", file)), 2u);
  CAF_CHECK_EQUAL(commit(operation::remove_layer("env")), 2u);
  // Every layer back as version 3 had them (the counts are checked against
  // the full diff in commit()).
  CAF_CHECK_GREATER(commit(operation::rollback(3)), 1u);
}

CAF_TEST(a one key change hashes only the containers on its path) {
  commit(operation::replace_layer("file:a.yaml", big_file()));
  auto before = current();
  commit(operation::set("s7.k3", 0));
  auto after = current();
  auto& old_members = before->hashes->members;
  auto& new_members = after->hashes->members;
  CAF_REQUIRE_EQUAL(old_members.size(), new_members.size());
  std::size_t shared = 0;
  for (std::size_t i = 0; i < old_members.size(); ++i)
    if (old_members[i].second == new_members[i].second)
      ++shared;
    else
      CAF_CHECK_EQUAL(new_members[i].first, "s7");
  CAF_CHECK_EQUAL(shared, old_members.size() - 1);
}

CAF_TEST(subscribers get the recorded paths under their prefix) {
  commit(operation::replace_layer("file:a.yaml", big_file()));
  auto all = subscribe("");
  auto s5 = subscribe("s5");
  commit(operation::merge_patch(json{{"s5", {{"k1", -1}}}, {"s6", {{"k1", -1}}}}));
  CAF_REQUIRE_EQUAL(all->size(), 1u);
  CAF_CHECK_EQUAL(all->back().paths,
                  (std::vector<std::string>{"s5.k1", "s6.k1"}));
  CAF_REQUIRE_EQUAL(s5->size(), 1u);
  CAF_CHECK_EQUAL(s5->back().paths, (std::vector<std::string>{"s5.k1"}));
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace changes_suite

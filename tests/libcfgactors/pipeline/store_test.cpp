#define CAF_SUITE store
#include "pipeline_fixture.hpp"

namespace store_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

pipeline_options small_history() {
  pipeline_options opts;
  opts.storage.history_size = 5;
  return opts;
}

struct fixture : pipeline_fixture {
  fixture() : pipeline_fixture(small_history()) {
    // nop
  }

  template <class T, class... Ts>
  caf::expected<T> ask(Ts&&... xs) {
    caf::expected<T> result{caf::sec::bad_function_call};
    auto f = self->request(pipe.store, caf::infinite, std::forward<Ts>(xs)...);
    run();
    f.receive([&](T& x) { result = std::move(x); },
              [&](caf::error& err) { result = std::move(err); });
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(store_tests, fixture)

CAF_TEST(versions start at one and only go up) {
  CAF_CHECK_EQUAL(current()->version, 0u);
  for (int i = 1; i <= 10; ++i) {
    auto res = set("n", i);
    CAF_CHECK_EQUAL(res.version, static_cast<uint64_t>(i));
  }
  CAF_CHECK_EQUAL((*current()->effective)["n"], 10);
}

CAF_TEST(the history ring keeps the newest versions only) {
  for (int i = 1; i <= 12; ++i)
    set("n", i);
  auto& versions = store_st().versions;
  CAF_CHECK_EQUAL(versions.size(), 5u);
  CAF_CHECK_EQUAL(versions.oldest_version(), 8u);
  CAF_CHECK_EQUAL(versions.current()->version, 12u);
  auto old = ask<snapshot_ptr>(get_atom::value, uint64_t{3});
  CAF_REQUIRE(!old);
  CAF_CHECK_EQUAL(old.error().code(), static_cast<uint8_t>(errc::not_found));
  auto kept = ask<snapshot_ptr>(get_atom::value, uint64_t{9});
  CAF_REQUIRE(kept);
  CAF_CHECK_EQUAL((*(*kept)->effective)["n"], 9);
}

CAF_TEST(history lists versions newest first with who made them) {
  set("n", 1);
  write(operation::set("n", 2), "api:alice");
  set("n", 3);
  auto res = ask<std::vector<version_info>>(history_atom::value, uint64_t{0}, uint32_t{10});
  CAF_REQUIRE(res);
  auto rows = *res;
  CAF_REQUIRE_EQUAL(rows.size(), 3u);
  CAF_CHECK_EQUAL(rows[0].version, 3u);
  CAF_CHECK_EQUAL(rows[1].origin, "api:alice");
  CAF_CHECK(!rows[1].hash.empty());
  res = ask<std::vector<version_info>>(history_atom::value, uint64_t{3}, uint32_t{1});
  rows = *res;
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].version, 2u);
}

CAF_TEST(the diff between two versions is the expected patch) {
  write(operation::replace_layer(
    "file:a.yaml", json{{"logging", {{"level", "INFO"}}}, {"old", 1}}));
  write(operation::replace_layer(
    "file:a.yaml", json{{"logging", {{"level", "DEBUG"}}}, {"new", 2}}));
  auto res = ask<diff_result>(diff_atom::value, uint64_t{1}, uint64_t{2});
  CAF_REQUIRE(res);
  auto d = *res;
  CAF_CHECK_EQUAL(d.patch, json::parse(R"([
    {"op":"replace","path":"/logging/level","value":"DEBUG"},
    {"op":"remove","path":"/old"},
    {"op":"add","path":"/new","value":2}])"));
  CAF_CHECK_EQUAL(d.view, json::parse(R"({
    "logging.level": {"old":"INFO","new":"DEBUG"},
    "new": {"added":2},
    "old": {"removed":1}})"));
  auto applied = *current()->effective;
  CAF_CHECK_EQUAL(json::parse(R"({"logging":{"level":"INFO"},"old":1})")
                    .patch(d.patch),
                  applied);
  CAF_CHECK(!ask<diff_result>(diff_atom::value, uint64_t{1}, uint64_t{42}));
}

CAF_TEST(every committed version is published to the router in order) {
  auto log = subscribe("");
  for (int i = 1; i <= 3; ++i)
    set("n", i);
  CAF_REQUIRE_EQUAL(log->size(), 3u);
  for (uint64_t i = 0; i < 3; ++i) {
    CAF_CHECK_EQUAL((*log)[i].version, i + 1);
    CAF_CHECK_EQUAL((*log)[i].prev_version, i);
  }
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace store_suite

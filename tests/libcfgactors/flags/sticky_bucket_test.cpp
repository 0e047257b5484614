#define CAF_SUITE sticky_bucket
// Golden values of the sticky buckets, the same vectors docs/FLAGS.md lists.
// A changed salt, separator, hash constant or bucket count moves users in
// and out of every running rollout: it must fail here, not in production.
#include "cfgactors_test.hpp"

#include <string>

#include "cfgactors/flags.hpp"

#include "flags/twin_flags.hpp"

#include "flags/sticky_bucket.hpp"

namespace sticky_bucket_suite {

using namespace cfgactors;

namespace {

struct vector_row {
  const char* flag;
  const char* key;
  uint32_t rollout_bucket;
  uint32_t variant_bucket;
};

// Generated from the code once and pinned (docs/FLAGS.md, "Test vectors").
constexpr vector_row golden[] = {
  {"checkout", "user-1", 7799, 4054},  {"checkout", "user-2", 2075, 8403},
  {"checkout", "alice", 1021, 8174},   {"new-ui", "user-1", 6620, 8794},
  {"new-ui", "42", 7380, 8233},        {"dark-mode", "bob", 6624, 4356},
  {"dark-mode", "", 933, 9949},        {"theme", "user-10000", 8565, 6503},
};

} // namespace

CAF_TEST(the bucketing constants are the documented ones) {
  CAF_CHECK_EQUAL(detail::bucket_count, 10000u);
  CAF_CHECK_EQUAL(std::string{detail::rollout_salt}, "rollout");
  CAF_CHECK_EQUAL(std::string{detail::variant_salt}, "variant");
}

CAF_TEST(rollout and variant buckets match the golden vectors) {
  for (auto& row : golden) {
    CAF_MESSAGE(row.flag << " / " << row.key);
    CAF_CHECK_EQUAL(
      detail::sticky_bucket(detail::rollout_salt, row.flag, row.key),
      row.rollout_bucket);
    CAF_CHECK_EQUAL(
      detail::sticky_bucket(detail::variant_salt, row.flag, row.key),
      row.variant_bucket);
  }
}

CAF_TEST(the evaluator puts golden keys where their buckets say) {
  // checkout at 25 %: in when the rollout bucket is below 2500.
  auto config = json::parse(R"({"features": {
    "checkout": {"rollout": 25},
    "theme": {"variants": {"blue": 1, "green": 1}}
  }})");
  test::twin_flags flags{config};
  CAF_CHECK_EQUAL(flags.enabled("checkout", {{"user", "user-1"}}), false);
  CAF_CHECK_EQUAL(flags.enabled("checkout", {{"user", "user-2"}}), true);
  CAF_CHECK_EQUAL(flags.enabled("checkout", {{"user", "alice"}}), true);
  // theme: blue takes buckets below 5000, green the rest.
  CAF_CHECK_EQUAL(flags.variant("theme", {{"user", "user-10000"}}), "green");
}

} // namespace sticky_bucket_suite

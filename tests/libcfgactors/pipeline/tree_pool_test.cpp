#define CAF_SUITE tree_pool
// The pool of trees to build versions in: two usually, one more for each
// time a writer found none and copied (a burst of pipelined writes), back
// to two when trimmed; a writer that waits instead is told when one is back.
#include "cfgactors_test.hpp"

#include <optional>

#include "core/internal_actor_types.hpp"
#include "pipeline/tree_pool.hpp"

namespace tree_pool_suite {

using namespace cfgactors;

namespace {

detail::pooled_tree tree(uint64_t version) {
  return {json{{"v", version}}, version, std::nullopt};
}

/// How many trees the pool gives out before it has none (the last miss
/// keeps no more).
size_t drain(detail::tree_pool& pool) {
  size_t n = 0;
  while (pool.take_if_any())
    ++n;
  return n;
}

} // namespace

CAF_TEST(two trees wait usually and the rest are let go) {
  detail::tree_pool pool;
  for (uint64_t v = 1; v <= 5; ++v)
    pool.put(tree(v));
  auto first = pool.take();
  CAF_REQUIRE(first.has_value());
  CAF_CHECK_EQUAL(first->version, 2u); // the newest kept
  CAF_CHECK_EQUAL(first->tree, (json{{"v", 2}}));
  CAF_CHECK_EQUAL(drain(pool), 1u);
}

CAF_TEST(each miss keeps one more tree until trimmed) {
  detail::tree_pool pool;
  // A burst: 10 writes found no tree.
  for (int i = 0; i < 10; ++i)
    CAF_CHECK(!pool.take().has_value());
  for (uint64_t v = 1; v <= 20; ++v)
    pool.put(tree(v));
  CAF_CHECK_EQUAL(drain(pool), 12u); // the usual two and ten more
  for (uint64_t v = 1; v <= 20; ++v)
    pool.put(tree(v));
  pool.trim();
  CAF_CHECK_EQUAL(drain(pool), 2u);
  // Never more than `most`, however many misses.
  for (size_t i = 0; i < 3 * detail::tree_pool::most; ++i)
    pool.take();
  for (uint64_t v = 1; v <= 3 * detail::tree_pool::most; ++v)
    pool.put(tree(v));
  CAF_CHECK_EQUAL(drain(pool), detail::tree_pool::most);
}

CAF_TEST(a miss that waits keeps no more trees) {
  detail::tree_pool pool;
  for (int i = 0; i < 10; ++i)
    CAF_CHECK(!pool.take_if_any().has_value());
  for (uint64_t v = 1; v <= 20; ++v)
    pool.put(tree(v));
  CAF_CHECK_EQUAL(drain(pool), 2u);
  // Told of copies instead: one more per copy.
  for (int i = 0; i < 3; ++i)
    pool.grow();
  for (uint64_t v = 1; v <= 20; ++v)
    pool.put(tree(v));
  CAF_CHECK_EQUAL(drain(pool), 5u);
}

namespace {

/// Counts the resume messages it gets.
caf::behavior resume_counter(caf::event_based_actor*,
                             std::shared_ptr<int> count) {
  return {[count](detail::resume_atom) { ++*count; }};
}

struct waiter_fixture : test_coordinator_fixture<caf::actor_system_config> {
  std::shared_ptr<int> resumed = std::make_shared<int>(0);
  caf::actor waiter = sys.spawn(resume_counter, resumed);
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(tree_pool_waiters, waiter_fixture)

CAF_TEST(a writer that waits is told when a tree is back) {
  run();
  detail::tree_pool pool;
  CAF_CHECK(!pool.take_or_notify(waiter.address()).has_value());
  disallow((detail::resume_atom), to(waiter));
  pool.put(tree(7));
  expect((detail::resume_atom), to(waiter));
  // Told once: the next tree put back tells nobody.
  pool.put(tree(8));
  disallow((detail::resume_atom), to(waiter));
  auto taken = pool.take_or_notify(waiter.address());
  CAF_REQUIRE(taken.has_value());
  CAF_CHECK_EQUAL(taken->version, 8u);
  // A tree there: taken at once, nobody waits.
  CAF_CHECK_EQUAL(drain(pool), 1u);
  pool.put(tree(9));
  disallow((detail::resume_atom), to(waiter));
  run();
  CAF_CHECK_EQUAL(*resumed, 1);
}

CAF_TEST(a waiter that is gone is not told) {
  run();
  detail::tree_pool pool;
  CAF_CHECK(!pool.take_or_notify(waiter.address()).has_value());
  anon_send_exit(waiter, caf::exit_reason::user_shutdown);
  run();
  waiter = nullptr;
  pool.put(tree(1)); // no actor to tell: nothing happens
  CAF_CHECK_EQUAL(drain(pool), 1u);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace tree_pool_suite

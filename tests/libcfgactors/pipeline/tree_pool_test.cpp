#define CAF_SUITE tree_pool
// The pool of trees to build versions in: two usually, one more for each
// time a writer found none (a burst of pipelined writes), back to two when
// trimmed.
#include "cfgactors_test.hpp"

#include <optional>

#include "pipeline/tree_pool.hpp"

using namespace cfgactors;

namespace {

detail::pooled_tree tree(uint64_t version) {
  return {json{{"v", version}}, version, std::nullopt};
}

/// How many trees the pool gives out before it has none.
size_t drain(detail::tree_pool& pool) {
  size_t n = 0;
  while (pool.take())
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

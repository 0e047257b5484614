// How a subscription receives the versions that arrive while its subscriber
// is still busy with an earlier one.
#pragma once

#include <cstdint>

#include <caf/meta/type_name.hpp>

namespace cfgactors {

enum class delivery_mode : uint8_t {
  /// The default: one change in flight, the rest folded into the newest
  /// (`change::skipped` counts them). O(1) memory however slow it is.
  latest,
  /// Every version that touched the prefix, in order, each as its own
  /// (before, after) step, for listeners that need each pair. At most
  /// `max_pending` wait, fewer for a large config: a waiting version holds
  /// its whole tree, so the queue holds about 2^20 values at most (10
  /// versions of 100,000 keys, 103 of 10,000). Past that the queue is
  /// dropped and the subscriber gets one `change::resync` step from what it
  /// last saw to the current version (`skipped` = the versions it did not
  /// see one by one).
  every_version,
};

struct delivery {
  delivery_mode mode = delivery_mode::latest;
  uint32_t max_pending = 0; ///< every_version only; at least 1

  static delivery latest() {
    return {};
  }

  static delivery every_version(uint32_t max_pending = 1024) {
    return {delivery_mode::every_version, max_pending};
  }

  friend bool operator==(const delivery& x, const delivery& y) {
    return x.mode == y.mode && x.max_pending == y.max_pending;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, delivery& x) {
  return f(caf::meta::type_name("delivery"), x.mode, x.max_pending);
}

} // namespace cfgactors

// Private helper of the remote sources: the delay before the next attempt
// after consecutive failures, doubling up to a cap, with jitter so that many
// nodes that lost the same server do not retry in lockstep.
#pragma once

#include <algorithm>
#include <chrono>
#include <cstdint>
#include <random>

namespace cfgactors::detail {

class backoff {
public:
  using duration = std::chrono::milliseconds;

  /// The n-th delay since the last reset (n = 0, 1, ...) is
  /// `first × 2^n` capped at `cap`, then spread by ±`jitter` (a fraction).
  backoff(duration first, duration cap, double jitter = 0.2,
          uint64_t seed = std::random_device{}())
    : first_(std::max(first, duration{1})),
      cap_(std::max(cap, first_)),
      jitter_(std::clamp(jitter, 0.0, 1.0)),
      rng_(seed) {
    // nop
  }

  /// The delay before the next attempt; counts one more failure.
  duration next() {
    auto base = first_;
    // Doubling step by step stops at the cap and cannot overflow.
    for (uint32_t i = 0; i < failures_ && base < cap_; ++i)
      base *= 2;
    base = std::min(base, cap_);
    ++failures_;
    if (jitter_ == 0.0)
      return base;
    std::uniform_real_distribution<double> spread{1.0 - jitter_,
                                                  1.0 + jitter_};
    auto ms = static_cast<double>(base.count()) * spread(rng_);
    return duration{std::max<int64_t>(1, static_cast<int64_t>(ms))};
  }

  /// After a success: the next delay is `first` again.
  void reset() noexcept {
    failures_ = 0;
  }

  /// Failures counted since the last reset.
  uint32_t failures() const noexcept {
    return failures_;
  }

private:
  duration first_;
  duration cap_;
  double jitter_;
  uint32_t failures_ = 0;
  std::minstd_rand rng_;
};

} // namespace cfgactors::detail

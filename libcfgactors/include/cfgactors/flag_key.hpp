// A feature flag's name, resolved once per compiled set of flags: what a
// service keeps for the flags it evaluates on hot paths.
#pragma once

#include <atomic>
#include <cstdint>
#include <string>
#include <utility>

namespace cfgactors {

namespace detail {
class compiled_flags;
} // namespace detail

/// Names a flag for feature_flags::enabled / evaluate_view. The first
/// evaluation against a snapshot's compiled flags remembers where the flag
/// is in them; later evaluations against the same ones skip hashing and
/// comparing the name (bench/flags: the "key" rows). Another snapshot's
/// flags are recognized as such and the name is looked up again. Safe to
/// share between threads (the remembered place is one atomic word).
///
/// ~~~
/// static const cfgactors::flag_key dark_mode{"dark_mode"};
/// if (flags.enabled(dark_mode, ctx)) ...
/// ~~~
class flag_key {
public:
  explicit flag_key(std::string name) : name_(std::move(name)) {
    // nop
  }

  flag_key(const flag_key& other) : name_(other.name_) {
    // nop: the copy resolves again on its first use
  }

  flag_key& operator=(const flag_key& other) {
    name_ = other.name_;
    resolved_.store(0, std::memory_order_relaxed);
    return *this;
  }

  const std::string& name() const noexcept {
    return name_;
  }

private:
  friend class detail::compiled_flags;

  std::string name_;
  /// The id of the compiled flags it was last resolved against (the high
  /// 40 bits) and the flag's place in them plus one (the low 24; all ones:
  /// absent there). 0: not resolved yet.
  mutable std::atomic<uint64_t> resolved_{0};
};

} // namespace cfgactors

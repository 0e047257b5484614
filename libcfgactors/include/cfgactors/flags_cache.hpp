// Where the compiled form of a configuration's feature flags is kept: in its
// snapshot (built by the first evaluation, shared by every reader of that
// version) or in a feature_flags over a tree or an overlay.
#pragma once

#include <atomic>
#include <memory>

namespace cfgactors::detail {

/// The flags of one `features` subtree, compiled for evaluation
/// (src/flags/compiled_flags.hpp).
class compiled_flags;

/// Holds compiled_flags built once, on first use: readers race to install,
/// one wins, the others drop theirs. A copy starts empty, since the copied
/// tree may then be changed.
class flags_cache {
public:
  flags_cache() noexcept = default;

  flags_cache(const flags_cache&) noexcept {
    // nop
  }

  flags_cache& operator=(const flags_cache&) noexcept {
    reset();
    return *this;
  }

  ~flags_cache();

  /// The compiled flags, or nullptr before the first install.
  const compiled_flags* get() const noexcept {
    return ptr_.load(std::memory_order_acquire);
  }

  /// Installs `fresh` unless another thread was first; returns the
  /// installed flags.
  const compiled_flags*
  install(std::unique_ptr<const compiled_flags> fresh) const noexcept;

private:
  void reset() noexcept;

  mutable std::atomic<const compiled_flags*> ptr_{nullptr};
};

} // namespace cfgactors::detail

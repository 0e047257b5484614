// lazy<T>: a value built on first access and rebuilt on the access after
// invalidate() — the seed's LazyConfig, safe to share between threads.
#pragma once

#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <utility>

#include <caf/expected.hpp>

namespace cfgactors {

namespace detail {

/// Logs `event=lazy_loaded|lazy_load_failed|lazy_invalidated`.
void log_lazy_event(const char* event, uint64_t loads);

} // namespace detail

/// ```cpp
/// cfgactors::lazy<cfgactors::node> config{[&] {
///   return cfgactors::node::primary(sys, cfgactors::node_options{}
///                                          .file("config.yaml"));
/// }};
/// if (auto n = config.get())             // the first access loads
///   use((*n)->get<bool>("debug_mode", false));
/// config.invalidate();                   // the next access loads again
/// ```
///
/// Like std::call_once, but resettable: concurrent first accesses run the
/// loader once while the others wait for its result. A failed load (an
/// error, or an exception, which propagates) leaves nothing loaded: the
/// next access tries again. `get` hands out shared pointers, so a value
/// invalidated while a thread still uses it lives until that thread lets go.
/// The loader must not access the same lazy (it would wait for itself).
template <class T>
class lazy {
public:
  using loader = std::function<caf::expected<T>()>;

  explicit lazy(loader load) : load_(std::move(load)) {
    // nop
  }

  lazy(const lazy&) = delete;
  lazy& operator=(const lazy&) = delete;

  /// The value, loaded first if there is none.
  caf::expected<std::shared_ptr<const T>> get() const {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!value_) {
      auto x = load_();
      if (!x) {
        detail::log_lazy_event("lazy_load_failed", loads_);
        return std::move(x.error());
      }
      value_ = std::make_shared<const T>(std::move(*x));
      ++loads_;
      detail::log_lazy_event("lazy_loaded", loads_);
    }
    return value_;
  }

  /// Drops the value: the next access loads again.
  void invalidate() {
    std::shared_ptr<const T> old;
    {
      std::lock_guard<std::mutex> guard{mtx_};
      old = std::move(value_);
      value_ = nullptr;
    }
    if (old)
      detail::log_lazy_event("lazy_invalidated", loads());
    // `old` is released outside the lock: destroying it (a node stopping)
    // may take a while.
  }

  bool loaded() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return value_ != nullptr;
  }

  /// Successful loads so far.
  uint64_t loads() const {
    std::lock_guard<std::mutex> guard{mtx_};
    return loads_;
  }

private:
  loader load_;
  mutable std::mutex mtx_;
  mutable std::shared_ptr<const T> value_;
  mutable uint64_t loads_ = 0;
};

} // namespace cfgactors

// setting<T>: one typed value of a node's configuration, read from any
// thread in about a nanosecond.
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <utility>

#include "cfgactors/convert.hpp"
#include "cfgactors/node.hpp"
#include "cfgactors/snapshot_cell.hpp"
#include "cfgactors/thread_slots.hpp"

namespace cfgactors {

/// A typed view of the value at `path`, converted once per version and per
/// reading thread:
///
/// ```cpp
/// cfgactors::setting<int> buffer_size{n, "buffer_size", 1024};
/// int b = buffer_size(); // any thread
/// ```
///
/// A read loads the cell's generation (one atomic load), compares it with
/// the generation of the value this thread cached, and returns that value.
/// Only when the generation moved does the thread convert the new value,
/// into its own slot (thread_slots.hpp). Readers share nothing mutable but
/// the cell's generation (snapshots are immutable), so there is nothing to
/// tear and no cached value to reclaim: a slot is overwritten in place, one
/// per thread. A thread never sees an older version than one it saw before
/// (generations only grow).
///
/// A value that is absent, null or of the wrong type yields the fallback;
/// `error()` says why a present value was not used. Nothing throws.
template <class T>
class setting {
public:
  setting(std::shared_ptr<const snapshot_cell> cell, std::string path,
          T fallback)
    : cell_(std::move(cell)),
      path_(std::move(path)),
      fallback_(std::move(fallback)) {
    // nop
  }

  setting(const node& n, std::string path, T fallback)
    : setting(n.cell(), std::move(path), std::move(fallback)) {
    // nop
  }

  /// The current value.
  T operator()() const {
    return read([](const slot& s) { return s.value; });
  }

  /// The current value and the version it was read from.
  std::pair<T, uint64_t> with_version() const {
    return read([](const slot& s) { return std::pair{s.value, s.version}; });
  }

  /// Why the value at the path is not used (wrong type, out of range);
  /// empty when it is used or when the path is simply absent.
  std::string error() const {
    return read([](const slot& s) { return s.error; });
  }

  const std::string& path() const noexcept {
    return path_;
  }

  const T& fallback() const noexcept {
    return fallback_;
  }

private:
  struct alignas(64) slot {
    uint64_t generation = 0; ///< 0: never read on this thread
    uint64_t version = 0;
    T value{};
    std::string error;
  };

  [[gnu::noinline]] void refresh(slot& s) const {
    cell_->visit([&](const snapshot& snap, uint64_t gen) {
      s.generation = gen;
      s.version = snap.version;
      s.error.clear();
      auto* x = lookup(snap.effective, path_);
      if (x == nullptr || x->is_null()) {
        s.value = fallback_;
        return;
      }
      if (!convert(*x, s.value, s.error)) {
        s.error = path_ + ": " + s.error;
        s.value = fallback_;
      }
    });
  }

  /// Calls `f` with this thread's slot, brought up to date first. The fast
  /// path: one atomic load, a compare, and `f`; the rest is out of line.
  template <class F>
  auto read(F&& f) const {
    if (auto* s = slots_.local()) {
      if (s->generation != cell_->generation())
        refresh(*s);
      return f(*s);
    }
    return read_unpinned(f);
  }

  /// An exiting thread (or more threads than slots): converts per read.
  template <class F>
  [[gnu::noinline]] auto read_unpinned(F& f) const {
    slot s;
    refresh(s);
    return f(s);
  }

  std::shared_ptr<const snapshot_cell> cell_;
  std::string path_;
  T fallback_;
  detail::thread_slots<slot> slots_;
};

} // namespace cfgactors

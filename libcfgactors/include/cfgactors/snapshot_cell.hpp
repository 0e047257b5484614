// The snapshot cell: one per node, holding its current snapshot for readers
// on any thread, without a lock or an actor round trip. The node's updater
// (a subscriber of its store or replica) publishes every version into it.
#pragma once

#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstdint>
#include <mutex>
#include <string>
#include <string_view>
#include <utility>

#include <nlohmann/json.hpp>

#include "cfgactors/convert.hpp"
#include "cfgactors/snapshot.hpp"
#include "cfgactors/thread_slots.hpp"

namespace cfgactors {

/// The value at the dotted `path` (as in path.hpp) in `root`; nullptr when
/// absent or when `path` is malformed. Plain `a.b.c` paths are walked
/// without allocating.
const json* lookup(const json& root, std::string_view path);

/// The same in a snapshot's tree (layer_data::find): only the value found is
/// made JSON, not the config.
const json* lookup(const layer_data& root, std::string_view path);

/// Reclamation: the cell holds the current snapshot by shared_ptr under a
/// mutex that only writers and a reader's first read of a new generation
/// take. Each reading thread pins the snapshot it last read in a slot of its
/// own (thread_slots.hpp): the slot is written only by that thread, so the
/// pinned snapshot cannot be freed under it and no shared reference count
/// is touched per read. An old snapshot lives until every thread that pinned
/// it reads again (or the cell dies): at most one per thread, never a growing
/// list.
class snapshot_cell {
public:
  /// Starts at the empty snapshot (version 0).
  snapshot_cell();

  explicit snapshot_cell(snapshot_ptr initial);

  snapshot_cell(const snapshot_cell&) = delete;
  snapshot_cell& operator=(const snapshot_cell&) = delete;

  /// Makes `next` current and bumps the generation. Writers are serialized
  /// by the cell; the order of versions is the writer's business (the node
  /// publishes from one actor, in the order of its store's change stream).
  void publish(snapshot_ptr next);

  /// Counts publishes (starts at 1). Readers compare it with the generation
  /// they cached: one atomic load on their fast path. Unlike the version it
  /// never goes back, also when a replica follows a primary that restarted
  /// with a fresh store.
  uint64_t generation() const noexcept {
    return generation_.load(std::memory_order_acquire);
  }

  /// The current snapshot, as a new reference (takes the lock).
  snapshot_ptr load() const;

  /// The current snapshot and its generation, consistent with each other.
  std::pair<snapshot_ptr, uint64_t> load_with_generation() const;

  /// Calls `f(const snapshot&, uint64_t generation)` on the current
  /// snapshot: the one this thread pinned when it is still current, else a
  /// freshly pinned one. `f` must not keep references into the snapshot
  /// past the next read of this cell on this thread.
  template <class F>
  decltype(auto) visit(F&& f) const {
    if (auto* s = slots_.local()) {
      if (s->generation != generation())
        refresh(*s);
      return f(*s->snap, s->generation);
    }
    // An exiting thread (or more threads than slots): no pin, a reference.
    auto [snap, gen] = load_with_generation();
    return f(*snap, gen);
  }

  /// The current version.
  uint64_t version() const {
    return visit([](const snapshot& s, uint64_t) { return s.version; });
  }

  /// The value at `path` converted to `T`, or `fallback` when it is absent
  /// or does not convert.
  template <class T>
  T get(std::string_view path, T fallback) const {
    return visit([&](const snapshot& s, uint64_t) -> T {
      auto* x = lookup(s.effective, path);
      if (x == nullptr || x->is_null())
        return fallback;
      T result;
      std::string error;
      if (!convert(*x, result, error))
        return fallback;
      return result;
    });
  }

  /// The value at `path`, or null.
  json get_json(std::string_view path) const;

  /// Waits until the current version is at least `version`; false on
  /// timeout.
  bool wait_for(uint64_t version, std::chrono::milliseconds timeout) const;

private:
  struct alignas(64) slot {
    uint64_t generation = 0; ///< 0: nothing pinned yet
    snapshot_ptr snap;
  };

  void refresh(slot& s) const;

  std::atomic<uint64_t> generation_{1};
  mutable std::mutex mtx_;
  mutable std::condition_variable changed_;
  snapshot_ptr current_;
  detail::thread_slots<slot> slots_;
};

} // namespace cfgactors

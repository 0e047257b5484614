// One slot per reading thread: how settings and the snapshot cell keep a
// cache that only its own thread writes, so that a read needs no lock, no
// read-modify-write on shared memory and no scheme to reclaim old values.
#pragma once

#include <atomic>
#include <cstdint>

namespace cfgactors::detail {

/// The calling thread's index + 1; 0 until the thread asks for one. Indexes
/// are small and dense: a thread that exits gives its index back, and the
/// next new thread takes the smallest free one.
inline thread_local uint32_t thread_index_plus_one = 0;

/// Stored by an exiting thread once it gave its index back: it reads
/// through the locked paths from then on.
inline constexpr uint32_t exited_thread = UINT32_MAX;

/// Assigns the calling thread an index (slow path of thread_index()).
uint32_t assign_thread_index();

/// The calling thread's index (huge for an exited thread).
inline uint32_t thread_index() noexcept {
  auto i = thread_index_plus_one;
  if (i == 0)
    i = assign_thread_index();
  return i - 1;
}

/// How many threads hold an index now (for tests).
uint32_t threads_with_index();

/// A table of `Slot`s indexed by thread index. Chunk k holds
/// `first_chunk << k` slots, so 16 pointers cover a million threads while a
/// table read by a few threads costs one small chunk. Chunks are allocated on
/// first use and freed only with the table: a slot's address never changes,
/// and a thread that inherits an index inherits its slots (the index registry's
/// lock orders the handover).
///
/// Only the owning thread touches a slot, except the table's destructor,
/// which must not run concurrently with readers (like any object's).
template <class Slot>
class thread_slots {
public:
  static constexpr uint32_t first_chunk = 16;
  static constexpr uint32_t max_chunks = 16;

  thread_slots() = default;
  thread_slots(const thread_slots&) = delete;
  thread_slots& operator=(const thread_slots&) = delete;

  ~thread_slots() {
    for (auto& chunk : chunks_)
      delete[] chunk.load(std::memory_order_acquire);
  }

  /// The calling thread's slot; nullptr for an exited thread, or when more
  /// threads are alive than the table holds.
  Slot* local() const {
    // Fast path: one of the first `first_chunk` indexes, chunk 0 in place.
    // A thread without an index yet (0) wraps around to the slow path.
    auto i = thread_index_plus_one - 1;
    if (i < first_chunk) {
      if (auto* chunk = chunks_[0].load(std::memory_order_acquire))
        return chunk + i;
    }
    return local_slow();
  }

private:
  [[gnu::noinline]] Slot* local_slow() const {
    auto i = thread_index();
    // Chunk k covers [first_chunk * (2^k - 1), first_chunk * (2^(k+1) - 1)).
    auto q = i / first_chunk + 1;
    auto k = static_cast<uint32_t>(31 - __builtin_clz(q));
    if (k >= max_chunks)
      return nullptr;
    auto* chunk = chunks_[k].load(std::memory_order_acquire);
    if (chunk == nullptr)
      chunk = grow(k);
    return chunk + (i - first_chunk * ((1u << k) - 1));
  }

  /// Installs chunk `k`; another thread may race us for it.
  Slot* grow(uint32_t k) const {
    auto* fresh = new Slot[first_chunk << k];
    Slot* expected = nullptr;
    if (chunks_[k].compare_exchange_strong(expected, fresh,
                                           std::memory_order_acq_rel,
                                           std::memory_order_acquire))
      return fresh;
    delete[] fresh;
    return expected;
  }

  mutable std::atomic<Slot*> chunks_[max_chunks] = {};
};

} // namespace cfgactors::detail

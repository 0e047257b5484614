#include "cfgactors/thread_slots.hpp"

#include <functional>
#include <mutex>
#include <queue>
#include <vector>

namespace cfgactors::detail {

namespace {

/// Hands out thread indexes, smallest free first.
class index_registry {
public:
  uint32_t acquire() {
    std::lock_guard<std::mutex> guard{mtx_};
    ++in_use_;
    if (free_.empty())
      return next_++;
    auto i = free_.top();
    free_.pop();
    return i;
  }

  void release(uint32_t i) {
    std::lock_guard<std::mutex> guard{mtx_};
    --in_use_;
    free_.push(i);
  }

  uint32_t in_use() {
    std::lock_guard<std::mutex> guard{mtx_};
    return in_use_;
  }

private:
  std::mutex mtx_;
  uint32_t next_ = 0;
  uint32_t in_use_ = 0;
  std::priority_queue<uint32_t, std::vector<uint32_t>, std::greater<>> free_;
};

index_registry& registry() {
  // Never destroyed: threads may still exit while static objects are
  // destroyed at the end of the process.
  static auto* instance = new index_registry;
  return *instance;
}

/// Gives the index back when its thread exits. From then on the thread has
/// no index: a setting read by another thread-local destructor still works,
/// through the locked path.
struct index_owner {
  uint32_t index;

  ~index_owner() {
    thread_index_plus_one = exited_thread;
    registry().release(index);
  }
};

} // namespace

uint32_t assign_thread_index() {
  auto i = registry().acquire();
  static thread_local index_owner owner{i};
  thread_index_plus_one = i + 1;
  return i + 1;
}

uint32_t threads_with_index() {
  return registry().in_use();
}

} // namespace cfgactors::detail

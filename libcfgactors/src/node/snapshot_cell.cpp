#include "cfgactors/snapshot_cell.hpp"

#include "cfgactors/path.hpp"
#include "model/dotted_walk.hpp"

namespace cfgactors {

const json* lookup(const json& root, std::string_view path) {
  if (detail::needs_parse(path)) {
    auto parsed = config_path::parse(path);
    return parsed ? find(root, *parsed) : nullptr;
  }
  return detail::walk_dotted(&root, path, detail::json_member);
}

const json* lookup(const layer_data& root, std::string_view path) {
  return root.find(path);
}

snapshot_cell::snapshot_cell() : snapshot_cell(snapshot::empty()) {
  // nop
}

snapshot_cell::snapshot_cell(snapshot_ptr initial)
  : current_(std::move(initial)) {
  // nop
}

void snapshot_cell::publish(snapshot_ptr next) {
  snapshot_ptr old;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    old = std::exchange(current_, std::move(next));
    // Under the lock: a reader that takes it sees snapshot and generation
    // change together.
    generation_.store(generation_.load(std::memory_order_relaxed) + 1,
                      std::memory_order_release);
  }
  changed_.notify_all();
  // `old` dies here, outside the lock (it may be the last reference).
}

snapshot_ptr snapshot_cell::load() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return current_;
}

std::pair<snapshot_ptr, uint64_t> snapshot_cell::load_with_generation() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return {current_, generation_.load(std::memory_order_relaxed)};
}

void snapshot_cell::refresh(slot& s) const {
  auto [snap, gen] = load_with_generation();
  // The previous pin goes after the new one is in place, outside the lock.
  std::swap(s.snap, snap);
  s.generation = gen;
}

json snapshot_cell::get_json(std::string_view path) const {
  return visit([&](const snapshot& s, uint64_t) {
    auto* x = lookup(s.effective, path);
    return x != nullptr ? *x : json{};
  });
}

bool snapshot_cell::wait_for(uint64_t version,
                             std::chrono::milliseconds timeout) const {
  std::unique_lock<std::mutex> guard{mtx_};
  return changed_.wait_for(guard, timeout, [&] {
    return current_->version >= version;
  });
}

} // namespace cfgactors

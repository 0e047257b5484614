#include "pipeline/tree_pool.hpp"

#include <algorithm>
#include <utility>

#include <caf/actor.hpp>
#include <caf/actor_cast.hpp>
#include <caf/send.hpp>

#include "cfgactors/hash.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/snapshot.hpp"
#include "core/internal_actor_types.hpp"
#include "model/hash_tree.hpp"

namespace cfgactors::detail {

void tree_pool::put(pooled_tree&& tree) {
  fed_.store(true, std::memory_order_relaxed);
  pooled_tree dropped;
  caf::actor_addr waiter;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (trees_.size() < kept_) {
      trees_.push_back(std::move(tree));
      waiter = std::exchange(waiter_, caf::actor_addr{});
    } else {
      dropped = std::move(tree);
    }
  }
  // Outside the lock: the message, and freeing `dropped`.
  if (auto strong = caf::actor_cast<caf::strong_actor_ptr>(waiter))
    caf::anon_send(caf::actor_cast<caf::actor>(strong),
                   detail::resume_atom::value);
}

std::optional<pooled_tree> tree_pool::take() {
  auto result = take_if_any();
  if (!result)
    grow();
  return result;
}

std::optional<pooled_tree> tree_pool::take_if_any() {
  std::lock_guard<std::mutex> guard{mtx_};
  if (trees_.empty())
    return std::nullopt;
  auto result = std::move(trees_.back());
  trees_.pop_back();
  return result;
}

std::optional<pooled_tree> tree_pool::take_or_notify(caf::actor_addr waiter) {
  std::lock_guard<std::mutex> guard{mtx_};
  if (trees_.empty()) {
    waiter_ = std::move(waiter);
    return std::nullopt;
  }
  waiter_ = caf::actor_addr{};
  auto result = std::move(trees_.back());
  trees_.pop_back();
  return result;
}

void tree_pool::grow() {
  std::lock_guard<std::mutex> guard{mtx_};
  kept_ = std::min(kept_ + 1, most);
}

void tree_pool::trim() {
  std::vector<pooled_tree> dropped;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    kept_ = usual;
    while (trees_.size() > usual) {
      dropped.push_back(std::move(trees_.back()));
      trees_.pop_back();
    }
  }
  // `dropped` is freed here, outside the lock.
}

std::size_t tree_pool::size() {
  std::lock_guard<std::mutex> guard{mtx_};
  return trees_.size();
}

void snapshot_recycler::operator()(snapshot* ptr) const {
  if (ptr == nullptr)
    return;
  if (pool && ptr->effective.is_structured()) {
    std::optional<layer_stack> layers;
    if (!ptr->layers.empty())
      layers = std::move(ptr->layers);
    pool->put({std::move(ptr->effective), ptr->version, std::move(layers)});
  }
  delete ptr;
}

snapshot_ptr make_recycled(const std::shared_ptr<tree_pool>& pool,
                           uint64_t version, std::string origin,
                           layer_stack layers, json effective,
                           int64_t timestamp_ms, secret_paths_ptr secrets,
                           std::string hash, std::string author,
                           std::string reason, const snapshot* base,
                           paths_ptr changes) {
  hash_tree_ptr hashes;
  if (base != nullptr && changes != nullptr && base->hashes != nullptr) {
    path_trie changed;
    for (auto& text : *changes)
      if (auto path = config_path::parse(text))
        changed.add(*path);
      else
        changed.whole = true; // not a path we wrote: hash it all
    hashes = rehash(base->hashes, effective, changed);
  } else {
    hashes = hash_tree_of(effective);
    changes = nullptr;
  }
  if (hash.empty())
    hash = hashes ? hashes->hex() : canonical_hash(effective);
  if (secrets && secrets->empty())
    secrets = nullptr;
  auto result = snapshot_ptr{new snapshot{version, std::move(hash),
                                          timestamp_ms, std::move(origin),
                                          std::move(layers),
                                          std::move(effective),
                                          std::move(secrets),
                                          std::move(author),
                                          std::move(reason),
                                          changes,
                                          changes ? base->version : 0,
                                          std::move(hashes)},
                             snapshot_recycler{pool}};
  return result;
}

} // namespace cfgactors::detail

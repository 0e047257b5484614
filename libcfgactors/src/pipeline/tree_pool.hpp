// Reuse of effective trees: between the store and the validator, and within
// a replica. Every version needs a new tree (snapshots are immutable) and
// evicts an old one from the history; building the new tree in the storage
// of the old one, where their keys agree, saves allocating and freeing every
// node of it per version.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_addr.hpp>
#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgactors::detail {

/// The tree of a snapshot nobody holds any more, and what it was: a newer
/// version is built in it by changing only where the versions differ.
struct pooled_tree {
  json tree;
  uint64_t version = 0;
  /// The layers `tree` is the merge of. A replica's snapshots have none (it
  /// patches its primary's trees): it goes by `version` instead.
  std::optional<layer_stack> layers;
};

/// A few trees waiting for reuse. Thread-safe: snapshots die on any thread.
class tree_pool {
public:
  /// One commit consumes one tree and evicts one: two cover the overlap.
  static constexpr std::size_t usual = 2;
  /// A pipelining validator admits up to 64 writes before the store lets go
  /// of the trees of their evicted versions: each of those would otherwise
  /// be a copy of the whole tree, and each tree evicted meanwhile freed.
  static constexpr std::size_t most = 64 + usual;
  /// How long an owner (the validator, a replica) goes without a new
  /// version before it trims: a stream of writes has gaps shorter than
  /// this, in which trimming would cost a whole-tree copy per write of the
  /// next burst.
  static constexpr auto idle_trim_delay = std::chrono::seconds{1};

  /// Keeps `tree` for reuse, or destroys it when enough trees wait.
  void put(pooled_tree&& tree);

  /// A tree to build in, if one waits. Finding none (the caller copies a
  /// whole tree instead), the pool keeps one more from then on (up to
  /// `most`), until trim().
  std::optional<pooled_tree> take();

  /// A tree to build in, if one waits; finding none changes nothing: the
  /// caller waits for one to come back, or says grow() when it copied.
  std::optional<pooled_tree> take_if_any();

  /// A tree to build in, if one waits; else `waiter` gets a
  /// detail::resume_atom when the next tree is put back (once; a later
  /// waiter replaces it). Checked and registered under one lock, so a tree
  /// put back in between is not missed.
  std::optional<pooled_tree> take_or_notify(caf::actor_addr waiter);

  /// A whole tree was copied for want of one here: keep one more from now
  /// on (up to `most`), until trim(). A pool that grew on every miss of a
  /// writer that waits would keep a tree per wait, each the config's size.
  void grow();

  /// Back to the usual two: the writer is idle, and a burst's trees would
  /// otherwise stay.
  void trim();

  /// The trees waiting now.
  std::size_t size();

  /// Whether a tree was ever put back: the history that feeds the pool
  /// holds more versions than it keeps trees of, so each commit lets go of
  /// a tree from now on.
  bool fed() const noexcept {
    return fed_.load(std::memory_order_relaxed);
  }

private:
  std::mutex mtx_;
  std::atomic<bool> fed_{false};
  std::size_t kept_ = usual;
  std::vector<pooled_tree> trees_;
  caf::actor_addr waiter_;
};

/// Deleter of the snapshots the store commits: their effective tree goes to
/// the pool, with their version and layers, instead of being freed node by
/// node. The validator finds the
/// pool through std::get_deleter on a snapshot the store answered with.
struct snapshot_recycler {
  std::shared_ptr<tree_pool> pool;

  void operator()(snapshot* ptr) const;
};

/// snapshot::make with a snapshot_recycler for `pool`: the snapshot's tree
/// goes back to the pool when the last reference to it goes. A non-empty
/// `hash` is taken as the snapshot's hash instead of computing it: a
/// replica that holds a masked tree keeps its primary's true hash. Given
/// `base` and `changes` (changed_paths of base's tree and `effective`), the
/// digests are computed along those paths only, sharing the rest with
/// `base`'s, and the snapshot records the paths (snapshot::changes).
snapshot_ptr make_recycled(const std::shared_ptr<tree_pool>& pool,
                           uint64_t version, std::string origin,
                           layer_stack layers, json effective,
                           int64_t timestamp_ms,
                           secret_paths_ptr secrets = nullptr,
                           std::string hash = {}, std::string author = {},
                           std::string reason = {},
                           const snapshot* base = nullptr,
                           paths_ptr changes = nullptr);

} // namespace cfgactors::detail

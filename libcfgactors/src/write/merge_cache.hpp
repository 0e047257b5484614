// Private: the validator's cache of the layers below the runtime layer.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/layer.hpp"

namespace cfgactors::detail {

/// The merge of every layer below the runtime layer, kept between writes:
/// most writes change only the runtime layer, so the effective tree is then
/// a tree brought up to date where the layers changed (or one copy of this
/// plus a small merge) instead of a merge of every layer.
struct base_merge_cache {
  /// A tree to build the next effective tree in.
  struct spare_tree {
    json tree;
    /// The stack `tree` is the merge of; nullopt: only storage, or a copy
    /// of `base` (spare_is_base).
    std::optional<layer_stack> layers;
  };

  std::vector<layer_data> inputs; ///< identity of the layers
  json base = json::object();
  /// The values in `base`, containers and leaves: what a copy of it costs.
  std::size_t base_nodes = 1;
  /// Effective trees made whole (a copy of the base, or a walk of all of it
  /// reusing nodes) rather than brought up to date where layers changed.
  uint64_t whole_copies = 0;
  /// Of those, the ones allocated as new trees (no tree to write them in):
  /// a tree in circulation more. The others rewrote a tree taken back.
  uint64_t new_trees = 0;
  /// Effective trees that merged the runtime layer whole (read as JSON):
  /// the config's size again where that layer holds the config.
  uint64_t runtime_merges = 0;
  /// Made by prepare() or given back; consumed by the next effective().
  std::optional<spare_tree> spare;
  /// Whether `spare->tree`, when it has no layers, is a copy of `base`.
  bool spare_is_base = false;

  /// The effective tree of `layers`, reusing the cached base when the layers
  /// below the runtime layer are the same objects as last time. With a spare
  /// that is the merge of known layers, the cost is the size of what changed
  /// between those layers and `layers`, not the size of the tree.
  json effective(const layer_stack& layers);

  /// Readies the spare for the next effective() call: `storage`, a tree the
  /// store let go of, kept as it is when `layers` says which layers it is
  /// the merge of, else made a copy of the base in place (nodes reused where
  /// the keys agree); without storage, a fresh copy of the base. The
  /// validator calls this while it waits for the store, which takes any
  /// copy off the path from one write to the next.
  void prepare(std::optional<json> storage = std::nullopt,
               std::optional<layer_stack> layers = std::nullopt);

  /// Readies a copy of `tree`, the merge of `layers` (the newest durable
  /// version), as the spare: the next effective() brings it up to date
  /// where the layers changed since. A copy of the base would leave the
  /// runtime layer to merge whole, and where that layer holds the config
  /// (every API write lands there) that is the config again.
  void prepare_copy(const json& tree, const layer_stack& layers);

  /// Takes back an effective tree that was not committed (a refused write,
  /// a dry run), the merge of `layers`, as the spare.
  void give_back(json tree, layer_stack layers);
};

} // namespace cfgactors::detail

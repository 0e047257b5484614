// Private: the merged tree of each candidate, built as a persistent tree
// from the one before it along the paths its layers changed, so that a
// version shares every subtree its write left alone with the version it was
// built on: no copy of the config per write, on any path.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "cfgactors/layer.hpp"
#include "model/config_tree.hpp"

namespace cfgactors::detail {

/// The merge of a layer stack (layer_stack::effective) as a persistent
/// tree, kept up to date from stack to stack.
class effective_tree {
public:
  /// Starts from `tree`, the merge of `layers` (a version restored or
  /// installed): the next build is computed from it along what changed.
  void reset(layer_stack layers, config_node_ptr tree);

  /// The merge of `layers`: the last tree built (or reset to), with the
  /// merged value set again at every path where a layer of `layers` differs
  /// from the last stack. Costs what changed (merged_value at each path: the
  /// depth in each layer and the size of the value), not the config's size;
  /// the whole merge only where a path cannot be set on its own (the root,
  /// a stack with no tree to start from).
  /// `touched`, when the caller has it: touched_paths(last(), layers).
  config_node_ptr build(const layer_stack& layers,
                        const std::vector<std::string>* touched = nullptr);

  /// The stack of the last tree built (or reset to).
  const layer_stack& last() const noexcept {
    return layers_;
  }

  /// Trees merged whole rather than along their changes.
  uint64_t whole_builds = 0;

private:
  layer_stack layers_;
  config_node_ptr tree_;
};

} // namespace cfgactors::detail

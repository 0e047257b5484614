// The nodes and blocks of persistent trees, for the suites that check what
// an edit shares with the tree it came from.
#pragma once

#include <cstddef>
#include <unordered_set>

#include "model/config_tree.hpp"

namespace cfgactors::test {

/// Every node and block of the tree at `node`.
inline void collect_parts(const detail::config_node& node,
                          std::unordered_set<const void*>& out) {
  if (!out.insert(&node).second)
    return;
  auto walk = [&](auto& self, const detail::tree_block& block) -> void {
    if (!out.insert(&block).second)
      return;
    for (auto& child : block.children)
      self(self, *child);
    for (auto& entry : block.entries)
      collect_parts(*entry.value, out);
  };
  if (node.block())
    walk(walk, *node.block());
}

/// How many nodes and blocks of `next` are not in `before`: what an edit
/// made. Shared ones are not walked.
inline std::size_t parts_made(const detail::config_node& before,
                              const detail::config_node& next) {
  std::unordered_set<const void*> old;
  collect_parts(before, old);
  std::size_t result = 0;
  auto node = [&](auto& self_node, const detail::config_node& n) -> void {
    if (old.count(&n))
      return;
    ++result;
    auto walk = [&](auto& self, const detail::tree_block& block) -> void {
      if (old.count(&block))
        return;
      ++result;
      for (auto& child : block.children)
        self(self, *child);
      for (auto& entry : block.entries)
        self_node(self_node, *entry.value);
    };
    if (n.block())
      walk(walk, *n.block());
  };
  node(node, next);
  return result;
}

} // namespace cfgactors::test

// Private: the members of an object or the items of an array as a persistent
// B-tree. Blocks never change once built; an edit copies the blocks on the
// way to its entry (at most `block_fanout` entries or children each) and
// shares every other block with the tree it was made from, so a version of
// a config with 100,000 keys costs a few blocks, not a copy of the keys.
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

namespace cfgactors::detail {

class config_node;
using config_node_ptr = std::shared_ptr<const config_node>;

/// A member (objects: `key` set) or an item (arrays: `key` empty).
struct tree_entry {
  std::string key;
  config_node_ptr value;
};

struct tree_block;
using tree_block_ptr = std::shared_ptr<const tree_block>;

/// Most entries of a leaf and children of an inner block. 32 is also the
/// hash's piece (docs/HASH.md); a block is not a piece, as pieces are cut by
/// position and blocks split where they fill up.
inline constexpr std::size_t block_fanout = 32;

/// A leaf holds entries, an inner block its children; neither is empty. An
/// object's entries are sorted by their keys' bytes, at every level.
struct tree_block {
  std::vector<tree_entry> entries;
  std::vector<tree_block_ptr> children;
  /// The entries below.
  std::size_t count = 0;
  /// Objects: the smallest key below, for routing from the parent.
  std::string first;

  bool leaf() const noexcept {
    return children.empty();
  }
};

/// A B-tree from entries in order (keys sorted for objects); null if none.
tree_block_ptr build_blocks(std::vector<tree_entry> entries);

/// The entry of `key` below `root`, or nullptr.
const tree_entry* find_key(const tree_block* root, std::string_view key);

/// The entry at `index` below `root`, or nullptr past the end.
const tree_entry* find_index(const tree_block* root, std::size_t index);

/// `root` with `key` set to `value`; `inserted` tells whether it was new.
tree_block_ptr with_key(const tree_block_ptr& root, std::string_view key,
                        config_node_ptr value, bool& inserted);

/// `root` without `key` (null when that was the last); `root` itself when
/// it had no such key.
tree_block_ptr without_key(const tree_block_ptr& root, std::string_view key);

/// `root` with the entry at `index` (< count) replaced by `value`.
tree_block_ptr with_index(const tree_block_ptr& root, std::size_t index,
                          config_node_ptr value);

/// `root` with `value` inserted before `index` (<= count).
tree_block_ptr inserted_at(const tree_block_ptr& root, std::size_t index,
                           config_node_ptr value);

/// `root` without the entry at `index` (< count); null when that was the
/// last.
tree_block_ptr without_index(const tree_block_ptr& root, std::size_t index);

/// Calls `f(const tree_entry&)` for every entry below `root`, in order.
template <class F>
void for_each_entry(const tree_block* root, F&& f) {
  if (root == nullptr)
    return;
  if (root->leaf()) {
    for (auto& entry : root->entries)
      f(entry);
    return;
  }
  for (auto& child : root->children)
    for_each_entry(child.get(), f);
}

/// The height of the B-tree (a leaf is 1, none 0): how many blocks an edit
/// copies.
std::size_t block_height(const tree_block* root) noexcept;

} // namespace cfgactors::detail

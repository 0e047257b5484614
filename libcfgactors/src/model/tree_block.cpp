#include "model/tree_block.hpp"

#include <algorithm>
#include <iterator>
#include <utility>

namespace cfgactors::detail {

namespace {

// A block left with fewer entries or children than this by a removal joins
// a neighbour when both fit in one: without it, erasing most keys of a wide
// object would leave a tree of nearly empty blocks, as tall as before.
constexpr std::size_t merge_below = block_fanout / 4;

tree_block_ptr make_leaf(std::vector<tree_entry> entries) {
  auto block = std::make_shared<tree_block>();
  block->count = entries.size();
  block->first = entries.front().key;
  block->entries = std::move(entries);
  return block;
}

tree_block_ptr make_inner(std::vector<tree_block_ptr> children) {
  auto block = std::make_shared<tree_block>();
  for (auto& child : children)
    block->count += child->count;
  block->first = children.front()->first;
  block->children = std::move(children);
  return block;
}

std::size_t width(const tree_block& block) noexcept {
  return block.leaf() ? block.entries.size() : block.children.size();
}

// A block edited below: the new one and, when it overflowed, its right half.
struct edited {
  tree_block_ptr block;
  tree_block_ptr split;
};

template <class T, class Make>
edited finish(std::vector<T> items, Make make) {
  if (items.size() <= block_fanout)
    return {make(std::move(items)), nullptr};
  auto half = static_cast<std::ptrdiff_t>(items.size() / 2);
  std::vector<T> right(std::make_move_iterator(items.begin() + half),
                       std::make_move_iterator(items.end()));
  items.erase(items.begin() + half, items.end());
  return {make(std::move(items)), make(std::move(right))};
}

edited finish_leaf(std::vector<tree_entry> entries) {
  return finish(std::move(entries), make_leaf);
}

edited finish_inner(std::vector<tree_block_ptr> children) {
  return finish(std::move(children), make_inner);
}

// An inner block with child `i` edited: its new block in place, and its
// right half after it when it split.
edited with_child(const tree_block& block, std::size_t i, edited result) {
  auto children = block.children;
  children[i] = std::move(result.block);
  if (result.split)
    children.insert(children.begin() + static_cast<std::ptrdiff_t>(i + 1),
                    std::move(result.split));
  return finish_inner(std::move(children));
}

// The root of an edit: one level taller when the old root split.
tree_block_ptr grown(edited result) {
  if (!result.split)
    return std::move(result.block);
  return make_inner({std::move(result.block), std::move(result.split)});
}

// The root of a removal: an inner root left with one child is that child.
tree_block_ptr shrunk(tree_block_ptr root) {
  while (root && !root->leaf() && root->children.size() == 1)
    root = root->children.front();
  return root;
}

// Two neighbouring blocks (of one level) as one.
tree_block_ptr joined(const tree_block& left, const tree_block& right) {
  if (left.leaf()) {
    auto entries = left.entries;
    entries.insert(entries.end(), right.entries.begin(), right.entries.end());
    return make_leaf(std::move(entries));
  }
  auto children = left.children;
  children.insert(children.end(), right.children.begin(),
                  right.children.end());
  return make_inner(std::move(children));
}

// Puts `child` (null: it became empty) in place of children[i], joining it
// with a neighbour when it got small and they fit in one block.
void replace_child(std::vector<tree_block_ptr>& children, std::size_t i,
                   tree_block_ptr child) {
  auto at = children.begin() + static_cast<std::ptrdiff_t>(i);
  if (!child) {
    children.erase(at);
    return;
  }
  *at = std::move(child);
  if (width(**at) >= merge_below || children.size() == 1)
    return;
  auto left = i + 1 < children.size() ? i : i - 1;
  auto& a = children[left];
  auto& b = children[left + 1];
  if (width(*a) + width(*b) > block_fanout)
    return;
  a = joined(*a, *b);
  children.erase(children.begin() + static_cast<std::ptrdiff_t>(left + 1));
}

// The child of an inner block whose range holds `key`: the last whose first
// key is not above it (the first child for a key below them all).
std::size_t child_for_key(const tree_block& block, std::string_view key) {
  auto it = std::upper_bound(block.children.begin(), block.children.end(),
                             key,
                             [](std::string_view k, const tree_block_ptr& c) {
                               return k < std::string_view{c->first};
                             });
  auto i = static_cast<std::size_t>(it - block.children.begin());
  return i == 0 ? 0 : i - 1;
}

// The child of an inner block that holds `index`, which becomes the index
// within it; the last child also takes the end (an insertion at count).
std::size_t child_for_index(const tree_block& block, std::size_t& index) {
  auto last = block.children.size() - 1;
  for (std::size_t i = 0; i < last; ++i) {
    auto n = block.children[i]->count;
    if (index < n)
      return i;
    index -= n;
  }
  return last;
}

// The position of `key` among a leaf's entries (where it is or would go).
std::vector<tree_entry>::const_iterator
position(const std::vector<tree_entry>& entries, std::string_view key) {
  return std::lower_bound(entries.begin(), entries.end(), key,
                          [](const tree_entry& e, std::string_view k) {
                            return std::string_view{e.key} < k;
                          });
}

edited set_key(const tree_block& block, std::string_view key,
               config_node_ptr& value, bool& inserted) {
  if (block.leaf()) {
    auto at = position(block.entries, key) - block.entries.begin();
    auto entries = block.entries;
    auto it = entries.begin() + at;
    inserted = it == entries.end() || it->key != key;
    if (inserted)
      entries.insert(it, tree_entry{std::string{key}, std::move(value)});
    else
      it->value = std::move(value);
    return finish_leaf(std::move(entries));
  }
  auto i = child_for_key(block, key);
  return with_child(block, i,
                    set_key(*block.children[i], key, value, inserted));
}

tree_block_ptr drop_key(const tree_block_ptr& block, std::string_view key,
                        bool& removed) {
  if (block->leaf()) {
    auto it = position(block->entries, key);
    removed = it != block->entries.end() && it->key == key;
    if (!removed)
      return block;
    if (block->entries.size() == 1)
      return nullptr;
    auto entries = block->entries;
    entries.erase(entries.begin() + (it - block->entries.begin()));
    return make_leaf(std::move(entries));
  }
  auto i = child_for_key(*block, key);
  auto child = drop_key(block->children[i], key, removed);
  if (!removed)
    return block;
  auto children = block->children;
  replace_child(children, i, std::move(child));
  if (children.empty())
    return nullptr;
  return make_inner(std::move(children));
}

tree_block_ptr set_index(const tree_block& block, std::size_t index,
                         config_node_ptr& value) {
  if (block.leaf()) {
    auto entries = block.entries;
    entries[index].value = std::move(value);
    return make_leaf(std::move(entries));
  }
  auto i = child_for_index(block, index);
  auto children = block.children;
  children[i] = set_index(*block.children[i], index, value);
  return make_inner(std::move(children));
}

edited insert_index(const tree_block& block, std::size_t index,
                    config_node_ptr& value) {
  if (block.leaf()) {
    auto entries = block.entries;
    entries.insert(entries.begin() + static_cast<std::ptrdiff_t>(index),
                   tree_entry{{}, std::move(value)});
    return finish_leaf(std::move(entries));
  }
  auto i = child_for_index(block, index);
  return with_child(block, i, insert_index(*block.children[i], index, value));
}

tree_block_ptr drop_index(const tree_block& block, std::size_t index) {
  if (block.leaf()) {
    if (block.entries.size() == 1)
      return nullptr;
    auto entries = block.entries;
    entries.erase(entries.begin() + static_cast<std::ptrdiff_t>(index));
    return make_leaf(std::move(entries));
  }
  auto i = child_for_index(block, index);
  auto children = block.children;
  replace_child(children, i, drop_index(*block.children[i], index));
  if (children.empty())
    return nullptr;
  return make_inner(std::move(children));
}

} // namespace

tree_block_ptr build_blocks(std::vector<tree_entry> entries) {
  if (entries.empty())
    return nullptr;
  std::vector<tree_block_ptr> level;
  level.reserve((entries.size() + block_fanout - 1) / block_fanout);
  for (std::size_t i = 0; i < entries.size(); i += block_fanout) {
    auto end = std::min(entries.size(), i + block_fanout);
    level.push_back(make_leaf(
      {std::make_move_iterator(entries.begin() + static_cast<std::ptrdiff_t>(i)),
       std::make_move_iterator(entries.begin()
                               + static_cast<std::ptrdiff_t>(end))}));
  }
  while (level.size() > 1) {
    std::vector<tree_block_ptr> above;
    above.reserve((level.size() + block_fanout - 1) / block_fanout);
    for (std::size_t i = 0; i < level.size(); i += block_fanout) {
      auto end = std::min(level.size(), i + block_fanout);
      above.push_back(make_inner(
        {level.begin() + static_cast<std::ptrdiff_t>(i),
         level.begin() + static_cast<std::ptrdiff_t>(end)}));
    }
    level = std::move(above);
  }
  return std::move(level.front());
}

const tree_entry* find_key(const tree_block* root, std::string_view key) {
  if (root == nullptr)
    return nullptr;
  while (!root->leaf())
    root = root->children[child_for_key(*root, key)].get();
  auto it = position(root->entries, key);
  return it != root->entries.end() && it->key == key ? &*it : nullptr;
}

const tree_entry* find_index(const tree_block* root, std::size_t index) {
  if (root == nullptr || index >= root->count)
    return nullptr;
  while (!root->leaf())
    root = root->children[child_for_index(*root, index)].get();
  return &root->entries[index];
}

tree_block_ptr with_key(const tree_block_ptr& root, std::string_view key,
                        config_node_ptr value, bool& inserted) {
  if (!root) {
    inserted = true;
    std::vector<tree_entry> entries;
    entries.push_back(tree_entry{std::string{key}, std::move(value)});
    return make_leaf(std::move(entries));
  }
  return grown(set_key(*root, key, value, inserted));
}

tree_block_ptr without_key(const tree_block_ptr& root, std::string_view key) {
  if (!root)
    return root;
  bool removed = false;
  auto result = drop_key(root, key, removed);
  return removed ? shrunk(std::move(result)) : root;
}

tree_block_ptr with_index(const tree_block_ptr& root, std::size_t index,
                          config_node_ptr value) {
  return set_index(*root, index, value);
}

tree_block_ptr inserted_at(const tree_block_ptr& root, std::size_t index,
                           config_node_ptr value) {
  if (!root) {
    std::vector<tree_entry> entries;
    entries.push_back(tree_entry{{}, std::move(value)});
    return make_leaf(std::move(entries));
  }
  return grown(insert_index(*root, index, value));
}

tree_block_ptr without_index(const tree_block_ptr& root, std::size_t index) {
  return shrunk(drop_index(*root, index));
}

std::size_t block_height(const tree_block* root) noexcept {
  std::size_t height = 0;
  for (; root != nullptr;
       root = root->leaf() ? nullptr : root->children.front().get())
    ++height;
  return height;
}

} // namespace cfgactors::detail

// Private: the content hash of a tree with the digest of every container in
// it kept, so that the next version's hash is computed along the paths that
// changed only (docs/HASH.md has the definition).
#pragma once

#include <array>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/path.hpp"

namespace cfgactors::detail {

using hash_digest = std::array<unsigned char, 32>;

class hash_tree;
using hash_tree_ptr = std::shared_ptr<const hash_tree>;

/// One container's digest and the nodes of the containers in it. Immutable
/// once built, so successive versions share every node below an unchanged
/// member.
class hash_tree {
public:
  hash_digest digest{};
  bool is_object = false;
  /// Objects: the members that are containers, in key order.
  std::vector<std::pair<std::string, hash_tree_ptr>> members;
  /// Arrays: the items that are containers, in order.
  std::vector<hash_tree_ptr> items;

  /// Lower-case hex of `digest`: canonical_hash of the tree.
  std::string hex() const;
};

/// The paths at which two trees may differ, as a tree of keys: a node with
/// `whole` set (and no children) changed entirely.
struct path_trie {
  std::map<std::string, path_trie, std::less<>> children;
  bool whole = false;

  /// Marks `path` changed. A path into an array marks the array.
  void add(const config_path& path);

  bool empty() const noexcept {
    return !whole && children.empty();
  }
};

/// The hash tree of `value`, from scratch; null for a scalar.
hash_tree_ptr hash_tree_of(const json& value);

/// The hash tree of `value`, which equals the tree `old` was made of except
/// at the paths in `changed`: only the containers on those paths are hashed
/// again, every other node is shared with `old`.
hash_tree_ptr rehash(const hash_tree_ptr& old, const json& value,
                     const path_trie& changed);

} // namespace cfgactors::detail

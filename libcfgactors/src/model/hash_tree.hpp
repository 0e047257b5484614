// Private: the content hash of a tree with the digest of every container in
// it kept, so that the next version's hash is computed along the paths that
// changed only (docs/HASH.md has the definition).
#pragma once

#include <array>
#include <cstddef>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"

namespace cfgactors::detail {

using hash_digest = std::array<unsigned char, 32>;

/// A container with more members or items than this is hashed in pieces of
/// this many (docs/HASH.md), so that changing one member of a wide object
/// hashes one piece and the groups above it, not every member.
inline constexpr std::size_t hash_piece_size = 32;

class hash_tree;
using hash_tree_ptr = std::shared_ptr<const hash_tree>;

/// One container's digest and the nodes of the containers in it. Immutable
/// once built, so successive versions share every node below an unchanged
/// member (and, in a wide container, every unchanged piece).
class hash_tree {
public:
  hash_digest digest{};
  bool is_object = false;
  /// Members or items.
  std::size_t size = 0;
  /// The values inside, at every depth (each member or item, and what the
  /// containers among them hold): what a version's tree holds, for bounds
  /// on trees kept (the router's every-version queues). Kept along the
  /// changed paths like the digests.
  std::size_t values = 0;
  /// Objects: the members that are containers, in key order.
  std::vector<std::pair<std::string, hash_tree_ptr>> members;
  /// Arrays: the items that are containers, in order.
  std::vector<hash_tree_ptr> items;
  /// A container wider than hash_piece_size: its pieces in order, each a
  /// node of the members or items it holds (its digest is the piece's); for
  /// objects with the piece's first key. `members` and `items` stay empty.
  std::vector<std::pair<std::string, hash_tree_ptr>> pieces;
  /// The digests of the groups above the pieces, lowest level first, while
  /// a level holds more than hash_piece_size digests.
  std::vector<std::vector<hash_digest>> groups;

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

/// The same for a persistent tree: the digests of the json it holds.
hash_tree_ptr hash_tree_of(const config_node& value);

/// The hash tree of `value`, which equals the tree `old` was made of except
/// at the paths in `changed`: only the containers on those paths are hashed
/// again, every other node is shared with `old`.
hash_tree_ptr rehash(const hash_tree_ptr& old, const json& value,
                     const path_trie& changed);

/// The same for a persistent tree.
hash_tree_ptr rehash(const hash_tree_ptr& old, const config_node& value,
                     const path_trie& changed);

/// The hash journals of format 4 stored: the same definition without
/// pieces (every container written whole). Checks their rows.
std::string unpieced_hash(const json& value);

} // namespace cfgactors::detail

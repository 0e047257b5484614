// Private: the walk that decides, before anything changes, whether setting a
// value at a path can succeed: the same rule for a json tree (path.cpp) and
// a config_tree, so both refuse the same paths with the same words.
#pragma once

#include <cstddef>
#include <string>
#include <variant>

#include "cfgactors/path.hpp"

namespace cfgactors::detail {

/// The first `n` segments of `path` as text, `<root>` for none.
std::string path_prefix(const config_path& path, std::size_t n);

/// Why `path` cannot be set below `root` (empty: it can). A missing or null
/// step is created (an object for a key, an array for index 0); a key
/// inside a scalar or an array, an index inside anything but an array, or
/// an index past the end (the size appends) is refused. `Tree` says what a
/// node is: `is_null`, `is_object`, `is_array`, `type_name`, `size`,
/// `member(node, key)` and `item(node, index)` (nullptr when missing).
template <class Tree, class Node>
std::string assign_error(const Node* root, const config_path& path) {
  const Node* cur = root; // nullptr: this step will be created
  for (std::size_t i = 0; i < path.segments.size(); ++i) {
    auto& seg = path.segments[i];
    bool absent = cur == nullptr || Tree::is_null(*cur);
    if (auto key = std::get_if<std::string>(&seg)) {
      if (absent) {
        cur = nullptr;
        continue;
      }
      if (!Tree::is_object(*cur))
        return "cannot set key '" + *key + "' inside "
               + Tree::type_name(*cur) + " at " + path_prefix(path, i);
      cur = Tree::member(*cur, *key);
      continue;
    }
    auto index = std::get<std::size_t>(seg);
    if (!absent && !Tree::is_array(*cur))
      return "cannot index " + std::string{Tree::type_name(*cur)} + " at "
             + path_prefix(path, i);
    auto size = absent ? std::size_t{0} : Tree::size(*cur);
    if (index > size)
      return "index " + std::to_string(index) + " out of range at "
             + path_prefix(path, i) + " (size " + std::to_string(size) + ")";
    cur = index < size ? Tree::item(*cur, index) : nullptr;
  }
  return {};
}

} // namespace cfgactors::detail

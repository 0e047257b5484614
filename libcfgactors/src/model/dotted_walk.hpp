// Private: a plain dotted path (`a.b.c`) walked key by key without
// allocating, over JSON or a persistent tree alike: the typed reads' path.
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cfgactors::detail {

/// Whether `path` needs config_path::parse (an index or an escape).
inline bool needs_parse(std::string_view path) noexcept {
  // A loop, not find_first_of: that calls memchr once per character.
  for (auto c : path)
    if (c == '[' || c == '\\')
      return true;
  return false;
}

/// The node at plain dotted `path` below `root` (`root` for ""), or nullptr;
/// `member(node, key)` is a node's member or nullptr (nullptr for a node
/// that is no object).
template <class Node, class Member>
const Node* walk_dotted(const Node* root, std::string_view path,
                        Member member) {
  const Node* x = root;
  if (path.empty())
    return x;
  for (;;) {
    auto dot = path.find('.');
    auto key = path.substr(0, dot);
    if (key.empty())
      return nullptr;
    x = member(x, key);
    if (x == nullptr)
      return nullptr;
    if (dot == std::string_view::npos)
      return x;
    path.remove_prefix(dot + 1);
  }
}

/// walk_dotted's step over JSON.
inline const nlohmann::json* json_member(const nlohmann::json* x,
                                         std::string_view key) {
  if (!x->is_object())
    return nullptr;
  auto i = x->find(key);
  return i == x->end() ? nullptr : &*i;
}

} // namespace cfgactors::detail

#include "write/merged_at.hpp"

#include <string>
#include <variant>

#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"

namespace cfgactors::detail {

namespace {

const json* member(const json* x, const std::string& key) {
  if (x == nullptr || !x->is_object())
    return nullptr;
  auto i = x->find(key);
  return i == x->end() ? nullptr : &*i;
}

const config_node* member(const config_node* x, const std::string& key) {
  return x == nullptr ? nullptr : x->member(key);
}

/// What merge_into makes of `overlay` over `below` as an object member,
/// when the overlay is an object (or absent: `below` as it is).
json member_value(const json* below, const config_node* overlay) {
  if (overlay == nullptr)
    return *below;
  // merge_into turns a member that is no object into {} before merging.
  return merged(below != nullptr && below->is_object() ? *below
                                                         : json::object(),
                to_json(*overlay));
}

} // namespace

bool patch_merged(json& tree, const config_path& at, const json& base,
                  const config_node* overlay) {
  if (at.segments.empty() || !tree.is_object() || !base.is_object()
      || (overlay != nullptr && !overlay->is_object()))
    return false;
  for (auto& segment : at.segments)
    if (!std::holds_alternative<std::string>(segment))
      return false; // changed_paths compares arrays whole: never here
  // Walk down `at` in the tree, the base and the overlay together. Above the
  // last step the merged node is an object: the overlay's is (or absent), so
  // merge_into recursed into it. `below` is the base's node, which counts
  // only where it is an object (merge_into replaces anything else by {}).
  json* node = &tree;
  const json* below = &base;
  const config_node* over = overlay;
  auto last = at.segments.size() - 1;
  for (std::size_t depth = 0;; ++depth) {
    auto& key = std::get<std::string>(at.segments[depth]);
    auto b = member(below, key);
    auto o = member(over, key);
    // The overlay says it all here: a value replaces, a null deletes.
    if (o != nullptr && !o->is_object()) {
      if (o->is_null())
        node->erase(key);
      else
        (*node)[key] = to_json(*o);
      return true;
    }
    if (o == nullptr && b == nullptr) {
      node->erase(key); // nothing below either: absent from the merge
      return true;
    }
    auto merged_is_object = o != nullptr || b->is_object();
    auto i = node->find(key);
    if (depth == last || !merged_is_object || i == node->end()
        || !i->is_object()) {
      (*node)[key] = member_value(b, o);
      return true;
    }
    node = &*i;
    below = b;
    over = o;
  }
}

bool patch_merged(json& tree, const std::vector<std::string>& paths,
                  const json& base, const config_node* overlay) {
  const std::string* done = nullptr; // the last path patched
  for (auto& text : paths) {
    if (done != nullptr && path_within(text, *done))
      continue;
    auto at = config_path::parse(text);
    if (!at || !patch_merged(tree, *at, base, overlay))
      return false;
    done = &text;
  }
  return true;
}

} // namespace cfgactors::detail

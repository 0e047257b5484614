#include "write/touched.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cfgactors/diff.hpp"
#include "model/config_tree.hpp"
#include "model/tree_diff.hpp"

namespace cfgactors::detail {

namespace {

void add_layer_diff(std::vector<std::string>& out, const layer_data* before,
                    const layer_data* after) {
  static const json nothing = json::object();
  static const auto no_node = node_of(nothing);
  // Two trees (a layer a write edited, and the one it came from) share
  // everything the write left alone: their diff costs the change. A layer
  // that comes or goes is compared with nothing in the form it has.
  auto tree_of = [](const layer_data* x) {
    return x ? x->tree() : no_node;
  };
  auto by_tree = before && after
                   ? before->has_tree() && after->has_tree()
                   : (before ? before->has_tree() : after->has_tree());
  auto paths = by_tree
                 ? changed_paths(*tree_of(before), *tree_of(after))
                 : cfgactors::changed_paths(before ? **before : nothing,
                                            after ? **after : nothing);
  out.insert(out.end(), std::make_move_iterator(paths.begin()),
             std::make_move_iterator(paths.end()));
}

} // namespace

std::vector<std::string> touched_paths(const layer_stack& before,
                                       const layer_stack& after) {
  std::vector<std::string> result;
  for (auto& l : after) {
    auto old = before.data(l.name);
    if (old && *old == l.data)
      continue;
    add_layer_diff(result, old, &l.data);
  }
  for (auto& l : before)
    if (after.data(l.name) == nullptr)
      add_layer_diff(result, &l.data, nullptr);
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

} // namespace cfgactors::detail

#include "write/normalized_layer.hpp"

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"
#include "model/tree_diff.hpp"

namespace cfgactors::detail {

std::optional<layer_data> normalized_layer(const json_schema& schema,
                                           const layer_data& before,
                                           const layer_data& after) {
  config_tree tree{after.tree()};
  auto changed = false;
  for (auto& text : changed_paths(*before.tree(), *after.tree())) {
    auto path = config_path::parse(text);
    if (!path)
      return std::nullopt; // changed_paths renders what parse reads
    auto node = tree.find(*path);
    if (node == nullptr)
      continue; // removed: nothing to rewrite
    // The value alone at its path: its rules are those of that path.
    // changed_paths stops at arrays, so every step is an object key.
    json skeleton = to_json(*node);
    for (auto seg = path->segments.rbegin(); seg != path->segments.rend();
         ++seg)
      skeleton = json{{std::get<std::string>(*seg), std::move(skeleton)}};
    auto normalized = schema.normalized(skeleton);
    if (!normalized)
      continue;
    if (auto value = find(*normalized, *path)) {
      tree.assign(*path, *value);
      changed = true;
    }
  }
  if (!changed)
    return std::nullopt;
  return layer_data{tree.root_ptr()};
}

void normalize_written(const json_schema& schema, const layer_stack& running,
                       bool running_normalized, layer_stack& candidate) {
  if (!schema.normalizes())
    return;
  std::vector<std::pair<std::string, layer_data>> rewritten;
  for (auto& l : candidate) {
    auto before = running.data(l.name);
    if (!l.data || (before && *before == l.data))
      continue;
    if (running_normalized && before && before->has_tree()
        && l.data.has_tree()) {
      if (auto data = normalized_layer(schema, *before, l.data))
        rewritten.emplace_back(l.name, std::move(*data));
    } else if (auto data = schema.normalized(*l.data)) {
      rewritten.emplace_back(l.name, layer_data{std::move(*data)});
    }
  }
  for (auto& [name, data] : rewritten)
    candidate.put(std::move(name), std::move(data));
}

} // namespace cfgactors::detail

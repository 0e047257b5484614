#include "write/merge_cache.hpp"

#include "cfgactors/merge.hpp"
#include "model/config_tree.hpp"
#include "model/node_count.hpp"
#include "write/merged_at.hpp"
#include "write/touched.hpp"

namespace cfgactors::detail {

json base_merge_cache::effective(const layer_stack& layers) {
  const layer_data* runtime = nullptr;
  auto same = true;
  std::size_t n = 0;
  for (auto& x : layers) {
    if (kind_of(x.name) == layer_kind::runtime) {
      runtime = &x.data;
      continue;
    }
    same = same && n < inputs.size() && inputs[n] == x.data;
    ++n;
  }
  if (!same || n != inputs.size()) {
    inputs.clear();
    base = json::object();
    spare_is_base = false;
    for (auto& x : layers) {
      if (kind_of(x.name) == layer_kind::runtime)
        continue;
      inputs.push_back(x.data);
      if (!x.data->is_null())
        merge_into(base, *x.data);
    }
    base_nodes = node_count(base);
  }
  // The runtime layer is read as its tree (a write's layer is one), along
  // the paths that changed; as JSON only when everything is merged again.
  const config_node* overlay = runtime ? runtime->tree().get() : nullptr;
  if (overlay && overlay->is_null()) {
    runtime = nullptr;
    overlay = nullptr;
  }
  json result;
  if (spare) {
    result = std::move(spare->tree);
    auto from = std::move(spare->layers);
    auto copy_of_base = spare_is_base;
    spare.reset();
    spare_is_base = false;
    // Brought up to date where `from` and `layers` differ, merged again
    // from the base and the runtime layer there.
    if (from
        && patch_merged(result, touched_paths(*from, layers), base, overlay))
      return result;
    if (!copy_of_base) {
      assign_reusing(result, base);
      ++whole_copies;
    }
  } else {
    result = base;
    ++whole_copies;
    ++new_trees;
  }
  if (runtime) {
    merge_into(result, **runtime);
    ++runtime_merges;
  }
  return result;
}

void base_merge_cache::prepare(std::optional<json> storage,
                               std::optional<layer_stack> layers) {
  if (spare)
    return;
  if (storage && layers)
    return give_back(std::move(*storage), std::move(*layers));
  if (storage) {
    assign_reusing(*storage, base);
    spare = spare_tree{std::move(*storage), std::nullopt};
  } else {
    spare = spare_tree{base, std::nullopt};
    ++new_trees;
  }
  spare_is_base = true;
  ++whole_copies;
}

void base_merge_cache::prepare_copy(const json& tree,
                                    const layer_stack& layers) {
  if (spare)
    return;
  give_back(tree, layers);
  ++whole_copies;
  ++new_trees;
}

void base_merge_cache::give_back(json tree, layer_stack layers) {
  if (spare)
    return;
  spare = spare_tree{std::move(tree), std::move(layers)};
  spare_is_base = false;
}

} // namespace cfgactors::detail

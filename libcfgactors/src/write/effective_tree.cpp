#include "write/effective_tree.hpp"

#include <optional>
#include <string>
#include <vector>

#include "cfgactors/path.hpp"
#include "write/merged_value.hpp"
#include "write/touched.hpp"

namespace cfgactors::detail {

namespace {

/// Sets the merge of `layers` at `at` in `tree`, which holds the merge of
/// the stack before everywhere outside `at`. Where the tree has no object
/// on the way (a key that appears, a scalar that became an object), the
/// merged value is set at that first step instead: it holds the rest.
/// False when that is the root.
bool set_merged(config_tree& tree, const config_path& at,
                const layer_stack& layers) {
  config_path prefix;
  const config_node* node = &tree.root();
  for (auto& segment : at.segments) {
    prefix.segments.push_back(segment);
    auto key = std::get_if<std::string>(&segment);
    // touched_paths compares arrays whole: a step into one is not a path
    // it gives; merged again at the array, to be safe.
    if (key == nullptr || !node->is_object())
      break;
    node = node->member(*key);
    if (node == nullptr || !node->is_object())
      break;
  }
  if (prefix.segments.empty())
    return false;
  if (auto value = merged_value(layers, prefix))
    return tree.assign(prefix, *value);
  tree.erase(prefix);
  return true;
}

} // namespace

void effective_tree::reset(layer_stack layers, config_node_ptr tree) {
  layers_ = std::move(layers);
  tree_ = std::move(tree);
}

config_node_ptr effective_tree::build(const layer_stack& layers,
                                      const std::vector<std::string>* touched) {
  if (tree_ && tree_->is_object()) {
    config_tree result{tree_};
    auto ok = true;
    const std::string* done = nullptr; // the last path set
    auto own = touched ? std::vector<std::string>{}
                       : touched_paths(layers_, layers);
    for (auto& text : touched ? *touched : own) {
      if (done != nullptr && path_within(text, *done))
        continue;
      auto at = config_path::parse(text);
      if (!at || !set_merged(result, *at, layers)) {
        ok = false;
        break;
      }
      done = &text;
    }
    if (ok && result.root().is_object()) {
      layers_ = layers;
      tree_ = result.root_ptr();
      return tree_;
    }
  }
  ++whole_builds;
  layers_ = layers;
  tree_ = node_of(layers.effective());
  return tree_;
}

} // namespace cfgactors::detail

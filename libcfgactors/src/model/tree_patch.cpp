#include "model/tree_patch.hpp"

#include <algorithm>
#include <optional>

#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"

namespace cfgactors::detail {

tree_patch_result patch_tree(config_tree& tree, const json& patch,
                             std::vector<std::string>& paths) {
  using result = tree_patch_result;
  if (!patch.is_array())
    return result::failed;
  paths.clear();
  for (auto& op : patch) {
    if (!op.is_object())
      return result::failed;
    auto kind = op.find("op");
    auto where = op.find("path");
    if (kind == op.end() || !kind->is_string() || where == op.end()
        || !where->is_string())
      return result::failed;
    auto& name = kind->get_ref<const std::string&>();
    if (name == "move" || name == "copy" || name == "test")
      return result::unsupported;
    if (name != "add" && name != "replace" && name != "remove")
      return result::failed;
    auto path = config_path::from_pointer(where->get_ref<const std::string&>());
    if (!path)
      return result::failed;
    if (path->empty()) // the root: JSON's patch replaces it whole
      return result::unsupported;
    // Every step but the last is an object in the tree: a step into an
    // array is an index, which a patch of JSON reads differently.
    config_path parent{{path->segments.begin(), path->segments.end() - 1}};
    auto above = tree.find(parent);
    if (above == nullptr)
      return result::failed;
    if (!above->is_object())
      return result::unsupported;
    auto& key = std::get<std::string>(path->segments.back());
    auto present = above->member(key) != nullptr;
    if (name == "remove") {
      if (!present)
        return result::failed;
      tree.erase(*path);
    } else {
      auto value = op.find("value");
      if (value == op.end() || (name == "replace" && !present)
          || !tree.assign(*path, *value))
        return result::failed;
    }
    paths.push_back(path->str());
  }
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  return result::applied;
}

} // namespace cfgactors::detail

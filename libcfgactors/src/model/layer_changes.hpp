// Private: what changed between two versions of a layer, by path (the
// values set, each a whole subtree, and the paths removed), and the newer
// version made again from the older and those changes. The journal's rows
// and etcd's version records carry these instead of a changed layer whole:
// their size is the change's, not the layer's.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors::detail {

struct layer_changes {
  /// Values to set, at paths that do not nest (the tree diff's).
  std::vector<std::pair<config_path, json>> set;
  /// Paths to remove.
  std::vector<config_path> unset;

  bool empty() const noexcept {
    return set.empty() && unset.empty();
  }
};

/// The changes from `before` to `after`: the changed paths of their trees
/// where both are made (in the time of what differs), else of their JSON.
/// nullopt when a change cannot be said by path: the root changed, or a path
/// has no dotted text that reads back as itself.
std::optional<layer_changes> changes_between(const layer_data& before,
                                             const layer_data& after);

/// `before` with `changes` made, as a persistent tree edit; nullopt with
/// `why` naming the path that does not apply.
std::optional<layer_data> apply_changes(const layer_data& before,
                                        const layer_changes& changes,
                                        std::string& why);

/// Adds `"set": {path: value}, "unset": [path]` to the object `entry`.
void write_changes(json& entry, layer_changes changes);

/// The changes `write_changes` added to `entry` (its values moved out);
/// nullopt with `why` for anything else.
std::optional<layer_changes> read_changes(json& entry, std::string& why);

} // namespace cfgactors::detail

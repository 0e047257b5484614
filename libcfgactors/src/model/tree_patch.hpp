// Private: an RFC 6902 patch applied to a persistent tree, so that a
// replica's next version shares all the patch left alone with its current
// one instead of being a patched copy of the whole config.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors::detail {

class config_tree;

/// How patch_tree went.
enum class tree_patch_result {
  applied,
  /// An operation this does not apply on a tree (`move`, `copy`, `test`,
  /// or a step into an array): apply the patch to the JSON instead.
  unsupported,
  /// The patch does not apply (RFC 6902: a target that is missing, a
  /// malformed operation); `tree` may be partly patched.
  failed,
};

/// Applies `patch` (what json_patch_at makes: `add`, `replace` and
/// `remove` of object members) to `tree`; `paths` gets each operation's
/// dotted path, sorted (where the tree changed, as patch_paths says).
tree_patch_result patch_tree(config_tree& tree, const json& patch,
                             std::vector<std::string>& paths);

} // namespace cfgactors::detail

// Private: the merge of the layers recomputed at one path, so that a tree
// that already holds the merge of an older stack is brought up to date where
// the layers changed instead of being rebuilt whole.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

struct config_path;

} // namespace cfgactors

namespace cfgactors::detail {

class config_node;

/// Makes `tree` hold, at `at` and below, what merging `overlay` (the runtime
/// layer; nullptr: none) over `base` (the layers below it, merged) holds
/// there, with merge_into's semantics. `tree` must already agree with that
/// merge everywhere outside `at`. Costs the size of the subtree at `at`.
/// False, leaving `tree` as it was, when `at` cannot be patched in place (the
/// root, an array index, or a root that is no object): merge everything.
bool patch_merged(json& tree, const config_path& at, const json& base,
                  const config_node* overlay);

/// patch_merged at each of `paths` (sorted dotted paths; one below a path
/// already patched comes with it). False when one cannot be patched in
/// place: `tree` is then only storage. With `overlay` null this copies
/// `base` at those paths, which brings a copy of an older tree up to
/// `base`.
bool patch_merged(json& tree, const std::vector<std::string>& paths,
                  const json& base, const config_node* overlay);

} // namespace cfgactors::detail

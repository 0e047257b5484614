// Private: where a write may have changed the merged tree, from the layers
// it changed, so that the validator diffs those subtrees only.
#pragma once

#include <string>
#include <vector>

#include "cfgactors/layer.hpp"

namespace cfgactors::detail {

/// The dotted paths at which any layer of `after` differs from the same
/// layer of `before` (a layer only one of them has counts whole). Layers
/// that share their data (untouched by the write) cost nothing; a changed
/// layer costs its own size, not the merged tree's.
std::vector<std::string> touched_paths(const layer_stack& before,
                                       const layer_stack& after);

} // namespace cfgactors::detail

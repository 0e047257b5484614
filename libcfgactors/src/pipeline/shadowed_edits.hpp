// Private: which paths of a file edit a higher layer overrides, so that the
// edit changes nothing an application sees (an operator edits config.yaml
// and wonders why nothing happens: the env or the runtime layer wins).
#pragma once

#include <cstddef>
#include <string>
#include <vector>

#include "cfgactors/layer.hpp"

namespace cfgactors::detail {

struct shadowed_edit {
  std::string path;     ///< a path the edit changed
  std::string shadower; ///< the highest layer that overrides it
};

/// The paths of layer `name` that differ between `before` and `after` and
/// that a layer above it in `after` overrides as a whole (sets the path or
/// an ancestor to a non-object, or removes it), at most `limit` of them;
/// `total` gets how many there are. Empty when `before` had no such layer:
/// a first read is no edit. Costs one walk of that layer's old and new data
/// plus a lookup per changed path in each higher layer.
std::vector<shadowed_edit> shadowed_edits(const layer_stack& before,
                                          const layer_stack& after,
                                          const std::string& name,
                                          std::size_t limit,
                                          std::size_t& total);

} // namespace cfgactors::detail

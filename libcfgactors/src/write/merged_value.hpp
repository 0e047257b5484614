// Private: what the merge of a layer stack holds at one path, read from the
// layers along that path only. A flag flip, an unset or a merge patch needs
// the merged value where it writes, not the merge of every layer: at
// 10,000 keys merging them all made such a write 30 to 70 times the cost of
// a set (bench/pipeline, CFG_BENCH_WRITE).
#pragma once

#include <optional>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors::detail {

/// `find(layers.effective(), path)`, copied; nullopt where that finds
/// nothing. Layers named `without` are left out (the runtime layer, for
/// what it patches). Costs the depth of `path` in each layer and the size
/// of the value found, not the size of the tree.
std::optional<json> merged_value(const layer_stack& layers,
                                 const config_path& path,
                                 std::string_view without = {});

} // namespace cfgactors::detail

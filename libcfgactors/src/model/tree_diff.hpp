// Private: the changed paths of two persistent trees, skipping what they
// share: two versions of a layer compare in the time of what the write
// between them changed, not of the layer.
#pragma once

#include <string>
#include <vector>

namespace cfgactors {
class layer_data;
} // namespace cfgactors

namespace cfgactors::detail {

class config_node;

/// changed_paths (diff.hpp) of the JSON of `from` and `to`, sorted: every
/// leaf where they differ, objects walked key by key, anything else
/// compared whole. Shared nodes and leaf blocks are not walked.
std::vector<std::string> changed_paths(const config_node& from,
                                       const config_node& to);

/// The changed paths of two versions' merged trees: of their persistent
/// trees when both have one (what they share is skipped), else of their
/// JSON.
std::vector<std::string> changed_paths(const layer_data& from,
                                       const layer_data& to);

} // namespace cfgactors::detail

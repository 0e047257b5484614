// Differences between two configuration trees.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/layer.hpp"

namespace cfgactors {

/// RFC 6902 JSON Patch turning `from` into `to`, down to the canonical text
/// (hash.hpp): a number that changes only its kind (1 to 1.0) or its sign
/// (0.0 to -0.0) is replaced too, though nlohmann's == calls them equal, so
/// that the patched tree has the hash of `to`.
json json_patch(const json& from, const json& to);

/// The seed's view of a diff, keyed by dotted path:
/// `{"a.b": {"old": x, "new": y}}`, `{"a.c": {"added": x}}`,
/// `{"a.d": {"removed": x}}`. Objects are walked down to their leaves;
/// arrays and scalars are compared whole.
json diff_view(const json& from, const json& to);

/// Dotted paths of every leaf that differs (same granularity as diff_view,
/// and the same notion of differing as json_patch), sorted.
std::vector<std::string> changed_paths(const json& from, const json& to);

/// changed_paths, looking only at and below `roots` (dotted paths: where a
/// write may have changed something), so that it costs the size of those
/// subtrees, not of the trees. The paths are what the full changed_paths
/// gives under those roots; unparsable roots fall back to the full diff.
std::vector<std::string> changed_paths(const json& from, const json& to,
                                       const std::vector<std::string>& roots);

/// An RFC 6902 patch turning `from` into `to`, given every path at which
/// they differ (changed_paths of the two): one add, replace or remove per
/// path, each replacing an array whole.
json json_patch_at(const json& from, const json& to,
                   const std::vector<std::string>& paths);

/// The same between two versions' merged trees (snapshot::effective): only
/// the values at `paths` are read, the trees' JSON is not made.
json json_patch_at(const layer_data& from, const layer_data& to,
                   const std::vector<std::string>& paths);

/// The dotted paths an RFC 6902 `patch` changed in the tree it made,
/// `after`, sorted: each operation's path, cut where it enters an array
/// (arrays count whole, as in changed_paths). `{""}` (the root: everything)
/// for anything that is not a list of operations with paths.
std::vector<std::string> patch_paths(const json& patch, const json& after);

} // namespace cfgactors

// Differences between two configuration trees.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

/// RFC 6902 JSON Patch turning `from` into `to`.
json json_patch(const json& from, const json& to);

/// The seed's view of a diff, keyed by dotted path:
/// `{"a.b": {"old": x, "new": y}}`, `{"a.c": {"added": x}}`,
/// `{"a.d": {"removed": x}}`. Objects are walked down to their leaves;
/// arrays and scalars are compared whole.
json diff_view(const json& from, const json& to);

/// Dotted paths of every leaf that differs (same granularity as diff_view),
/// sorted.
std::vector<std::string> changed_paths(const json& from, const json& to);

} // namespace cfgactors

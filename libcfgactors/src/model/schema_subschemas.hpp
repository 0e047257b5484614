// Private: which subschemas of a compiled (bundled) schema apply to the
// value at a path, for error messages that quote the schema (a bound as
// written, an enum's allowed values).
#pragma once

#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors::detail {

/// Every subschema (an object) of `root` that may apply to the value at
/// `at`: through `properties`, `patternProperties`, `additionalProperties`,
/// `items`, `additionalItems`, `contains`, local `$ref`s and every branch of
/// `allOf`, `anyOf`, `oneOf`, `not`, `if`/`then`/`else` and `dependencies`.
/// An over-approximation, at most a few thousand entries.
std::vector<const json*> subschemas_at(const json& root, const config_path& at);

} // namespace cfgactors::detail

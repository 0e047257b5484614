// Private: the schema's `x-normalize` rules, which rewrite a string before
// validation ("debug" becomes "DEBUG" for an enum of upper-case levels), so
// what is stored and served is the normalized value.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors::detail {

/// The first `x-normalize` in `document` that is not "upper", "lower",
/// "trim" or a list of them, as an invalid_schema message.
std::optional<std::string> find_invalid_normalize(const json& document);

/// True if `bundled` has any `x-normalize`.
bool uses_normalize(const json& bundled);

/// `value` with every string that `bundled` (after bundle_refs) gives an
/// `x-normalize` rule rewritten by it, or nullopt if nothing changes. Rules
/// are found through `properties`, `patternProperties`,
/// `additionalProperties`, `items`, `additionalItems`, `allOf` and `$ref`:
/// the places that say for sure which schema a value has. Non-strings are
/// left alone (validation judges them).
std::optional<json> normalize(const json& bundled, const json& value);

} // namespace cfgactors::detail

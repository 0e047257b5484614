// Private: plain and tagged YAML scalars resolved as in the YAML 1.2 core
// schema (null, booleans, integers, floats); the YAML reader's typing.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors::detail {

/// Empty, `~` or null/Null/NULL.
bool is_null_text(std::string_view s) noexcept;

/// true/True/TRUE or false/False/FALSE.
std::optional<json> to_bool(std::string_view s);

/// Decimal, `0x` hex or `0o` octal; as the JSON parser does, non-negative
/// integers are unsigned and integers out of 64-bit range become doubles.
std::optional<json> to_int(std::string_view s);

/// Decimal floats, `.inf`, `.nan` (overflow becomes infinity).
std::optional<json> to_float(std::string_view s);

/// A plain (untagged, unquoted) scalar: null, bool, int, float or string.
json resolve_plain(const std::string& s);

} // namespace cfgactors::detail

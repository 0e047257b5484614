// Private: one reader per document format; parse_document picks one by
// format after checking the size limit.
#pragma once

#include <string_view>

#include "cfgactors/parse.hpp"

namespace cfgactors::detail {

/// JSON through nlohmann's iterative parser, stopped at `limits.max_depth`.
parse_result parse_json(std::string_view text, std::string_view source,
                        const parse_limits& limits);

/// YAML from yaml-cpp's event stream (no YAML::Node, no recursion of our
/// own); exactly one document, scalars resolved by the YAML 1.2 core schema.
parse_result parse_yaml(std::string_view text, std::string_view source,
                        const parse_limits& limits);

/// TOML through toml++, after a lexical scan bounds the nesting (toml++
/// frees and walks its tree recursively); dates and times become text.
parse_result parse_toml(std::string_view text, std::string_view source,
                        const parse_limits& limits);

} // namespace cfgactors::detail

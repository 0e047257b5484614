// Private: the `*` segment of the path patterns that rules and secret
// declarations use, matching any one key or index.
#pragma once

#include <string>
#include <variant>

#include "cfgactors/path.hpp"

namespace cfgactors::detail {

inline constexpr const char* wildcard = "*";

inline bool is_wildcard(const path_segment& segment) {
  auto key = std::get_if<std::string>(&segment);
  return key != nullptr && *key == wildcard;
}

} // namespace cfgactors::detail

// How cfgctl prints one value for humans (get, diff, history, watch).
#pragma once

#include <string>

#include <nlohmann/json.hpp>

namespace cfgctl {

/// A value for humans: strings bare, everything else as compact JSON.
inline std::string show(const nlohmann::json& x) {
  return x.is_string() ? x.get<std::string>() : x.dump();
}

} // namespace cfgctl

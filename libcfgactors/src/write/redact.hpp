// Private: masking secret values in the errors a write reports or logs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/validation_error.hpp"

namespace cfgactors::detail {

/// Replaces the values found at `secret_paths` in `effective` by `***`
/// wherever they occur in the messages of `errors`.
void redact_errors(validation_errors& errors, const json& effective,
                   const std::vector<std::string>& secret_paths);

} // namespace cfgactors::detail

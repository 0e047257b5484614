// Private: masking secret values in the errors a write reports or logs.
#pragma once

#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/secrets.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors::detail {

/// Replaces the values found at `secrets` in `effective` by `***` wherever
/// they occur in the messages of `errors`.
void redact_errors(validation_errors& errors, const json& effective,
                   const secret_paths& secrets);

} // namespace cfgactors::detail

// Private: applying a write's operations to a layer stack, before validation.
#pragma once

#include <cstddef>

#include "cfgactors/errc.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors::detail {

/// Applies the operations of `req` to `layers` (no validation). On failure
/// appends the reasons to `errors`, returns the error code and leaves `layers`
/// in an unspecified state. Rollbacks are not handled here (they need the
/// store).
errc apply_operations(layer_stack& layers, const write_request& req,
                      std::size_t max_depth, validation_errors& errors);

} // namespace cfgactors::detail

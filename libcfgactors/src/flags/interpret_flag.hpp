// The reference evaluator of feature flags: reads the flag's JSON on each
// call. compiled_flags gives the same answers without doing so.
#pragma once

#include <string_view>

#include "cfgactors/config_view.hpp"
#include "cfgactors/flags.hpp"

namespace cfgactors::detail {

/// feature_flags::evaluate computed from the JSON of `view` alone.
flag_result interpret_flag(const config_view& view, std::string_view name,
                           const flag_context& ctx, bool fallback,
                           std::string_view fallback_variant) noexcept;

/// feature_flags::enabled computed from the JSON of `view` alone (no reason
/// rendered).
bool interpret_enabled(const config_view& view, std::string_view name,
                       const flag_context& ctx, bool fallback) noexcept;

} // namespace cfgactors::detail

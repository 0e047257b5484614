// The CAF settings every CAF process of a run uses (coordinator and workers,
// cfgactors and raw CAF alike), so both are measured the same way.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>

#include "system.hpp"

namespace bench {

/// Applies `scheduler.policy`, `scheduler.max-threads` and
/// `middleman.workers` (each only when set).
void apply(const caf_settings& x, caf::actor_system_config& cfg);

/// The worker's command line arguments that carry `x`.
std::vector<std::string> to_args(const caf_settings& x);

/// `to_args(x)` plus where a CAF worker connects: 127.0.0.1:`port`.
std::vector<std::string> worker_args(const caf_settings& x, uint16_t port);

/// Reads what `to_args` wrote.
caf_settings caf_settings_from(const arg_map& args);

/// One line for the report header.
std::string to_string(const caf_settings& x);

} // namespace bench

// `logging.level` in the config drives cfgd's own log level at runtime, as
// the seed's set_log_level does for a service.
#pragma once

#include <optional>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>

#include <spdlog/common.h>

#include "cfgactors/actor_types.hpp"

namespace cfgd {

/// TRACE, DEBUG, INFO, WARNING (or WARN), ERROR, CRITICAL, OFF, in any case;
/// nullopt for anything else.
std::optional<spdlog::level::level_enum> parse_level(const std::string& text);

/// Subscribes an actor to `logging.level` that sets spdlog's default logger
/// to each new level (and to the current one at once).
caf::actor follow_log_level(caf::actor_system& sys,
                            const cfgactors::store_actor& store);

} // namespace cfgd

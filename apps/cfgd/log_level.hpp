// `logging.level` in the config drives cfgd's own log level at runtime, as
// the seed's set_log_level does for a service.
#pragma once

#include <optional>
#include <string>

#include <caf/expected.hpp>

#include <spdlog/common.h>

#include "cfgactors/node.hpp"

namespace cfgd {

/// TRACE, DEBUG, INFO, WARNING (or WARN), ERROR, CRITICAL, OFF, in any case;
/// nullopt for anything else.
std::optional<spdlog::level::level_enum> parse_level(const std::string& text);

/// Subscribes to `logging.level` on `n` and sets spdlog's default logger to
/// each new level (and to the current one at once). Ends with the node or
/// with `n.unsubscribe`.
caf::expected<cfgactors::subscription>
follow_log_level(const cfgactors::node& n);

} // namespace cfgd

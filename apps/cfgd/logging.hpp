// cfgd's log output: spdlog's default logger on stderr, as text or JSON lines.
#pragma once

#include "options.hpp"

namespace cfgd {

/// Points spdlog's default logger (which libcfgactors logs through) at
/// stderr. Text lines are `ts=... level=... event=name key=value`; JSON lines
/// are `{"ts": ..., "level": ..., "msg": ..., "event": ..., "version": 3,
/// ...}`: every `key=value` a field (cfgactors/log_fields.hpp).
void setup_logging(log_format format);

} // namespace cfgd

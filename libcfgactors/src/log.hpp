// Private logging helper: every component logs through spdlog's default
// logger, which the application configures (text or JSON lines, level).
#pragma once

#include <spdlog/spdlog.h>

namespace cfgactors::detail {

inline spdlog::logger& log() {
  return *spdlog::default_logger_raw();
}

} // namespace cfgactors::detail

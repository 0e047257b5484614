// Private logging helper: every component logs through spdlog's default
// logger, which the application configures (text or JSON lines, level).
#pragma once

#include <string>
#include <string_view>

#include <spdlog/spdlog.h>

namespace cfgactors::detail {

inline spdlog::logger& log() {
  return *spdlog::default_logger_raw();
}

/// A value for a `key="..."` field: quotes, backslashes and line breaks in
/// text from elsewhere (a component's message) cannot break the line apart.
inline std::string escaped(std::string_view text) {
  std::string out;
  out.reserve(text.size());
  for (auto c : text) {
    switch (c) {
      case '"':
        out += "\\\"";
        break;
      case '\\':
        out += "\\\\";
        break;
      case '\n':
        out += "\\n";
        break;
      case '\r':
        out += "\\r";
        break;
      default:
        out += c;
    }
  }
  return out;
}

} // namespace cfgactors::detail

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

/// A value for a `key="..."` field: quotes, backslashes, line breaks and
/// other control characters in text from elsewhere (a component's message, a
/// writer's reason, a record written into etcd directly) cannot break the
/// line apart or move a terminal's cursor.
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
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
          static constexpr char hex[] = "0123456789abcdef";
          auto byte = static_cast<unsigned char>(c);
          out += "\\x";
          out += hex[byte >> 4];
          out += hex[byte & 0xf];
        } else {
          out += c;
        }
    }
  }
  return out;
}

} // namespace cfgactors::detail

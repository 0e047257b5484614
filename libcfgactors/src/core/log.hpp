// Private logging helper: every component logs through spdlog's default
// logger, which the application configures (text or JSON lines, level).
#pragma once

#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

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

/// A value for a `key=[...]` field: the texts as one JSON array on one line
/// (control characters escaped, invalid UTF-8 replaced), which a JSON log
/// line keeps as an array (cfgactors/log_fields.hpp).
inline std::string json_strings(const std::vector<std::string>& texts) {
  return nlohmann::json(texts).dump(-1, ' ', false,
                                    nlohmann::json::error_handler_t::replace);
}

} // namespace cfgactors::detail

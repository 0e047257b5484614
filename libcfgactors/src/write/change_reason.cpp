// The check every entry point applies to a reason (cfgd's header, its
// WebSocket actions, the validator for library writers).
#include "cfgactors/change_reason.hpp"

#include <cstdint>

#include "model/parse_text.hpp"

namespace cfgactors {

std::optional<std::string> reason_problem(std::string_view text) {
  if (text.size() > max_reason_bytes)
    return "longer than " + std::to_string(max_reason_bytes) + " bytes ("
           + std::to_string(text.size()) + ")";
  // Well-formed up to `bad`: there, controls and line breaks are found by
  // their bytes (C1 controls are C2 80..9F, U+2028/9 are E2 80 A8/A9).
  auto bad = detail::invalid_utf8_at(text);
  auto valid = text.substr(0, bad);
  auto byte = [&](std::size_t k) {
    return k < valid.size() ? static_cast<uint8_t>(valid[k]) : uint8_t{0};
  };
  for (std::size_t at = 0; at < valid.size(); ++at) {
    auto b = byte(at);
    // A tab or newline would split a log line or a table row: one line.
    if (b < 0x20 || b == 0x7f || (b == 0xc2 && byte(at + 1) >= 0x80
                                   && byte(at + 1) < 0xa0))
      return "a control character (at byte " + std::to_string(at) + ")";
    // Unicode's own line and paragraph separators break lines too.
    if (b == 0xe2 && byte(at + 1) == 0x80
        && (byte(at + 2) == 0xa8 || byte(at + 2) == 0xa9))
      return "a line break (at byte " + std::to_string(at) + ")";
  }
  if (bad != std::string_view::npos)
    return "not valid UTF-8 (at byte " + std::to_string(bad) + ")";
  return std::nullopt;
}

} // namespace cfgactors

// The check every entry point applies to a reason (cfgd's header, its
// WebSocket actions, the validator for library writers).
#include "cfgactors/change_reason.hpp"

#include <cstdint>

namespace cfgactors {

namespace {

/// The code point of the UTF-8 sequence at `text[i]`, advancing `i`; -1 for
/// a malformed, overlong or surrogate sequence.
int32_t next_code_point(std::string_view text, std::size_t& i) {
  auto byte = [&](std::size_t k) { return static_cast<uint8_t>(text[k]); };
  auto lead = byte(i);
  std::size_t len = 0;
  int32_t cp = 0;
  int32_t min = 0;
  if (lead < 0x80) {
    ++i;
    return lead;
  } else if ((lead & 0xe0) == 0xc0) {
    len = 2, cp = lead & 0x1f, min = 0x80;
  } else if ((lead & 0xf0) == 0xe0) {
    len = 3, cp = lead & 0x0f, min = 0x800;
  } else if ((lead & 0xf8) == 0xf0) {
    len = 4, cp = lead & 0x07, min = 0x10000;
  } else {
    return -1;
  }
  if (i + len > text.size())
    return -1;
  for (std::size_t k = 1; k < len; ++k) {
    if ((byte(i + k) & 0xc0) != 0x80)
      return -1;
    cp = (cp << 6) | (byte(i + k) & 0x3f);
  }
  if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
    return -1;
  i += len;
  return cp;
}

} // namespace

std::optional<std::string> reason_problem(std::string_view text) {
  if (text.size() > max_reason_bytes)
    return "longer than " + std::to_string(max_reason_bytes) + " bytes ("
           + std::to_string(text.size()) + ")";
  for (std::size_t i = 0; i < text.size();) {
    auto at = i;
    auto cp = next_code_point(text, i);
    if (cp < 0)
      return "not valid UTF-8 (at byte " + std::to_string(at) + ")";
    // A tab or newline would split a log line or a table row: one line.
    if (cp < 0x20 || cp == 0x7f || (cp >= 0x80 && cp < 0xa0))
      return "a control character (at byte " + std::to_string(at) + ")";
    // Unicode's own line and paragraph separators break lines too.
    if (cp == 0x2028 || cp == 0x2029)
      return "a line break (at byte " + std::to_string(at) + ")";
  }
  return std::nullopt;
}

} // namespace cfgactors

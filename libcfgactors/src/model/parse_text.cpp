// What the document readers share: parse_error results, positions in the
// text, the limits' messages, and checks of blank and UTF-8 text.
#include "model/parse_text.hpp"

#include <algorithm>
#include <utility>

namespace cfgactors::detail {

parse_result parse_failure(std::string_view source, std::size_t line,
                           std::size_t column, std::string message) {
  return {json{}, parse_error{std::string{source}, line, column,
                              std::move(message)}};
}

std::string size_message(std::size_t size, std::size_t limit) {
  return "document is " + std::to_string(size) + " bytes, limit is "
         + std::to_string(limit);
}

std::string depth_message(std::size_t limit) {
  return "nesting depth exceeds the limit of " + std::to_string(limit);
}

text_position locate(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  if (text.substr(0, 3) == "\xEF\xBB\xBF" && offset >= 3) {
    text.remove_prefix(3);
    offset -= 3;
  }
  auto head = text.substr(0, offset);
  auto line = 1 + static_cast<std::size_t>(
                    std::count(head.begin(), head.end(), '\n'));
  auto nl = head.rfind('\n');
  auto column = nl == std::string_view::npos ? offset + 1 : offset - nl;
  return {line, column};
}

bool is_blank(std::string_view text) noexcept {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  });
}

std::size_t invalid_utf8_at(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size())
      return i;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if (cc < (k == 1 ? lo : 0x80) || cc > (k == 1 ? hi : 0xBF))
        return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

} // namespace cfgactors::detail

// Private: what the document readers share: parse_error results, positions
// in the text, the limits' messages, and checks of blank and UTF-8 text.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include "cfgactors/parse.hpp"

namespace cfgactors::detail {

/// A failed parse_result: `source:line:column: message`.
parse_result parse_failure(std::string_view source, std::size_t line,
                           std::size_t column, std::string message);

/// "document is N bytes, limit is M"
std::string size_message(std::size_t size, std::size_t limit);

/// "nesting depth exceeds the limit of N"
std::string depth_message(std::size_t limit);

struct text_position {
  std::size_t line;
  std::size_t column;
};

/// 1-based line and byte column of `offset` (which may be text.size(), the
/// end of input). A byte order mark takes no column, as in editors.
text_position locate(std::string_view text, std::size_t offset);

/// Only whitespace (after an optional byte order mark): no settings.
bool is_blank(std::string_view text) noexcept;

/// Offset of the first byte that is not part of well-formed UTF-8 (no
/// overlongs, no surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_at(std::string_view s) noexcept;

} // namespace cfgactors::detail

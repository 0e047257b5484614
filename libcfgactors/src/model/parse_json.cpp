// Reading JSON: nlohmann's parser with a depth guard, and its errors turned
// into line and column positions.
#include <cstddef>
#include <new>
#include <string>
#include <string_view>

#include "model/parse_readers.hpp"
#include "model/parse_text.hpp"

namespace cfgactors::detail {

namespace {

struct depth_exceeded {};

// Offset of the bracket that opens nesting level `limit + 1`. Only called
// after the parser stopped there, so the text up to that point is valid JSON
// and counting brackets outside strings is exact.
std::size_t offset_of_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return text.size();
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line
// L, column C: <reason>"; we report the position ourselves, so keep <reason>.
std::string json_reason(const char* what) {
  std::string_view text{what};
  auto start = text.find("parse error");
  if (start != std::string_view::npos) {
    auto colon = text.find(": ", start);
    if (colon != std::string_view::npos)
      return std::string{text.substr(colon + 2)};
  }
  return std::string{text};
}

} // namespace

parse_result parse_json(std::string_view text, std::string_view source,
                        const parse_limits& limits) {
  if (is_blank(text))
    return {json::object(), std::nullopt};
  // nlohmann's parser is iterative; the callback only has to stop it before
  // it builds a tree deeper than the limit (depth = enclosing containers).
  json::parser_callback_t guard = [&limits](int depth,
                                            json::parse_event_t event,
                                            json&) {
    if ((event == json::parse_event_t::object_start
         || event == json::parse_event_t::array_start)
        && static_cast<std::size_t>(depth) >= limits.max_depth)
      throw depth_exceeded{};
    return true;
  };
  try {
    return {json::parse(text.begin(), text.end(), guard), std::nullopt};
  } catch (const depth_exceeded&) {
    auto pos = locate(text, offset_of_depth(text, limits.max_depth));
    return parse_failure(source, pos.line, pos.column,
                         depth_message(limits.max_depth));
  } catch (const json::parse_error& e) {
    // `byte` counts the bytes read, so the offending byte is at byte - 1.
    auto pos = locate(text, e.byte > 0 ? e.byte - 1 : 0);
    return parse_failure(source, pos.line, pos.column, json_reason(e.what()));
  } catch (const std::bad_alloc&) {
    return parse_failure(source, 0, 0, "out of memory");
  } catch (const std::exception& e) {
    return parse_failure(source, 0, 0, e.what());
  }
}

} // namespace cfgactors::detail

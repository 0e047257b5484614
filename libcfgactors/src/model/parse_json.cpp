// Reading JSON: nlohmann's parser with a depth guard, and its errors turned
// into line and column positions.
#include <algorithm>
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

// nlohmann's tree builder, stopped before it opens nesting level
// `max_depth + 1`, and remembering where the parser gave up: a number
// overflow (out_of_range.406) carries no position of its own.
class guarded_builder {
public:
  using number_integer_t = json::number_integer_t;
  using number_unsigned_t = json::number_unsigned_t;
  using number_float_t = json::number_float_t;
  using string_t = json::string_t;
  using binary_t = json::binary_t;

  guarded_builder(json& result, std::size_t max_depth)
    : dom_(result), max_depth_(max_depth) {
    // nop
  }

  bool null() {
    return dom_.null();
  }
  bool boolean(bool x) {
    return dom_.boolean(x);
  }
  bool number_integer(number_integer_t x) {
    return dom_.number_integer(x);
  }
  bool number_unsigned(number_unsigned_t x) {
    return dom_.number_unsigned(x);
  }
  bool number_float(number_float_t x, const string_t& text) {
    return dom_.number_float(x, text);
  }
  bool string(string_t& x) {
    return dom_.string(x);
  }
  bool binary(binary_t& x) {
    return dom_.binary(x);
  }
  bool start_object(std::size_t n) {
    enter();
    return dom_.start_object(n);
  }
  bool key(string_t& x) {
    return dom_.key(x);
  }
  bool end_object() {
    --depth_;
    return dom_.end_object();
  }
  bool start_array(std::size_t n) {
    enter();
    return dom_.start_array(n);
  }
  bool end_array() {
    --depth_;
    return dom_.end_array();
  }

  template <class Exception>
  bool parse_error(std::size_t position, const std::string& token,
                   const Exception& ex) {
    error_end = position;
    error_token = token;
    return dom_.parse_error(position, token, ex); // throws
  }

  /// Bytes read when the parser gave up, and the token it was reading.
  std::size_t error_end = 0;
  std::string error_token;

private:
  void enter() {
    if (++depth_ > max_depth_)
      throw depth_exceeded{};
  }

  nlohmann::detail::json_sax_dom_parser<json> dom_;
  std::size_t max_depth_;
  std::size_t depth_ = 0;
};

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line
// L, column C: <reason>"; we report the position ourselves, so keep <reason>.
// Other errors are "[json.exception.out_of_range.406] <reason>".
std::string json_reason(const char* what) {
  std::string_view text{what};
  auto start = text.find("parse error");
  if (start != std::string_view::npos) {
    auto colon = text.find(": ", start);
    if (colon != std::string_view::npos)
      return std::string{text.substr(colon + 2)};
  }
  if (text.rfind("[json.exception.", 0) == 0) {
    auto end = text.find("] ");
    if (end != std::string_view::npos)
      return std::string{text.substr(end + 2)};
  }
  return std::string{text};
}

} // namespace

parse_result parse_json(std::string_view text, std::string_view source,
                        const parse_limits& limits) {
  if (is_blank(text))
    return {json::object(), std::nullopt};
  // nlohmann's parser is iterative; the builder only has to stop it before
  // it builds a tree deeper than the limit.
  json result;
  guarded_builder builder{result, limits.max_depth};
  try {
    json::sax_parse(text.begin(), text.end(), &builder);
    return {std::move(result), std::nullopt};
  } catch (const depth_exceeded&) {
    auto pos = locate(text, offset_of_depth(text, limits.max_depth));
    return parse_failure(source, pos.line, pos.column,
                         depth_message(limits.max_depth));
  } catch (const json::parse_error& e) {
    // `byte` counts the bytes read, so the offending byte is at byte - 1.
    auto pos = locate(text, e.byte > 0 ? e.byte - 1 : 0);
    return parse_failure(source, pos.line, pos.column, json_reason(e.what()));
  } catch (const json::out_of_range& e) {
    // A number too large for a double: the parser stopped right after it.
    auto len = std::min(builder.error_token.size(), builder.error_end);
    auto pos = locate(text, builder.error_end - len);
    return parse_failure(source, pos.line, pos.column, json_reason(e.what()));
  } catch (const std::bad_alloc&) {
    return parse_failure(source, 0, 0, "out of memory");
  } catch (const std::exception& e) {
    return parse_failure(source, 0, 0, e.what());
  }
}

} // namespace cfgactors::detail

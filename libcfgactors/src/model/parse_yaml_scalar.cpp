// YAML 1.2 core schema scalars: which plain or tagged text is null, a
// boolean, an integer or a float, and its value.
#include "model/parse_yaml_scalar.hpp"

#include <algorithm>
#include <charconv>
#include <cstdint>
#include <limits>
#include <system_error>

namespace cfgactors::detail {

namespace {

bool is_digit(char c, int base) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0' < base;
  if (base == 16)
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  return false;
}

bool all_digits(std::string_view s, int base) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [base](char c) {
    return is_digit(c, base);
  });
}

// Parses a float the way from_chars does; the caller has matched the syntax.
json to_double(std::string_view s) {
  if (!s.empty() && s[0] == '+')
    s.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  static_cast<void>(ptr);
  if (ec == std::errc::result_out_of_range) {
    // Overflow becomes infinity, underflow zero, like strtod.
    bool neg = !s.empty() && s[0] == '-';
    auto e = s.find_first_of("eE");
    bool tiny = e != std::string_view::npos && s.find('-', e) != s.npos;
    value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    if (neg)
      value = -value;
  }
  return json(value);
}

} // namespace

bool is_null_text(std::string_view s) noexcept {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<json> to_bool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE")
    return json(true);
  if (s == "false" || s == "False" || s == "FALSE")
    return json(false);
  return std::nullopt;
}

std::optional<json> to_int(std::string_view s) {
  int base = 10;
  std::string_view digits = s;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    base = s[1] == 'x' ? 16 : 8;
    digits = s.substr(2);
  } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    digits = s.substr(1);
  }
  if (!all_digits(digits, base))
    return std::nullopt;
  // Like the JSON parser: non-negative integers are unsigned, and integers
  // out of 64-bit range fall back to double.
  if (s[0] == '-') {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    static_cast<void>(ptr);
    if (ec == std::errc{})
      return json(value);
    return to_double(s);
  }
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   value, base);
  static_cast<void>(ptr);
  if (ec == std::errc{})
    return json(value);
  if (base == 10)
    return to_double(digits);
  double approx = 0;
  for (char c : digits)
    approx = approx * base
             + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  return json(approx);
}

std::optional<json> to_float(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN")
    return json(std::numeric_limits<double>::quiet_NaN());
  auto body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF")
    return json(neg ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity());
  // [0-9]* ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )? with at least one mantissa
  // digit.
  std::size_t i = 0;
  std::size_t mantissa = 0;
  while (i < body.size() && is_digit(body[i], 10))
    ++i, ++mantissa;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && is_digit(body[i], 10))
      ++i, ++mantissa;
  }
  if (mantissa == 0)
    return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-'))
      ++i;
    if (!all_digits(body.substr(i), 10))
      return std::nullopt;
    i = body.size();
  }
  if (i != body.size())
    return std::nullopt;
  return to_double(s);
}

json resolve_plain(const std::string& s) {
  if (is_null_text(s))
    return json(nullptr);
  if (auto b = to_bool(s))
    return *b;
  if (auto i = to_int(s))
    return *i;
  if (auto f = to_float(s))
    return *f;
  return json(s);
}

} // namespace cfgactors::detail

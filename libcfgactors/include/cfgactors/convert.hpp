// Typed reads of configuration values: what setting<T> and node::get<T>
// turn a JSON value into, and why a value could not be used.
#pragma once

#include <cmath>
#include <cstddef>
#include <limits>
#include <string>
#include <type_traits>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

namespace detail {

/// `expected <what>, found <JSON type>` (never the value: it may be secret).
std::string type_mismatch(const char* what, const json& found);

/// `<N>-bit [un]signed integer out of range`.
std::string out_of_range(std::size_t bits, bool is_signed);

} // namespace detail

/// Converts `x` to `T` without throwing; returns false and says why in
/// `error` when `x` does not fit.
///
/// - `bool`: a boolean.
/// - other integral types: an integer, or a number without fraction, within
///   the range of `T`.
/// - floating point: any number.
/// - `std::string`: a string; `std::vector<std::string>`: an array of
///   strings.
/// - `json`: any value.
/// - any other `T`: nlohmann's `from_json` for `T`, its exception caught.
template <class T>
bool convert(const json& x, T& out, std::string& error) {
  if constexpr (std::is_same_v<T, json>) {
    out = x;
    return true;
  } else if constexpr (std::is_same_v<T, bool>) {
    if (!x.is_boolean()) {
      error = detail::type_mismatch("boolean", x);
      return false;
    }
    out = x.get<bool>();
    return true;
  } else if constexpr (std::is_integral_v<T>) {
    using limits = std::numeric_limits<T>;
    auto bits = static_cast<std::size_t>(limits::digits + limits::is_signed);
    if (x.is_number_unsigned()) {
      auto v = x.get<uint64_t>();
      if (v > static_cast<uint64_t>(limits::max())) {
        error = detail::out_of_range(bits, limits::is_signed);
        return false;
      }
      out = static_cast<T>(v);
      return true;
    }
    if (x.is_number_integer()) {
      auto v = x.get<int64_t>();
      bool fits = limits::is_signed
                    ? v >= static_cast<int64_t>(limits::min())
                        && v <= static_cast<int64_t>(limits::max())
                    : v >= 0
                        && static_cast<uint64_t>(v)
                             <= static_cast<uint64_t>(limits::max());
      if (!fits) {
        error = detail::out_of_range(bits, limits::is_signed);
        return false;
      }
      out = static_cast<T>(v);
      return true;
    }
    if (x.is_number_float()) {
      auto d = x.get<double>();
      if (!std::isfinite(d) || d != std::trunc(d)) {
        error = detail::type_mismatch("integer", x);
        return false;
      }
      // [lo, hi) with hi = 2^digits is exact in double for every T.
      auto hi = std::ldexp(1.0, limits::digits);
      auto lo = limits::is_signed ? -hi : 0.0;
      if (d < lo || d >= hi) {
        error = detail::out_of_range(bits, limits::is_signed);
        return false;
      }
      out = static_cast<T>(d);
      return true;
    }
    error = detail::type_mismatch("integer", x);
    return false;
  } else if constexpr (std::is_floating_point_v<T>) {
    if (!x.is_number()) {
      error = detail::type_mismatch("number", x);
      return false;
    }
    out = static_cast<T>(x.get<double>());
    return true;
  } else if constexpr (std::is_same_v<T, std::string>) {
    if (!x.is_string()) {
      error = detail::type_mismatch("string", x);
      return false;
    }
    out = x.get_ref<const std::string&>();
    return true;
  } else if constexpr (std::is_same_v<T, std::vector<std::string>>) {
    if (!x.is_array()) {
      error = detail::type_mismatch("array of strings", x);
      return false;
    }
    T result;
    result.reserve(x.size());
    for (auto& item : x) {
      if (!item.is_string()) {
        error = detail::type_mismatch("array of strings", x) + " (item "
                + std::to_string(result.size()) + " is "
                + item.type_name() + ")";
        return false;
      }
      result.push_back(item.get_ref<const std::string&>());
    }
    out = std::move(result);
    return true;
  } else {
    try {
      out = x.get<T>();
      return true;
    } catch (const json::exception& e) {
      error = e.what();
      return false;
    }
  }
}

} // namespace cfgactors

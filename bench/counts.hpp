// Counts and lists of counts from the benches' command lines: a bad one is
// refused (nullopt), never read as 0 the way std::atoi would.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace bench {

/// A whole non-negative number of up to 9 digits, or nullopt.
inline std::optional<int> to_count(std::string_view text) {
  if (text.empty() || text.size() > 9
      || text.find_first_not_of("0123456789") != std::string_view::npos)
    return std::nullopt;
  return std::stoi(std::string{text});
}

/// "1000,10000": at least one count, separated by commas; or nullopt.
inline std::optional<std::vector<int>> to_counts(std::string_view text) {
  std::vector<int> result;
  while (true) {
    auto end = text.find(',');
    auto n = to_count(text.substr(0, end));
    if (!n)
      return std::nullopt;
    result.push_back(*n);
    if (end == std::string_view::npos)
      return result;
    text.remove_prefix(end + 1);
  }
}

/// The same, each count from `min` to `max`; or nullopt.
inline std::optional<std::vector<int>> to_counts(std::string_view text,
                                                 int min, int max) {
  auto result = to_counts(text);
  if (result)
    for (int n : *result)
      if (n < min || n > max)
        return std::nullopt;
  return result;
}

} // namespace bench

#include "cfgactors/semver.hpp"

#include <algorithm>
#include <cctype>

namespace cfgactors {

namespace {

bool all_digits(std::string_view s) {
  return !s.empty()
         && std::all_of(s.begin(), s.end(),
                        [](unsigned char c) { return std::isdigit(c) != 0; });
}

bool identifier_chars(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), [](unsigned char c) {
           return std::isalnum(c) != 0 || c == '-';
         });
}

std::vector<std::string_view> split(std::string_view s, char sep) {
  std::vector<std::string_view> parts;
  size_t start = 0;
  for (;;) {
    auto pos = s.find(sep, start);
    if (pos == std::string_view::npos) {
      parts.push_back(s.substr(start));
      return parts;
    }
    parts.push_back(s.substr(start, pos - start));
    start = pos + 1;
  }
}

// Numeric part without leading zeros, within uint64_t.
bool parse_number(std::string_view s, uint64_t& out) {
  if (!all_digits(s) || (s.size() > 1 && s[0] == '0') || s.size() > 19)
    return false;
  out = 0;
  for (char c : s)
    out = out * 10 + static_cast<uint64_t>(c - '0');
  return true;
}

bool fail(std::string* error, std::string_view text, const char* why) {
  if (error)
    *error = "invalid semantic version \"" + std::string{text} + "\": " + why;
  return false;
}

} // namespace

std::optional<semver> semver::parse(std::string_view text,
                                    std::string* error) {
  semver result;
  auto rest = text;
  if (!rest.empty() && (rest[0] == 'v' || rest[0] == 'V'))
    rest.remove_prefix(1);
  if (auto plus = rest.find('+'); plus != std::string_view::npos) {
    auto build = rest.substr(plus + 1);
    for (auto id : split(build, '.'))
      if (!identifier_chars(id)) {
        fail(error, text, "build metadata needs [0-9A-Za-z-] identifiers");
        return std::nullopt;
      }
    result.build = std::string{build};
    rest = rest.substr(0, plus);
  }
  if (auto dash = rest.find('-'); dash != std::string_view::npos) {
    for (auto id : split(rest.substr(dash + 1), '.')) {
      if (!identifier_chars(id)) {
        fail(error, text, "pre-release needs [0-9A-Za-z-] identifiers");
        return std::nullopt;
      }
      if (all_digits(id) && id.size() > 1 && id[0] == '0') {
        fail(error, text, "numeric pre-release identifier with leading zero");
        return std::nullopt;
      }
      result.pre.emplace_back(id);
    }
    rest = rest.substr(0, dash);
  }
  auto parts = split(rest, '.');
  if (parts.size() > 3) {
    fail(error, text, "more than MAJOR.MINOR.PATCH");
    return std::nullopt;
  }
  uint64_t* fields[] = {&result.major, &result.minor, &result.patch};
  for (size_t i = 0; i < parts.size(); ++i)
    if (!parse_number(parts[i], *fields[i])) {
      fail(error, text,
           "MAJOR.MINOR.PATCH must be numbers without leading zeros");
      return std::nullopt;
    }
  return result;
}

std::string semver::str() const {
  auto out = std::to_string(major) + '.' + std::to_string(minor) + '.'
             + std::to_string(patch);
  for (size_t i = 0; i < pre.size(); ++i) {
    out += i == 0 ? '-' : '.';
    out += pre[i];
  }
  if (!build.empty()) {
    out += '+';
    out += build;
  }
  return out;
}

namespace {

// Pre-release identifiers: numbers compare numerically and rank below
// alphanumerics, which compare in ASCII order (semver.org §11).
int compare_identifier(const std::string& x, const std::string& y) {
  bool xn = all_digits(x);
  bool yn = all_digits(y);
  if (xn && yn) {
    if (x.size() != y.size())
      return x.size() < y.size() ? -1 : 1;
    return x.compare(y) < 0 ? -1 : (x == y ? 0 : 1);
  }
  if (xn != yn)
    return xn ? -1 : 1;
  auto c = x.compare(y);
  return c < 0 ? -1 : (c > 0 ? 1 : 0);
}

int three_way(uint64_t x, uint64_t y) {
  return x < y ? -1 : (x > y ? 1 : 0);
}

} // namespace

int compare(const semver& x, const semver& y) noexcept {
  if (auto c = three_way(x.major, y.major))
    return c;
  if (auto c = three_way(x.minor, y.minor))
    return c;
  if (auto c = three_way(x.patch, y.patch))
    return c;
  if (x.pre.empty() || y.pre.empty())
    return x.pre.empty() == y.pre.empty() ? 0 : (x.pre.empty() ? 1 : -1);
  auto n = std::min(x.pre.size(), y.pre.size());
  for (size_t i = 0; i < n; ++i)
    if (auto c = compare_identifier(x.pre[i], y.pre[i]))
      return c;
  return three_way(x.pre.size(), y.pre.size());
}

bool compatible(const semver& have, const semver& need) noexcept {
  return have.major == need.major && have >= need;
}

} // namespace cfgactors

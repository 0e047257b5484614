#include "cfgactors/semver.hpp"

#include <algorithm>
#include <cctype>
#include <type_traits>

#include "contracts/semver_text.hpp"

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

// Calls `fn` on each part of `s` between `sep`s (one part when there is no
// `sep`); stops and returns false at the first part `fn` refuses.
template <class F>
bool for_each_part(std::string_view s, char sep, F fn) {
  for (;;) {
    auto pos = s.find(sep);
    if constexpr (std::is_same_v<decltype(fn(s)), bool>) {
      if (!fn(s.substr(0, pos)))
        return false;
    } else {
      fn(s.substr(0, pos));
    }
    if (pos == std::string_view::npos)
      return true;
    s.remove_prefix(pos + 1);
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

namespace detail {

std::optional<semver_text> scan_semver(std::string_view text,
                                       const char** why) noexcept {
  auto refuse = [why](const char* what) -> std::optional<semver_text> {
    if (why)
      *why = what;
    return std::nullopt;
  };
  semver_text result;
  auto rest = text;
  if (!rest.empty() && (rest[0] == 'v' || rest[0] == 'V'))
    rest.remove_prefix(1);
  if (auto plus = rest.find('+'); plus != std::string_view::npos) {
    result.build = rest.substr(plus + 1);
    if (!for_each_part(result.build, '.', identifier_chars))
      return refuse("build metadata needs [0-9A-Za-z-] identifiers");
    rest = rest.substr(0, plus);
  }
  if (auto dash = rest.find('-'); dash != std::string_view::npos) {
    result.pre = rest.substr(dash + 1);
    const char* problem = nullptr;
    for_each_part(result.pre, '.', [&problem](std::string_view id) {
      if (!identifier_chars(id))
        problem = "pre-release needs [0-9A-Za-z-] identifiers";
      else if (all_digits(id) && id.size() > 1 && id[0] == '0')
        problem = "numeric pre-release identifier with leading zero";
      return problem == nullptr;
    });
    if (problem)
      return refuse(problem);
    rest = rest.substr(0, dash);
  }
  if (std::count(rest.begin(), rest.end(), '.') > 2)
    return refuse("more than MAJOR.MINOR.PATCH");
  uint64_t* fields[] = {&result.major, &result.minor, &result.patch};
  std::size_t i = 0;
  if (!for_each_part(rest, '.', [&](std::string_view part) {
        return parse_number(part, *fields[i++]);
      }))
    return refuse("MAJOR.MINOR.PATCH must be numbers without leading zeros");
  return result;
}

} // namespace detail

std::optional<semver> semver::parse(std::string_view text,
                                    std::string* error) {
  const char* why = nullptr;
  auto scanned = detail::scan_semver(text, &why);
  if (!scanned) {
    fail(error, text, why);
    return std::nullopt;
  }
  semver result;
  result.major = scanned->major;
  result.minor = scanned->minor;
  result.patch = scanned->patch;
  if (!scanned->pre.empty())
    for_each_part(scanned->pre, '.',
                  [&](std::string_view id) { result.pre.emplace_back(id); });
  result.build = std::string{scanned->build};
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
int compare_identifier(std::string_view x, std::string_view y) {
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

namespace detail {

int compare(const semver_text& x, const semver& y) noexcept {
  if (auto c = three_way(x.major, y.major))
    return c;
  if (auto c = three_way(x.minor, y.minor))
    return c;
  if (auto c = three_way(x.patch, y.patch))
    return c;
  if (x.pre.empty() || y.pre.empty())
    return x.pre.empty() == y.pre.empty() ? 0 : (x.pre.empty() ? 1 : -1);
  std::size_t i = 0;
  int result = 0;
  for_each_part(x.pre, '.', [&](std::string_view id) {
    if (i == y.pre.size()) {
      result = 1; // x has more identifiers
      return false;
    }
    result = compare_identifier(id, y.pre[i++]);
    return result == 0;
  });
  if (result != 0)
    return result;
  return three_way(i, y.pre.size());
}

} // namespace detail

bool compatible(const semver& have, const semver& need) noexcept {
  return have.major == need.major && have >= need;
}

} // namespace cfgactors

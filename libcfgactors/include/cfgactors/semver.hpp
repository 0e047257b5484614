// Semantic versions (semver.org 2.0.0): the `schema_version` a config
// carries, and the version comparisons of feature flag rules.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace cfgactors {

struct semver {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  /// Dot-separated pre-release identifiers (`rc.1` → {"rc", "1"}); a version
  /// with any ranks below the same version without.
  std::vector<std::string> pre;
  std::string build; ///< ignored by comparisons

  /// Parses `MAJOR.MINOR.PATCH[-PRE][+BUILD]`; a leading `v` is accepted and
  /// so are the short forms `1` and `1.2` (missing parts are 0), as people
  /// write them in configs. Returns nullopt and fills `error` (what is wrong,
  /// quoting the input) otherwise.
  static std::optional<semver> parse(std::string_view text,
                                     std::string* error = nullptr);

  std::string str() const;
};

/// Orders by precedence: -1, 0 or 1 (build metadata is ignored).
int compare(const semver& x, const semver& y) noexcept;

inline bool operator==(const semver& x, const semver& y) noexcept {
  return compare(x, y) == 0;
}
inline bool operator!=(const semver& x, const semver& y) noexcept {
  return compare(x, y) != 0;
}
inline bool operator<(const semver& x, const semver& y) noexcept {
  return compare(x, y) < 0;
}
inline bool operator<=(const semver& x, const semver& y) noexcept {
  return compare(x, y) <= 0;
}
inline bool operator>(const semver& x, const semver& y) noexcept {
  return compare(x, y) > 0;
}
inline bool operator>=(const semver& x, const semver& y) noexcept {
  return compare(x, y) >= 0;
}

/// Whether a config at `have` satisfies a component that needs at least
/// `need`: same major version (a new major breaks compatibility) and not
/// older. `1.4.0` satisfies `1.2.0`; `2.0.0` and `1.1.0` do not.
bool compatible(const semver& have, const semver& need) noexcept;

} // namespace cfgactors

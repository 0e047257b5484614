// A semantic version read in place: the parts of a text that semver::parse
// accepts, without allocating. Flag rules compare a context attribute with a
// version on every evaluation; semver::parse would allocate each time.
#pragma once

#include <cstdint>
#include <optional>
#include <string_view>

#include "cfgactors/semver.hpp"

namespace cfgactors::detail {

struct semver_text {
  uint64_t major = 0;
  uint64_t minor = 0;
  uint64_t patch = 0;
  std::string_view pre;   ///< dot-separated identifiers, "" when none
  std::string_view build; ///< ignored by comparisons
};

/// What semver::parse accepts, as views into `text`; nullopt (and `why`,
/// when given) otherwise.
std::optional<semver_text> scan_semver(std::string_view text,
                                       const char** why = nullptr) noexcept;

/// compare(x, y) as if `x` had been parsed by semver::parse.
int compare(const semver_text& x, const semver& y) noexcept;

} // namespace cfgactors::detail

// Private: strings too long for the regex engine. valijson matches
// `pattern`, `patternProperties`, `propertyNames` patterns and the date/time
// formats with std::regex, whose matcher recurses once per character: a
// long enough string (some ten thousand characters) ends the stack and the
// process. Candidates come from sources, so such a string is refused before
// valijson sees it, at its path and only where a regex would meet it. Arrays
// too long for `uniqueItems` (quadratic) likewise.
#pragma once

#include <cstddef>
#include <optional>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors::detail {

/// Longest string (in bytes) matched against a regex.
inline constexpr std::size_t max_regex_subject = 4096;

/// Longest array checked for `uniqueItems` (valijson compares every pair).
inline constexpr std::size_t max_unique_items = 4096;

/// The first string of `candidate` longer than max_regex_subject that
/// `bundled` (a schema after bundle_refs: local `$ref`s only) would match
/// against a regex, or array longer than max_unique_items it would check for
/// unique items, as an error at its path.
std::optional<validation_error> find_unmatchable_string(const json& bundled,
                                                        const json& candidate);

/// True if `bundled` matches any string against a regex, or checks any
/// array for unique items: only then can a candidate need the guard.
bool needs_guard(const json& bundled);

} // namespace cfgactors::detail

// Private: why a schema does not compile, said with a location: what
// valijson refuses only late (invalid regexes), and where its refusals are.
#pragma once

#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors::detail {

/// `invalid JSON Schema at "<location>": <message>` (`at the root` for an
/// empty location, no location when there is none).
std::string invalid_schema(const std::optional<std::string>& location,
                           const std::string& message);

/// The first regex (a `pattern`, or a `patternProperties` key) that does not
/// compile, as an invalid_schema message: valijson would accept the schema
/// and throw from every validation.
std::optional<std::string> find_invalid_regex(const json& document);

/// Why valijson refused `document` with `what`, located where the draft 7
/// meta-schema objects or at a `$ref` that does not resolve in the document.
std::string explain_refusal(const json& document, const std::string& what);

} // namespace cfgactors::detail

// Private: valijson's results as our validation errors: one per problem, at
// the dotted path of the offending value, with `schema.<keyword>` as rule.
#pragma once

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/validation_error.hpp"

namespace valijson {
class ValidationResults;
} // namespace valijson

namespace cfgactors::detail {

/// Appends to `out` what `results` (of validating `candidate` against
/// `schema`, as compiled: after bundle_refs) says is wrong: leaf errors
/// rather than the aggregates that enclose them, without duplicates, each
/// message naming the offending value, a bound as the schema writes it
/// (`100`, not `100.000000`) and an enum's allowed values.
void translate_errors(const valijson::ValidationResults& results,
                      const json& candidate, const json& schema,
                      validation_errors& out);

} // namespace cfgactors::detail

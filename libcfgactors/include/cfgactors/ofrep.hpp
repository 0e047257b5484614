// The OpenFeature Remote Evaluation Protocol (OFREP) over feature_flags: an
// OpenFeature evaluation context in, the protocol's answer out (status and
// JSON body). Pure functions, so cfgd's endpoints and `cfgctl eval` give
// the same answer for the same configuration, and tests need no server.
//
// Context: every attribute of the JSON object becomes a flag_context
// attribute in its string form (strings as they are, numbers as their JSON
// text, booleans `true`/`false`); any other value is INVALID_CONTEXT naming
// the attribute. `targetingKey` is an attribute too, and also the value of
// the flag's `key` attribute (default `user`) unless the context sets that
// attribute itself.
//
// Value: `values[variant]` if the flag has `values`; else the variant name
// if the flag has `variants`; else the boolean `enabled`. A flag whose
// `values` (or `variants`) give nothing for the outcome (no variant
// assigned, or no value for it) answers without `value`: the protocol's
// "code default", the caller's own default.
//
// Reasons: a plain true/false flag is STATIC; `disabled` is DISABLED; a
// rule that decided is TARGETING_MATCH; a rollout (0 < rollout < 100) or a
// weighted variant is SPLIT; anything else DEFAULT. Errors: an absent flag
// is 404 FLAG_NOT_FOUND; a malformed flag (only sources that bypass the
// validator can hold one) 400 PARSE_ERROR; a flag that needs a key (a
// rollout, or variants to weigh) without one 400 TARGETING_KEY_MISSING.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "cfgactors/flags.hpp"
#include "cfgactors/fwd.hpp"

namespace cfgactors {

/// One OFREP answer: the HTTP status and the body of the protocol
/// (evaluationSuccess, evaluationFailure or bulkEvaluationFailure).
struct ofrep_answer {
  int status = 200;
  json body;
  /// The library's own result (for `cfgctl eval`); absent when the
  /// evaluation did not run (a bad context, a missing flag).
  std::optional<flag_result> result;
};

/// The OFREP reason of `result` for `flag`, the flag's JSON value.
std::string ofrep_reason(const json& flag, const flag_result& result);

/// Checks an OFREP context (the value of the request's `context`): nullopt
/// if it is usable, else why not (which attribute, what it is).
std::optional<std::string> ofrep_context_problem(const json& context);

/// Evaluates flag `key` of `flags` for the OFREP `context` (a JSON object;
/// null counts as empty).
ofrep_answer ofrep_evaluate(const feature_flags& flags, std::string_view key,
                            const json& context);

/// Evaluates every flag under `features`: `{"flags": [...]}`, each entry
/// as ofrep_evaluate's body (a failure stays in the list); a bad context
/// fails the whole request with 400 `{errorCode, errorDetails}`.
ofrep_answer ofrep_evaluate_all(const feature_flags& flags,
                                const json& context);

/// The body of an OFREP request (`{"context": {...}}`): the context, or the
/// 400 answer (PARSE_ERROR for text that is not JSON, INVALID_CONTEXT for a
/// context that is not an object). `key` goes into a single flag's error
/// body; empty for the bulk request.
std::optional<json> ofrep_request_context(std::string_view body,
                                          std::string_view key,
                                          ofrep_answer& error);

} // namespace cfgactors

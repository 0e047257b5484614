// The validator: the single admission gate and ordering point of a node. It
// applies writes to the current layer stack, checks the candidate against the
// schema and rules, and commits it through the store — or refuses it with
// every reason, leaving the running config as it was.
#pragma once

#include <cstddef>
#include <memory>
#include <vector>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/rules.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors {

struct validator_options {
  json_schema_ptr schema;               ///< optional JSON Schema
  std::shared_ptr<const rule_set> rules; ///< optional code rules
  std::size_t max_depth = 128;          ///< nesting limit of written values
};

/// The merge of every layer below the runtime layer, kept between writes:
/// most writes change only the runtime layer, so the effective tree is then
/// one copy of this plus a small merge instead of a merge of every layer.
struct base_merge_cache {
  std::vector<std::shared_ptr<const json>> inputs; ///< identity of the layers
  json base = json::object();

  /// The effective tree of `layers`, reusing the cached base when the layers
  /// below the runtime layer are the same objects as last time.
  json effective(const layer_stack& layers);
};

struct validator_state {
  static inline const char* name = "cfgactors.validator";

  validator_options options;
  store_actor store;
  layer_stack layers;   ///< the layers of the current version
  uint64_t version = 0; ///< the current version
  std::string hash;
  validator_stats stats;
  base_merge_cache merge_cache;
  /// Paths any source marked secret; their values are masked in every
  /// error the validator reports or logs.
  std::vector<std::string> secrets;
};

validator_actor::behavior_type
validator(validator_actor::stateful_pointer<validator_state> self,
          validator_options options, store_actor store);

/// Applies the operations of `req` to `layers` (no validation). On failure
/// appends the reasons to `errors`, returns the error code and leaves `layers`
/// in an unspecified state. Rollbacks are not handled here (they need the
/// store). Exposed for benchmarks and tests.
errc apply_operations(layer_stack& layers, const write_request& req,
                      std::size_t max_depth, validation_errors& errors);

/// Checks a candidate effective tree against schema and rules.
validation_errors check_candidate(const json& effective,
                                  const validator_options& options);

/// Replaces the string values found at `secret_paths` in `effective` by
/// `***` wherever they occur in the messages of `errors`.
void redact_errors(validation_errors& errors, const json& effective,
                   const std::vector<std::string>& secret_paths);

} // namespace cfgactors

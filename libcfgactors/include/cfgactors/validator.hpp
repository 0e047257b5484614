// The validator: the single admission gate and ordering point of a node. It
// applies writes to the current layer stack, checks the candidate against the
// schema and rules, and commits it through the store — or refuses it with
// every reason, leaving the running config as it was.
#pragma once

#include <cstddef>
#include <memory>
#include <optional>
#include <vector>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/rules.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors {

class contract_registry;

namespace detail {
class tree_pool;
} // namespace detail

struct validator_options {
  json_schema_ptr schema;               ///< optional JSON Schema
  std::shared_ptr<const rule_set> rules; ///< optional code rules
  std::size_t max_depth = 128;          ///< nesting limit of written values
  /// Optional component contracts, consulted after schema and rules; their
  /// vetoes count in `failures_by_rule` as `contract:<name>` and
  /// `schema_version` (see contract_registry.hpp).
  std::shared_ptr<const contract_registry> contracts;
};

/// The merge of every layer below the runtime layer, kept between writes:
/// most writes change only the runtime layer, so the effective tree is then
/// one copy of this plus a small merge instead of a merge of every layer.
struct base_merge_cache {
  std::vector<std::shared_ptr<const json>> inputs; ///< identity of the layers
  json base = json::object();
  /// A copy of `base` made by prepare(), consumed by the next effective().
  std::optional<json> spare;

  /// The effective tree of `layers`, reusing the cached base when the layers
  /// below the runtime layer are the same objects as last time.
  json effective(const layer_stack& layers);

  /// Copies the base ahead of the next effective() call, into `storage` if
  /// given (an old tree whose nodes are reused where the keys agree). The
  /// validator calls this while it waits for the store, which takes the copy
  /// off the path from one write to the next.
  void prepare(std::optional<json> storage = std::nullopt);
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
  /// Trees of snapshots the store let go of, to build candidates in; found
  /// on the first snapshot the store commits (see src/tree_pool.hpp).
  std::shared_ptr<detail::tree_pool> trees;
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

/// Checks a candidate effective tree against schema, rules and contracts.
validation_errors check_candidate(const json& effective,
                                  const validator_options& options);

/// Replaces the string values found at `secret_paths` in `effective` by
/// `***` wherever they occur in the messages of `errors`.
void redact_errors(validation_errors& errors, const json& effective,
                   const std::vector<std::string>& secret_paths);

} // namespace cfgactors

// What the validator checks: the single admission gate of a node applies
// writes to its layer stack, checks the candidate against schema, rules and
// contracts, and commits it through the store — or refuses it with every
// reason, leaving the running config as it was (src/pipeline/validator.cpp).
#pragma once

#include <cstddef>
#include <memory>
#include <string>
#include <vector>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/rules.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors {

class contract_registry;

struct validator_options {
  json_schema_ptr schema;               ///< optional JSON Schema
  std::shared_ptr<const rule_set> rules; ///< optional code rules
  std::size_t max_depth = 128;          ///< nesting limit of written values
  /// Optional component contracts, consulted after schema and rules; their
  /// vetoes count in `failures_by_rule` as `contract:<name>` and
  /// `schema_version` (see contract_registry.hpp).
  std::shared_ptr<const contract_registry> contracts;
};

/// Checks a candidate effective tree against schema, rules and contracts.
/// `changed`, when given, says that the candidate equals a tree the same
/// options accepted except at and below those dotted paths: the schema then
/// proves only what they change (json_schema::validate) and the rules check
/// only the matches a change touches (rule_set::check); tree checks and
/// contracts always see the whole tree. Checks a copy, as the overload
/// below does.
validation_errors
check_candidate(const json& effective, const validator_options& options,
                const std::vector<std::string>* changed = nullptr);

/// The same for a candidate held as a persistent tree (a version built
/// along its write): the schema proves it on the tree, the rules read the
/// subtrees they check; its JSON is made for a full pass, and for tree
/// checks and contracts when any is registered.
validation_errors
check_candidate(const layer_data& effective, const validator_options& options,
                const std::vector<std::string>* changed = nullptr);

} // namespace cfgactors

// The fast path of schema validation: answers only "valid?" over valijson's
// own compiled schema, without the error contexts valijson builds for every
// property it visits. Private to schema.cpp.
#pragma once

#include <cstddef>
#include <regex>
#include <string>
#include <unordered_map>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "model/hash_tree.hpp"

namespace valijson {
class Subschema;
} // namespace valijson

namespace cfgactors::detail {

/// Proves documents valid against a compiled valijson schema. The common
/// keywords are checked here exactly as valijson's ValidationVisitor checks
/// them (strict types); every other keyword is handed to valijson's own
/// visitor. Not thread-safe: one instance per concurrent caller.
class validity_check {
public:
  /// True only if valijson's validator accepts `document`, and so reports no
  /// error. False means invalid, or too deep to decide here: the caller then
  /// runs the full valijson pass, which collects the errors.
  bool proves_valid(const valijson::Subschema& schema, const json& document);

  /// proves_valid for a `document` equal to a tree that `schema` accepts
  /// except at and below the paths of `changed`: proves the changed subtrees
  /// in full and, on each ancestor of a change, descends through
  /// `properties`, `patternProperties`, `additionalProperties` and `allOf`
  /// only towards the changes and checks `propertyNames` only for the keys on
  /// the way; every other keyword of an ancestor is checked there in full
  /// (schema_validity.cpp lists which are cheap and which are not). Resolved
  /// `$ref`s are plain subschemas here. The same verdicts as proves_valid,
  /// provided the premise holds; the caller vouches for it.
  bool proves_valid(const valijson::Subschema& schema, const json& document,
                    const path_trie& changed);

  /// The same for a document held as a persistent tree: the changed
  /// subtrees are made JSON and proved in full; an ancestor answers `type`,
  /// `required`, `minProperties`, `maxProperties` and the keywords of
  /// other types from its node, and any other keyword on its JSON, made for
  /// it (what a non-local keyword costs).
  bool proves_valid(const valijson::Subschema& schema,
                    const config_node& document, const path_trie& changed);

private:
  friend class validity_visitor;
  template <class Document>
  friend class change_proof;

  /// Compiled `pattern` regexes, as valijson's Validator caches them.
  std::unordered_map<std::string, std::regex> regexes_;
  /// Properties matched by name, per enclosing object (a stack).
  std::vector<const json*> matched_;
};

} // namespace cfgactors::detail

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

private:
  friend class validity_visitor;

  /// Compiled `pattern` regexes, as valijson's Validator caches them.
  std::unordered_map<std::string, std::regex> regexes_;
  /// Properties matched by name, per enclosing object (a stack).
  std::vector<const json*> matched_;
};

} // namespace cfgactors::detail

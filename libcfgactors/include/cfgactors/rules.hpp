// Per-path validation rules registered in code (the seed's @validator).
#pragma once

#include <functional>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

/// A set of rules checked against a whole candidate tree. Paths may use `*`
/// as a segment to match every key (or index) at that level:
/// `features.*.rollout`. Except for `required`, a rule on an absent path
/// passes.
class rule_set {
public:
  /// A predicate returns an error message, or nullopt when the value is fine.
  using predicate_fn = std::function<std::optional<std::string>(const json&)>;

  /// A whole-tree check appends its own errors, each with its own path: for
  /// structures whose problems lie at many depths (feature flags).
  using tree_check_fn = std::function<void(const json&, validation_errors&)>;

  /// Value must equal one of `allowed`.
  rule_set& one_of(std::string path, std::vector<json> allowed);
  /// Number in [min, max]; a non-number fails.
  rule_set& range(std::string path, double min, double max);
  /// String fully matching the ECMAScript regex `regex`.
  rule_set& pattern(std::string path, const std::string& regex);
  /// JSON type: "object", "array", "string", "number", "integer", "boolean",
  /// "null".
  rule_set& type(std::string path, std::string type_name);
  /// Path must exist.
  rule_set& required(std::string path);
  /// Arbitrary check; `name` becomes the rule name in errors.
  rule_set& predicate(std::string path, std::string name, predicate_fn fn);
  /// Runs `fn` over the whole candidate; `name` is used only when it throws.
  rule_set& tree_check(std::string name, tree_check_fn fn);

  /// A check of one subtree: `fn` gets the value at `path` (nullptr when
  /// absent) and appends errors with their full paths. Unlike a tree check
  /// it runs only when a write changes something at or below `path`
  /// (check with changed paths), and reads that subtree alone.
  using subtree_check_fn
    = std::function<void(const json* value, validation_errors&)>;
  rule_set& subtree_check(std::string path, std::string name,
                          subtree_check_fn fn);

  /// Appends every violation in `candidate` to `out`.
  void check(const json& candidate, validation_errors& out) const;

  /// The same for a version's merged tree. With `changed` (the dotted paths
  /// where it differs from a tree these rules accepted), only the rules and
  /// subtree checks whose path a change touches run, each on the subtree
  /// below its path's first wildcard: a rule is a function of the values
  /// at its path. Tree checks see the whole candidate, made JSON for them.
  void check(const layer_data& candidate,
             const std::vector<std::string>* changed,
             validation_errors& out) const;

  std::size_t size() const noexcept {
    return rules_.size() + tree_checks_.size() + subtree_checks_.size();
  }

private:
  struct rule {
    std::string path;
    std::string name;
    bool must_exist = false;
    predicate_fn fn;
  };
  /// Checks `r` below `node`, the value at `at`, the first `at.size()`
  /// steps of `pattern`.
  void check_rule(const rule& r, const std::vector<path_segment>& pattern,
                  const json& node, config_path at,
                  validation_errors& out) const;

  std::vector<rule> rules_;
  std::vector<std::pair<std::string, tree_check_fn>> tree_checks_;
  struct subtree_check_entry {
    std::string path;
    std::string name;
    subtree_check_fn fn;
  };
  std::vector<subtree_check_entry> subtree_checks_;
};

} // namespace cfgactors

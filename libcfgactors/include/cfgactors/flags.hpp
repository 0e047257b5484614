// Feature flags under `features.<name>`: evaluation for one context (sticky
// percentage rollouts, rules on context attributes, weighted variants) and
// the structural check that lets the validator refuse malformed flags.
//
// A flag is `true`/`false`, or an object (docs/FLAGS.md has examples):
//
//   enabled          bool, default true; false turns the flag off for all
//   rollout          percent 0..100 (fractions allowed), default 100
//   key              context attribute the rollout and variants hash,
//                    default "user"
//   rules            list of {attribute, op, values, enabled?, variant?};
//                    checked in order after `enabled`, before `rollout`; the
//                    first match decides (enabled defaults to true)
//   variants         {name: weight >= 0, ...}, at least one weight > 0
//   default_variant  the variant when the flag is off or none is assigned
//                    (no variants, or no key to weigh them by)
//   description      free text
//   values           {variant: any JSON value}: what OFREP answers for
//                    each variant (cfgactors/ofrep.hpp: the value is
//                    values[variant] with values, else the variant name
//                    with variants, else the boolean); every key must be a
//                    declared variant. Evaluation itself ignores it.
//
// Ops: eq, neq, in, not_in, starts_with, ends_with, contains (text; values
// are scalars compared by their text: 42 matches "42"); lt, lte, gt, gte
// (both sides numbers; values must be numbers); semver_eq, semver_lt,
// semver_lte, semver_gt, semver_gte (values must be version strings). eq,
// neq and the comparisons take exactly one value; in, starts_with,
// ends_with, contains match if any value does; not_in if none does. A rule
// whose attribute is absent from the context, or whose attribute does not
// parse as a number / version for a numeric / version op, does not match.
//
// Sticky buckets: a 64-bit FNV-1a hash of (salt, flag name, key value),
// finished with MurmurHash3's fmix64, taken modulo 10000. A key is in the
// rollout when bucket < rollout × 100, so raising the percentage keeps
// every key that was in. Variants use another salt (independent of the
// rollout) over cumulative weights in variant-name order. The mapping uses
// only the bytes of the strings: it is the same on every platform and build.
//
// Reasons (flag_result::reason): `on`, `off` (a plain bool), `disabled`,
// `rule[i]:<attribute> <op>` (i counts from 0, as in the path rules[i]),
// `rollout:in`, `rollout:out`, `missing_key:<key>` (a rollout below 100 and
// the key attribute absent or empty: off), `missing` (no such flag: the
// fallback), and `malformed:<path>: <problem>` (the fallback; the first
// problem validate_features reports for the flag). Evaluation never throws.
#pragma once

#include <cstddef>
#include <functional>
#include <initializer_list>
#include <map>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "cfgactors/config_view.hpp"
#include "cfgactors/fwd.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

/// What a flag is evaluated for: attributes of the request, user or host,
/// `{{"tenant", "acme"}, {"user", "42"}}`.
struct flag_context {
  std::map<std::string, std::string, std::less<>> attributes;

  flag_context() = default;

  flag_context(
    std::initializer_list<std::pair<const std::string, std::string>> attrs)
    : attributes(attrs) {
    // nop
  }

  flag_context& set(std::string name, std::string value) {
    attributes.insert_or_assign(std::move(name), std::move(value));
    return *this;
  }

  /// The attribute's value, or nullptr.
  const std::string* find(std::string_view name) const noexcept {
    auto it = attributes.find(name);
    return it == attributes.end() ? nullptr : &it->second;
  }
};

/// The outcome of one evaluation.
struct flag_result {
  bool enabled = false;
  std::string variant;             ///< "" when the flag assigns none
  std::string reason;              ///< see the top of this header
  std::optional<std::size_t> rule; ///< index of the rule that decided

  /// Whether the flag was absent or malformed, so the fallbacks were used.
  bool defaulted() const noexcept {
    return reason == "missing" || malformed();
  }

  bool malformed() const noexcept {
    return reason.compare(0, 10, "malformed:") == 0;
  }

  friend bool operator==(const flag_result& x, const flag_result& y) {
    return x.enabled == y.enabled && x.variant == y.variant
           && x.reason == y.reason && x.rule == y.rule;
  }
};

/// Evaluates the flags of one configuration (with its overlay, if any).
/// Cheap to copy; holds the snapshot it reads alive.
class feature_flags {
public:
  explicit feature_flags(config_view view) : view_(std::move(view)) {
    // nop
  }

  explicit feature_flags(snapshot_ptr config)
    : view_(std::move(config)) {
    // nop
  }

  /// Over a tree that the caller keeps alive as long as this object.
  explicit feature_flags(const json& config) : view_(config) {
    // nop
  }

  /// A temporary tree would be gone before the first evaluation.
  explicit feature_flags(json&& config) = delete;

  /// Evaluates `name` for `ctx`; an absent or malformed flag yields
  /// `fallback` and `fallback_variant`.
  flag_result evaluate(std::string_view name, const flag_context& ctx = {},
                       bool fallback = false,
                       std::string_view fallback_variant = {}) const noexcept;

  /// Whether `name` is on for `ctx`; `fallback` if absent or malformed.
  bool enabled(std::string_view name, const flag_context& ctx = {},
               bool fallback = false) const noexcept;

  /// The variant `name` assigns to `ctx`; `fallback` if it assigns none or
  /// the flag is absent or malformed.
  std::string variant(std::string_view name, const flag_context& ctx = {},
                      std::string_view fallback = {}) const;

  const config_view& view() const noexcept {
    return view_;
  }

private:
  config_view view_;
};

/// Every problem in the `features` subtree of `config`, each with its path
/// (`features.x.rollout`, `features.x.rules[2].op`) and the rule `flag`.
validation_errors validate_features(const json& config);

/// Appends the problems of validate_features to `out`.
void validate_features(const json& config, validation_errors& out);

/// Registers validate_features with `rules`, so that a validator using them
/// refuses a write that leaves a malformed flag.
rule_set& add_feature_rules(rule_set& rules);

} // namespace cfgactors

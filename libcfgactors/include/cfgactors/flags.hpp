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
//
// Evaluation runs over a compiled form of the `features` subtree
// (src/flags/compiled_flags.hpp), built on the first evaluation and kept in
// the snapshot, so every reader of a version shares it; a feature_flags over
// a caller's tree, or over an overlay that changes `features`, keeps its
// own. enabled() and evaluate_view() then look nothing up in JSON and
// allocate nothing.
#pragma once

#include <cstddef>
#include <functional>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "cfgactors/config_view.hpp"
#include "cfgactors/flag_context.hpp"
#include "cfgactors/flag_key.hpp"
#include "cfgactors/flags_cache.hpp"
#include "cfgactors/fwd.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

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

/// flag_result without copies: variant and reason point into the compiled
/// flags of the feature_flags that returned it (valid while it or a copy
/// lives) or into the caller's fallback variant.
struct flag_result_view {
  bool enabled = false;
  std::string_view variant;
  std::string_view reason;
  std::optional<std::size_t> rule;

  bool defaulted() const noexcept {
    return reason == "missing" || malformed();
  }

  bool malformed() const noexcept {
    return reason.compare(0, 10, "malformed:") == 0;
  }

  /// The same result, owning its strings.
  flag_result copy() const {
    return flag_result{enabled, std::string{variant}, std::string{reason},
                       rule};
  }
};

/// Evaluates the flags of one configuration (with its overlay, if any).
/// Cheap to copy; holds the snapshot it reads alive. Over a caller's tree,
/// the flags are compiled by the first evaluation: a tree changed after
/// that needs a new feature_flags.
namespace detail {

/// compiled_flags::enabled through a key, for feature_flags' inline call.
bool enabled_by_key(const compiled_flags& flags, const flag_key& key,
                    const flag_context& ctx, bool fallback) noexcept;

} // namespace detail

class feature_flags {
public:
  explicit feature_flags(config_view view);

  explicit feature_flags(snapshot_ptr config);

  /// Over a tree that the caller keeps alive as long as this object.
  explicit feature_flags(const json& config);

  /// A temporary tree would be gone before the first evaluation.
  explicit feature_flags(json&& config) = delete;

  /// Evaluates `name` for `ctx`; an absent or malformed flag yields
  /// `fallback` and `fallback_variant`.
  flag_result evaluate(std::string_view name, const flag_context& ctx = {},
                       bool fallback = false,
                       std::string_view fallback_variant = {}) const noexcept;

  /// evaluate() without allocating: the strings are views (see
  /// flag_result_view).
  flag_result_view
  evaluate_view(std::string_view name, const flag_context& ctx = {},
                bool fallback = false,
                std::string_view fallback_variant = {}) const noexcept;

  /// Whether `name` is on for `ctx`; `fallback` if absent or malformed.
  bool enabled(std::string_view name, const flag_context& ctx = {},
               bool fallback = false) const noexcept;

  /// The same answers for a flag_key's name, without looking the name up
  /// again while the snapshot's compiled flags are the ones it was
  /// resolved against.
  flag_result_view
  evaluate_view(const flag_key& key, const flag_context& ctx = {},
                bool fallback = false,
                std::string_view fallback_variant = {}) const noexcept;

  bool enabled(const flag_key& key, const flag_context& ctx = {},
               bool fallback = false) const noexcept {
    // Inline to the one call that evaluates, once the flags are compiled.
    if (auto ready = cache_->get())
      return detail::enabled_by_key(*ready, key, ctx, fallback);
    return enabled_compiling(key, ctx, fallback);
  }

  /// The variant `name` assigns to `ctx`; `fallback` if it assigns none or
  /// the flag is absent or malformed.
  std::string variant(std::string_view name, const flag_context& ctx = {},
                      std::string_view fallback = {}) const;

  const config_view& view() const noexcept {
    return view_;
  }

private:
  /// The compiled flags, compiling them on first use; nullptr if that
  /// failed (out of memory), and evaluation then interprets the JSON.
  const detail::compiled_flags* compiled() const noexcept;

  /// enabled(key) before the flags are compiled.
  bool enabled_compiling(const flag_key& key, const flag_context& ctx,
                         bool fallback) const noexcept;

  config_view view_;
  /// The cache of a view whose flags are not its snapshot's.
  std::shared_ptr<const detail::flags_cache> own_;
  /// The snapshot's cache or own_.
  const detail::flags_cache* cache_;
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

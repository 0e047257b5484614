// The flags of one `features` subtree compiled for evaluation: what the
// reference evaluator (interpret_flag) works out from the JSON on every call
// is decided once here. A sorted table of flags, each with its rules' ops
// decoded and values parsed, its rollout as a bucket bound, its variants'
// cumulative weights, the hash state of its salts and every reason it can
// give as text. Evaluating looks nothing up in JSON and allocates nothing.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cfgactors/flags.hpp"
#include "cfgactors/fwd.hpp"
#include "cfgactors/semver.hpp"

#include "flags/flag_check.hpp"

namespace cfgactors::detail {

class compiled_flags {
public:
  /// Compiles `features` (nullptr when absent). A malformed flag compiles
  /// to its reason, `malformed:<path>: <problem>`.
  explicit compiled_flags(const json* features);

  /// feature_flags::evaluate_view.
  flag_result_view evaluate(std::string_view name, const flag_context& ctx,
                            bool fallback,
                            std::string_view fallback_variant) const noexcept;

  /// The same for `key`'s name, found through the place `key` remembers
  /// when it was resolved against these flags (and remembered if not).
  flag_result_view evaluate(const flag_key& key, const flag_context& ctx,
                            bool fallback,
                            std::string_view fallback_variant) const noexcept;

  /// feature_flags::enabled: the evaluation without its reasons and
  /// variant.
  bool enabled(std::string_view name, const flag_context& ctx,
               bool fallback) const noexcept;

  /// The same through a key.
  bool enabled(const flag_key& key, const flag_context& ctx,
               bool fallback) const noexcept;

  /// Told apart from every other compiled_flags of this process, so that a
  /// flag_key can tell whose place it remembers.
  uint64_t id() const noexcept {
    return id_;
  }

  /// How many flags were compiled (null ones are absent).
  std::size_t size() const noexcept {
    return flags_.size();
  }

  struct rule {
    std::string attribute;
    flag_op op = flag_op::eq;
    operand_kind operand = operand_kind::text;
    /// Text ops: the values as text; sorted and unique for eq, neq, in and
    /// not_in, which ask whether the attribute is one of them.
    std::vector<std::string> texts;
    double number = 0; ///< number ops
    semver version;    ///< version ops
    bool enabled = true;
    std::string variant; ///< "": weigh the variants
    std::string reason;  ///< rule[i]:<attribute> <op>
  };

  struct variant {
    std::string name;
    /// Cumulative weight up to this variant, times the bucket count.
    double bound = 0;
  };

  enum class kind : uint8_t { constant, object, malformed };

  struct flag {
    std::string name;
    kind what = kind::constant;
    bool enabled = true; ///< constant: its value; object: `enabled`
    std::string reason;  ///< malformed: the problem
    std::string key;     ///< the attribute hashed
    std::string missing_key_reason;
    bool always_on = true;  ///< rollout >= 100
    bool always_off = false; ///< rollout <= 0
    uint32_t rollout_bound = 0; ///< in when bucket < bound
    uint64_t rollout_prefix = 0;
    uint64_t variant_prefix = 0;
    std::vector<rule> rules;
    std::vector<variant> variants; ///< those with a weight above 0
    double total_weight = 0;
    std::string default_variant;
  };

private:
  const flag* find(std::string_view name) const noexcept;

  /// The flag `key` names: through the place it remembers when that was
  /// found in these flags, else found by name (and remembered).
  const flag* resolve(const flag_key& key) const noexcept;

  /// enabled() for a flag found (or not, f null) by either lookup.
  bool enabled_found(const flag* f, const flag_context& ctx,
                     bool fallback) const noexcept;

  /// The answer for a flag found (or not, f null) by either lookup;
  /// `unnamed`: an empty name, which is missing whatever `features` is.
  flag_result_view decide_found(const flag* f, const flag_context& ctx,
                                bool fallback,
                                std::string_view fallback_variant,
                                bool unnamed) const noexcept;

  std::vector<flag> flags_; // by name: shorter first, then bytes
  /// An open-addressing index over flags_ (index + 1; 0 is empty), a power
  /// of two at least twice their number: a lookup is a hash of a few words
  /// of the name and, nearly always, one comparison.
  std::vector<uint32_t> index_;
  std::string features_problem_; // when `features` is not an object
  uint64_t id_;
};

} // namespace cfgactors::detail

// feature_flags that answers every call twice, from the compiled flags (what
// the library serves) and from interpret_flag (the evaluator that reads the
// JSON each time, kept as the reference), and checks that the answers agree
// in enabled, variant, reason and rule. The flags suites evaluate through
// it, so each of their cases is also a case of that agreement.
#pragma once

#include <cstddef>
#include <sstream>
#include <string>
#include <string_view>

#include "cfgactors_test.hpp"

#include "cfgactors/flags.hpp"

#include "flags/interpret_flag.hpp"

namespace cfgactors::test {

/// How many evaluations the twins compared in this process.
inline std::size_t& twin_comparisons() {
  static std::size_t count = 0;
  return count;
}

inline std::string show(const flag_result& x) {
  std::ostringstream out;
  out << "{enabled " << x.enabled << ", variant '" << x.variant
      << "', reason '" << x.reason << "', rule "
      << (x.rule ? std::to_string(*x.rule) : std::string{"none"}) << "}";
  return out.str();
}

class twin_flags : public feature_flags {
public:
  using feature_flags::feature_flags;

  flag_result evaluate(std::string_view name, const flag_context& ctx = {},
                       bool fallback = false,
                       std::string_view fallback_variant = {}) const {
    auto compiled = feature_flags::evaluate(name, ctx, fallback,
                                            fallback_variant);
    agree(compiled, name, ctx, fallback, fallback_variant);
    return compiled;
  }

  bool enabled(std::string_view name, const flag_context& ctx = {},
               bool fallback = false) const {
    auto compiled = feature_flags::enabled(name, ctx, fallback);
    auto reference = detail::interpret_enabled(view(), name, ctx, fallback);
    ++twin_comparisons();
    if (compiled != reference)
      CAF_CHECK_EQUAL(compiled, reference);
    return compiled;
  }

  std::string variant(std::string_view name, const flag_context& ctx = {},
                      std::string_view fallback = {}) const {
    auto compiled = feature_flags::variant(name, ctx, fallback);
    auto reference = detail::interpret_flag(view(), name, ctx, false, {});
    std::string expected = reference.defaulted() || reference.variant.empty()
                             ? std::string{fallback}
                             : reference.variant;
    ++twin_comparisons();
    if (compiled != expected)
      CAF_CHECK_EQUAL(compiled, expected);
    return compiled;
  }

private:
  void agree(const flag_result& compiled, std::string_view name,
             const flag_context& ctx, bool fallback,
             std::string_view fallback_variant) const {
    auto reference = detail::interpret_flag(view(), name, ctx, fallback,
                                            fallback_variant);
    auto viewed = evaluate_view(name, ctx, fallback, fallback_variant).copy();
    ++twin_comparisons();
    // Checked only on a difference: the suites run 10^5 evaluations.
    if (!(compiled == reference))
      CAF_CHECK_EQUAL(show(compiled), show(reference));
    if (!(viewed == compiled))
      CAF_CHECK_EQUAL(show(viewed), show(compiled));
  }
};

} // namespace cfgactors::test

// feature_flags that answers every call twice, from the compiled flags (what
// the library serves) and from interpret_flag (the evaluator that reads the
// JSON each time, kept as the reference), and checks that the answers agree
// in enabled, variant, reason and rule; and answers again through a
// flag_key of the name, once as resolved before and once fresh. The flags
// suites evaluate through it, so each of their cases is also a case of
// these agreements.
#pragma once

#include <cstddef>
#include <map>
#include <memory>
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
    auto by_key = feature_flags::enabled(key(name), ctx, fallback);
    if (by_key != compiled)
      CAF_CHECK_EQUAL(by_key, compiled);
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
    // Through a key: as resolved by the calls before (this one's first
    // call resolves it), then through a fresh copy, which resolves again.
    const flag_key fresh{key(name)};
    for (auto* k : {&key(name), &fresh}) {
      auto keyed = evaluate_view(*k, ctx, fallback, fallback_variant).copy();
      if (!(keyed == compiled))
        CAF_CHECK_EQUAL(show(keyed), show(compiled));
    }
  }

  /// One key per name, kept across calls (and shared by copies).
  const flag_key& key(std::string_view name) const {
    auto& k = (*keys_)[std::string{name}];
    if (k == nullptr)
      k = std::make_unique<flag_key>(std::string{name});
    return *k;
  }

  std::shared_ptr<std::map<std::string, std::unique_ptr<flag_key>>> keys_
    = std::make_shared<std::map<std::string, std::unique_ptr<flag_key>>>();
};

} // namespace cfgactors::test

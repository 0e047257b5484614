// Feature flag evaluation over the compiled flags of a snapshot (or of the
// view, when an overlay changes `features`), and the check of a config's
// flags that the validator runs.
#include "cfgactors/flags.hpp"

#include <exception>
#include <memory>
#include <utility>

#include "cfgactors/rules.hpp"
#include "cfgactors/snapshot.hpp"

#include "flags/compiled_flags.hpp"
#include "flags/flag_check.hpp"
#include "flags/interpret_flag.hpp"

namespace cfgactors {

using detail::field;

namespace {

// Whether the view's flags are its snapshot's: an overlay that does not
// mention `features` cannot change an evaluation.
const snapshot* flags_source(const config_view& view) noexcept {
  auto overlay = view.overlay();
  if (overlay != nullptr && overlay->contains("features"))
    return nullptr;
  return view.source().get();
}

} // namespace

feature_flags::feature_flags(config_view view) : view_(std::move(view)) {
  if (auto snap = flags_source(view_)) {
    cache_ = &snap->compiled_features;
  } else {
    own_ = std::make_shared<const detail::flags_cache>();
    cache_ = own_.get();
  }
}

feature_flags::feature_flags(snapshot_ptr config)
  : feature_flags(config_view{std::move(config)}) {
  // nop
}

feature_flags::feature_flags(const json& config)
  : feature_flags(config_view{config}) {
  // nop
}

const detail::compiled_flags* feature_flags::compiled() const noexcept {
  if (auto ready = cache_->get())
    return ready;
  try {
    // A snapshot's own flags: its `features` alone made JSON, not the
    // config (a version built as a tree has no JSON until read).
    if (auto snap = flags_source(view_))
      return cache_->install(std::make_unique<const detail::compiled_flags>(
        snap->effective.find(std::string_view{"features"})));
    auto features = view_.find_keys({"features"});
    return cache_->install(
      std::make_unique<const detail::compiled_flags>(features.get()));
  } catch (const std::exception&) {
    return nullptr;
  }
}

flag_result_view
feature_flags::evaluate_view(std::string_view name, const flag_context& ctx,
                             bool fallback,
                             std::string_view fallback_variant) const
  noexcept {
  if (auto flags = compiled())
    return flags->evaluate(name, ctx, fallback, fallback_variant);
  return {fallback, fallback_variant, "error:compiling the flags failed",
          std::nullopt};
}

flag_result feature_flags::evaluate(std::string_view name,
                                    const flag_context& ctx, bool fallback,
                                    std::string_view fallback_variant) const
  noexcept {
  auto flags = compiled();
  if (flags == nullptr)
    return detail::interpret_flag(view_, name, ctx, fallback,
                                  fallback_variant);
  try {
    return flags->evaluate(name, ctx, fallback, fallback_variant).copy();
  } catch (...) {
    // Out of memory copying the strings: the caller still gets its fallback.
    flag_result result;
    result.enabled = fallback;
    return result;
  }
}

bool feature_flags::enabled(std::string_view name, const flag_context& ctx,
                            bool fallback) const noexcept {
  if (auto flags = compiled())
    return flags->enabled(name, ctx, fallback);
  return detail::interpret_enabled(view_, name, ctx, fallback);
}

flag_result_view
feature_flags::evaluate_view(const flag_key& key, const flag_context& ctx,
                             bool fallback,
                             std::string_view fallback_variant) const
  noexcept {
  if (auto flags = compiled())
    return flags->evaluate(key, ctx, fallback, fallback_variant);
  return {fallback, fallback_variant, "error:compiling the flags failed",
          std::nullopt};
}

bool feature_flags::enabled_compiling(const flag_key& key,
                                      const flag_context& ctx,
                                      bool fallback) const noexcept {
  if (auto flags = compiled())
    return flags->enabled(key, ctx, fallback);
  return detail::interpret_enabled(view_, key.name(), ctx, fallback);
}

std::string feature_flags::variant(std::string_view name,
                                   const flag_context& ctx,
                                   std::string_view fallback) const {
  std::string_view found;
  flag_result interpreted;
  if (auto flags = compiled()) {
    auto result = flags->evaluate(name, ctx, false, {});
    found = result.defaulted() ? std::string_view{} : result.variant;
  } else {
    interpreted = detail::interpret_flag(view_, name, ctx, false, {});
    if (!interpreted.defaulted())
      found = interpreted.variant;
  }
  return std::string{found.empty() ? fallback : found};
}

namespace {

/// validate_features on the `features` value itself (nullptr: absent).
void check_features(const json* features, validation_errors& out) {
  if (features == nullptr)
    return;
  if (!features->is_object()) {
    detail::check_features_type(*features, out);
    return;
  }
  for (auto& [name, flag] : features->items()) {
    if (name.empty()) {
      out.push_back({"features", "flag", "a flag name must not be empty"});
      continue;
    }
    detail::check_flag(name, flag, out, false);
  }
}

} // namespace

void validate_features(const json& config, validation_errors& out) {
  if (config.is_object())
    check_features(field(config, "features"), out);
}

validation_errors validate_features(const json& config) {
  validation_errors result;
  validate_features(config, result);
  return result;
}

rule_set& add_feature_rules(rule_set& rules) {
  // A subtree check: a write that changes no flag does not check them.
  return rules.subtree_check("features", "flag", check_features);
}

} // namespace cfgactors

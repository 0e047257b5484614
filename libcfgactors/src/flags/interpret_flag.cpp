// The first evaluator of feature flags: it reads the flag's JSON on every
// call. compiled_flags replaced it on the hot path; it stays as the
// reference the compiled form is tested against (every suite case and a
// generated set run through both) and as the fallback when compiling fails.
// The decision refers into the configuration instead of copying from it.
#include "flags/interpret_flag.hpp"

#include <charconv>
#include <cmath>
#include <exception>
#include <system_error>

#include "cfgactors/semver.hpp"

#include "flags/flag_check.hpp"
#include "flags/sticky_bucket.hpp"

namespace cfgactors::detail {

namespace {

enum class why : uint8_t {
  on,
  off,
  disabled,
  rule,
  rollout_in,
  rollout_out,
  missing,
  missing_key,
  malformed,
};

struct decision {
  bool enabled = false;
  std::string_view variant;
  why reason = why::missing;
  std::size_t rule = 0;
  std::string_view attribute; // of the deciding rule
  std::string_view op;        // of the deciding rule
  std::string_view key;       // the missing key attribute
  validation_errors problems; // the first problem, when malformed
};

// The text a scalar rule value is compared as: 42 matches "42".
std::string_view text_of(const json& value, std::string& scratch) {
  if (value.is_string())
    return value.get_ref<const std::string&>();
  scratch = value.dump();
  return scratch;
}

bool text_match(flag_op op, const json& values, std::string_view attr) {
  std::string scratch;
  auto any = [&](auto pred) {
    for (auto& value : values)
      if (pred(text_of(value, scratch)))
        return true;
    return false;
  };
  auto equal = [attr](std::string_view x) { return attr == x; };
  switch (op) {
    case flag_op::eq:
    case flag_op::in:
      return any(equal);
    case flag_op::neq:
    case flag_op::not_in:
      return !any(equal);
    case flag_op::starts_with:
      return any([attr](std::string_view x) {
        return attr.substr(0, x.size()) == x;
      });
    case flag_op::ends_with:
      return any([attr](std::string_view x) {
        return attr.size() >= x.size()
               && attr.substr(attr.size() - x.size()) == x;
      });
    case flag_op::contains:
      return any([attr](std::string_view x) {
        return attr.find(x) != std::string_view::npos;
      });
    default:
      return false;
  }
}

template <class T>
bool ordered(flag_op op, const T& x, const T& y) {
  switch (op) {
    case flag_op::lt:
    case flag_op::semver_lt:
      return x < y;
    case flag_op::lte:
    case flag_op::semver_lte:
      return x <= y;
    case flag_op::gt:
    case flag_op::semver_gt:
      return x > y;
    case flag_op::gte:
    case flag_op::semver_gte:
      return x >= y;
    case flag_op::semver_eq:
      return x == y;
    default:
      return false;
  }
}

bool number_match(flag_op op, const json& values, std::string_view attr) {
  double x = 0;
  auto end = attr.data() + attr.size();
  auto [ptr, ec] = std::from_chars(attr.data(), end, x);
  if (ec != std::errc{} || ptr != end || !std::isfinite(x))
    return false;
  return ordered(op, x, values.front().get<double>());
}

bool version_match(flag_op op, const json& values, std::string_view attr) {
  auto x = semver::parse(attr);
  if (!x)
    return false;
  auto y = semver::parse(values.front().get_ref<const std::string&>());
  return y && ordered(op, *x, *y);
}

// Only called on rules check_flag accepted.
bool matches(const detail::rule_fields& rule, std::string_view attr) {
  auto& values = *rule.values;
  auto op = detail::find_flag_op(rule.op->get_ref<const std::string&>());
  switch (op->operand) {
    case operand_kind::text:
      return text_match(op->op, values, attr);
    case operand_kind::number:
      return number_match(op->op, values, attr);
    case operand_kind::version:
      return version_match(op->op, values, attr);
  }
  return false;
}

std::string_view text(const json* value, std::string_view fallback = {}) {
  return value ? std::string_view{value->get_ref<const std::string&>()}
               : fallback;
}

// The weighted variant of `key`, or the default variant.
std::string_view pick_variant(const detail::flag_fields& flag,
                              std::string_view name, const std::string* key) {
  auto fallback = text(flag.default_variant);
  if (flag.variants == nullptr || key == nullptr)
    return fallback;
  double total = 0;
  for (auto& weight : *flag.variants)
    total += weight.get<double>();
  auto bucket = detail::sticky_bucket(detail::variant_salt, name, *key);
  // Cumulative weights scaled to buckets; the last variant with weight
  // takes what rounding leaves over.
  double cumulative = 0;
  std::string_view last;
  for (auto& [variant, weight] : flag.variants->items()) {
    auto w = weight.get<double>();
    if (w <= 0)
      continue;
    cumulative += w;
    last = variant;
    if (bucket * total < cumulative * detail::bucket_count)
      return last;
  }
  return last;
}

void decide_object(const detail::flag_fields& flag, std::string_view name,
                   const flag_context& ctx, decision& out) {
  auto default_variant = text(flag.default_variant);
  if (flag.enabled != nullptr && !flag.enabled->get<bool>()) {
    out.reason = why::disabled;
    out.variant = default_variant;
    return;
  }
  auto key_name = text(flag.key, detail::default_key);
  auto key = ctx.find(key_name);
  // An empty id would put every anonymous caller in the same bucket.
  if (key != nullptr && key->empty())
    key = nullptr;
  if (flag.rules != nullptr) {
    for (std::size_t i = 0; i < flag.rules->size(); ++i) {
      detail::rule_fields rule{(*flag.rules)[i]};
      auto& attribute = rule.attribute->get_ref<const std::string&>();
      auto attr = ctx.find(attribute);
      if (attr == nullptr || !matches(rule, *attr))
        continue;
      out.enabled = rule.enabled == nullptr || rule.enabled->get<bool>();
      out.reason = why::rule;
      out.rule = i;
      out.attribute = attribute;
      out.op = rule.op->get_ref<const std::string&>();
      if (!out.enabled)
        out.variant = default_variant;
      else if (rule.variant != nullptr)
        out.variant = text(rule.variant);
      else
        out.variant = pick_variant(flag, name, key);
      return;
    }
  }
  double rollout = flag.rollout ? flag.rollout->get<double>() : 100.0;
  if (rollout >= 100) {
    out.enabled = true;
    out.reason = why::on;
  } else if (rollout <= 0) {
    out.reason = why::rollout_out;
  } else if (key == nullptr) {
    out.reason = why::missing_key;
    out.key = key_name;
  } else {
    auto bucket = detail::sticky_bucket(detail::rollout_salt, name, *key);
    out.enabled = bucket < rollout * (detail::bucket_count / 100);
    out.reason = out.enabled ? why::rollout_in : why::rollout_out;
  }
  out.variant = out.enabled ? pick_variant(flag, name, key) : default_variant;
}

// Decides flag `name` of `view` for `ctx`. `holder` keeps the flag's value
// alive while `out` refers into it.
void decide(const config_view& view, std::string_view name,
            const flag_context& ctx, decision& out, view_value& holder) {
  if (name.empty())
    return;
  holder = view.find_keys({"features", name});
  if (!holder) {
    // Only an absent flag pays for looking at what `features` is.
    auto type = view.type_at({"features"});
    if (type != json::value_t::null && type != json::value_t::object) {
      detail::check_features_type(*view.find_keys({"features"}),
                                  out.problems);
      out.reason = why::malformed;
    }
    return;
  }
  auto& flag = *holder;
  if (flag.is_boolean()) {
    out.enabled = flag.get<bool>();
    out.reason = out.enabled ? why::on : why::off;
    return;
  }
  if (!flag.is_object()) {
    detail::check_flag(name, flag, out.problems, true);
    out.reason = why::malformed;
    return;
  }
  detail::flag_fields fields{flag};
  if (!detail::check_object_flag(name, flag, fields, out.problems, true)) {
    out.reason = why::malformed;
    return;
  }
  decide_object(fields, name, ctx, out);
}

std::string render_reason(const decision& d) {
  switch (d.reason) {
    case why::on:
      return "on";
    case why::off:
      return "off";
    case why::disabled:
      return "disabled";
    case why::rule:
      return "rule[" + std::to_string(d.rule) + "]:" + std::string{d.attribute}
             + " " + std::string{d.op};
    case why::rollout_in:
      return "rollout:in";
    case why::rollout_out:
      return "rollout:out";
    case why::missing:
      return "missing";
    case why::missing_key:
      return "missing_key:" + std::string{d.key};
    case why::malformed: {
      auto& p = d.problems.front();
      return "malformed:" + p.path + ": " + p.message;
    }
  }
  return "unknown";
}

bool defaulted(const decision& d) {
  return d.reason == why::missing || d.reason == why::malformed;
}

} // namespace

flag_result interpret_flag(const config_view& view, std::string_view name,
                           const flag_context& ctx, bool fallback,
                           std::string_view fallback_variant) noexcept {
  flag_result result;
  try {
    decision d;
    view_value holder;
    decide(view, name, ctx, d, holder);
    if (defaulted(d)) {
      result.enabled = fallback;
      result.variant = fallback_variant;
    } else {
      result.enabled = d.enabled;
      result.variant = d.variant;
    }
    if (d.reason == why::rule)
      result.rule = d.rule;
    result.reason = render_reason(d);
  } catch (const std::exception& e) {
    // check_flag vets what decide reads, so this is a bug, not bad data;
    // the caller still gets its fallback.
    result = flag_result{fallback, std::string{fallback_variant},
                         std::string{"error:"} + e.what(), std::nullopt};
  }
  return result;
}

bool interpret_enabled(const config_view& view, std::string_view name,
                       const flag_context& ctx, bool fallback) noexcept {
  try {
    decision d;
    view_value holder;
    decide(view, name, ctx, d, holder);
    return defaulted(d) ? fallback : d.enabled;
  } catch (...) {
    return fallback;
  }
}

} // namespace cfgactors::detail

// Compiling a `features` subtree, and evaluating its flags. Every decision
// mirrors interpret_flag step by step (same order, same arithmetic), so the
// two agree on every flag and context; the flags suites check that they do.
#include "flags/compiled_flags.hpp"

#include <algorithm>
#include <atomic>
#include <charconv>
#include <cmath>
#include <cstring>
#include <system_error>
#include <utility>

#include "contracts/semver_text.hpp"
#include "flags/sticky_bucket.hpp"

namespace cfgactors::detail {

namespace {

constexpr std::string_view reason_on = "on";
constexpr std::string_view reason_off = "off";
constexpr std::string_view reason_disabled = "disabled";
constexpr std::string_view reason_in = "rollout:in";
constexpr std::string_view reason_out = "rollout:out";
constexpr std::string_view reason_missing = "missing";

// The table's order, by length then bytes: the same table (and index) for
// the same flags, whatever order they came in.
bool before(std::string_view x, std::string_view y) noexcept {
  if (x.size() != y.size())
    return x.size() < y.size();
  return x < y;
}

// A hash of a name from its length and its first and last bytes (up to 8
// each): a few instructions for any length. Names that share all of these
// land in one probe sequence, where the full comparison tells them apart.
uint64_t name_hash(std::string_view s) noexcept {
  uint64_t a = 0;
  uint64_t b = 0;
  auto n = s.size();
  if (n >= 8) {
    std::memcpy(&a, s.data(), 8);
    std::memcpy(&b, s.data() + n - 8, 8);
  } else if (n >= 4) {
    uint32_t x = 0;
    uint32_t y = 0;
    std::memcpy(&x, s.data(), 4);
    std::memcpy(&y, s.data() + n - 4, 4);
    a = x;
    b = y;
  } else if (n > 0) {
    a = static_cast<unsigned char>(s[0])
        | static_cast<uint64_t>(static_cast<unsigned char>(s[n / 2])) << 8
        | static_cast<uint64_t>(static_cast<unsigned char>(s[n - 1])) << 16;
  }
  return fmix64(a ^ fmix64(b ^ n));
}

std::string as_text(const json& value) {
  // As interpret_flag compares: 42 matches "42".
  if (value.is_string())
    return value.get<std::string>();
  return value.dump();
}

bool one_of_op(flag_op op) noexcept {
  return op == flag_op::eq || op == flag_op::neq || op == flag_op::in
         || op == flag_op::not_in;
}

compiled_flags::rule compile_rule(const json& value, std::size_t i) {
  rule_fields fields{value};
  compiled_flags::rule out;
  out.attribute = fields.attribute->get<std::string>();
  auto& op_name = fields.op->get_ref<const std::string&>();
  auto op = find_flag_op(op_name);
  out.op = op->op;
  out.operand = op->operand;
  auto& values = *fields.values;
  switch (op->operand) {
    case operand_kind::text:
      for (auto& x : values)
        out.texts.push_back(as_text(x));
      if (one_of_op(out.op)) {
        std::sort(out.texts.begin(), out.texts.end());
        out.texts.erase(std::unique(out.texts.begin(), out.texts.end()),
                        out.texts.end());
      }
      break;
    case operand_kind::number:
      out.number = values.front().get<double>();
      break;
    case operand_kind::version:
      out.version = *semver::parse(values.front().get_ref<const std::string&>());
      break;
  }
  out.enabled = fields.enabled == nullptr || fields.enabled->get<bool>();
  if (out.enabled && fields.variant != nullptr)
    out.variant = fields.variant->get<std::string>();
  out.reason = "rule[" + std::to_string(i) + "]:" + out.attribute + " "
               + op_name;
  return out;
}

// Only called on flags check_object_flag accepted.
void compile_object(const flag_fields& fields, compiled_flags::flag& out) {
  out.what = compiled_flags::kind::object;
  out.enabled = fields.enabled == nullptr || fields.enabled->get<bool>();
  if (fields.default_variant != nullptr)
    out.default_variant = fields.default_variant->get<std::string>();
  out.key = fields.key != nullptr ? fields.key->get<std::string>()
                                  : std::string{default_key};
  out.missing_key_reason = "missing_key:" + out.key;
  double rollout = fields.rollout ? fields.rollout->get<double>() : 100.0;
  out.always_on = rollout >= 100;
  out.always_off = !out.always_on && rollout <= 0;
  // A whole bucket is in when it is below the percentage in hundredths.
  if (!out.always_on && !out.always_off)
    out.rollout_bound = static_cast<uint32_t>(
      std::ceil(rollout * (bucket_count / 100)));
  out.rollout_prefix = sticky_prefix(rollout_salt, out.name);
  out.variant_prefix = sticky_prefix(variant_salt, out.name);
  if (fields.variants != nullptr) {
    // Sums in the order the interpreter does, so every bound is the same
    // double it computes.
    double cumulative = 0;
    for (auto& [name, weight] : fields.variants->items()) {
      auto w = weight.get<double>();
      out.total_weight += w;
      if (w <= 0)
        continue;
      cumulative += w;
      out.variants.push_back({name, cumulative * bucket_count});
    }
  }
  if (fields.rules != nullptr)
    for (std::size_t i = 0; i < fields.rules->size(); ++i)
      out.rules.push_back(compile_rule((*fields.rules)[i], i));
}

std::string malformed_reason(const validation_errors& problems) {
  auto& p = problems.front();
  return "malformed:" + p.path + ": " + p.message;
}

compiled_flags::flag compile_flag(const std::string& name, const json& value) {
  compiled_flags::flag out;
  out.name = name;
  if (value.is_boolean()) {
    out.enabled = value.get<bool>();
    return out;
  }
  validation_errors problems;
  if (!value.is_object()) {
    check_flag(name, value, problems, true);
  } else {
    flag_fields fields{value};
    if (check_object_flag(name, value, fields, problems, true)) {
      compile_object(fields, out);
      return out;
    }
  }
  out.what = compiled_flags::kind::malformed;
  out.reason = malformed_reason(problems);
  return out;
}

bool text_match(const compiled_flags::rule& r, std::string_view attr) {
  auto any = [&r](auto pred) {
    return std::any_of(r.texts.begin(), r.texts.end(), pred);
  };
  auto one_of = [&r, attr] {
    // Rules name a few values: a scan that compares lengths first beats a
    // binary search of full comparisons.
    if (r.texts.size() <= 8)
      return std::any_of(r.texts.begin(), r.texts.end(),
                         [attr](const std::string& x) {
                           return same_text(x, attr);
                         });
    return std::binary_search(r.texts.begin(), r.texts.end(), attr,
                              [](std::string_view x, std::string_view y) {
                                return x < y;
                              });
  };
  switch (r.op) {
    case flag_op::eq:
    case flag_op::in:
      return one_of();
    case flag_op::neq:
    case flag_op::not_in:
      return !one_of();
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

// Whether three-way `c` (attribute against value) satisfies `op`.
bool ordered(flag_op op, int c) noexcept {
  switch (op) {
    case flag_op::lt:
    case flag_op::semver_lt:
      return c < 0;
    case flag_op::lte:
    case flag_op::semver_lte:
      return c <= 0;
    case flag_op::gt:
    case flag_op::semver_gt:
      return c > 0;
    case flag_op::gte:
    case flag_op::semver_gte:
      return c >= 0;
    case flag_op::semver_eq:
      return c == 0;
    default:
      return false;
  }
}

bool number_match(const compiled_flags::rule& r, std::string_view attr) {
  double x = 0;
  auto end = attr.data() + attr.size();
  auto [ptr, ec] = std::from_chars(attr.data(), end, x);
  if (ec != std::errc{} || ptr != end || !std::isfinite(x))
    return false;
  // Both finite: exactly one of <, ==, > holds.
  return ordered(r.op, x < r.number ? -1 : (x > r.number ? 1 : 0));
}

bool version_match(const compiled_flags::rule& r, std::string_view attr) {
  auto x = scan_semver(attr);
  return x && ordered(r.op, compare(*x, r.version));
}

bool matches(const compiled_flags::rule& r, std::string_view attr) {
  switch (r.operand) {
    case operand_kind::text:
      return text_match(r, attr);
    case operand_kind::number:
      return number_match(r, attr);
    case operand_kind::version:
      return version_match(r, attr);
  }
  return false;
}

// The weighted variant of `key`, or the default variant.
std::string_view pick_variant(const compiled_flags::flag& f,
                              const std::string* key) noexcept {
  if (f.variants.empty() || key == nullptr)
    return f.default_variant;
  auto bucket = sticky_bucket(f.variant_prefix, *key);
  for (auto& v : f.variants)
    if (bucket * f.total_weight < v.bound)
      return v.name;
  // What rounding leaves over goes to the last variant with weight.
  return f.variants.back().name;
}

flag_result_view decide(const compiled_flags::flag& f,
                        const flag_context& ctx) noexcept {
  if (!f.enabled)
    return {false, f.default_variant, reason_disabled, std::nullopt};
  auto key = ctx.find(f.key);
  // An empty id would put every anonymous caller in the same bucket.
  if (key != nullptr && key->empty())
    key = nullptr;
  for (std::size_t i = 0; i < f.rules.size(); ++i) {
    auto& r = f.rules[i];
    auto attr = ctx.find(r.attribute);
    if (attr == nullptr || !matches(r, *attr))
      continue;
    std::string_view variant = f.default_variant;
    if (r.enabled)
      variant = r.variant.empty() ? pick_variant(f, key)
                                  : std::string_view{r.variant};
    return {r.enabled, variant, r.reason, i};
  }
  flag_result_view out;
  if (f.always_on) {
    out.enabled = true;
    out.reason = reason_on;
  } else if (f.always_off) {
    out.reason = reason_out;
  } else if (key == nullptr) {
    out.reason = f.missing_key_reason;
  } else {
    out.enabled = sticky_bucket(f.rollout_prefix, *key) < f.rollout_bound;
    out.reason = out.enabled ? reason_in : reason_out;
  }
  out.variant = out.enabled ? pick_variant(f, key)
                            : std::string_view{f.default_variant};
  return out;
}

/// decide(f, ctx).enabled without choosing a variant or a reason: what
/// enabled() asks. The same steps in the same order as decide.
bool decide_enabled(const compiled_flags::flag& f,
                    const flag_context& ctx) noexcept {
  if (!f.enabled)
    return false;
  for (auto& r : f.rules)
    if (auto attr = ctx.find(r.attribute); attr != nullptr && matches(r, *attr))
      return r.enabled;
  if (f.always_on)
    return true;
  if (f.always_off)
    return false;
  auto key = ctx.find(f.key);
  if (key == nullptr || key->empty())
    return false;
  return sticky_bucket(f.rollout_prefix, *key) < f.rollout_bound;
}

} // namespace

namespace {

// A flag_key keeps 40 bits of the id and 24 of the place (docs above
// flag_key::resolved_): ids wrap after 2^40 compilations, and a set of
// more than 2^24 - 2 flags is looked up by name past that.
constexpr uint64_t place_bits = 24;
constexpr uint64_t place_mask = (uint64_t{1} << place_bits) - 1;
constexpr uint64_t absent_place = place_mask;

uint64_t next_id() noexcept {
  static std::atomic<uint64_t> last{0};
  auto id = last.fetch_add(1, std::memory_order_relaxed) + 1;
  return id & ((uint64_t{1} << (64 - place_bits)) - 1);
}

} // namespace

compiled_flags::compiled_flags(const json* features) : id_(next_id()) {
  if (features == nullptr || features->is_null())
    return;
  if (!features->is_object()) {
    validation_errors problems;
    check_features_type(*features, problems);
    features_problem_ = malformed_reason(problems);
    return;
  }
  flags_.reserve(features->size());
  for (auto& [name, value] : features->items())
    // An empty name is never looked up; a null flag is absent.
    if (!name.empty() && !value.is_null())
      flags_.push_back(compile_flag(name, value));
  std::sort(flags_.begin(), flags_.end(),
            [](const flag& x, const flag& y) { return before(x.name, y.name); });
  std::size_t slots = 4;
  while (slots < 2 * flags_.size())
    slots *= 2;
  index_.assign(slots, 0);
  for (uint32_t i = 0; i < flags_.size(); ++i) {
    auto at = name_hash(flags_[i].name) & (slots - 1);
    while (index_[at] != 0)
      at = (at + 1) & (slots - 1);
    index_[at] = i + 1;
  }
}

const compiled_flags::flag*
compiled_flags::find(std::string_view name) const noexcept {
  if (index_.empty())
    return nullptr;
  auto mask = index_.size() - 1;
  // At most half the slots are taken: the probe ends at an empty one.
  for (auto at = name_hash(name) & mask;; at = (at + 1) & mask) {
    auto i = index_[at];
    if (i == 0)
      return nullptr;
    if (flags_[i - 1].name == name)
      return &flags_[i - 1];
  }
}

flag_result_view
compiled_flags::evaluate(std::string_view name, const flag_context& ctx,
                         bool fallback,
                         std::string_view fallback_variant) const noexcept {
  auto unnamed = name.empty();
  if (unnamed || !features_problem_.empty())
    return decide_found(nullptr, ctx, fallback, fallback_variant, unnamed);
  return decide_found(find(name), ctx, fallback, fallback_variant, false);
}

const compiled_flags::flag*
compiled_flags::resolve(const flag_key& key) const noexcept {
  auto resolved = key.resolved_.load(std::memory_order_relaxed);
  if (resolved != 0 && (resolved >> place_bits) == id_) {
    auto place = resolved & place_mask;
    return place == absent_place ? nullptr : &flags_[place - 1];
  }
  auto f = find(key.name_);
  auto place = f == nullptr ? absent_place
                            : static_cast<uint64_t>(f - flags_.data()) + 1;
  // A place that does not fit is not remembered: looked up every time.
  if (place <= absent_place)
    key.resolved_.store((id_ << place_bits) | place, std::memory_order_relaxed);
  return f;
}

flag_result_view
compiled_flags::evaluate(const flag_key& key, const flag_context& ctx,
                         bool fallback,
                         std::string_view fallback_variant) const noexcept {
  auto unnamed = key.name_.empty();
  if (unnamed || !features_problem_.empty())
    return decide_found(nullptr, ctx, fallback, fallback_variant, unnamed);
  return decide_found(resolve(key), ctx, fallback, fallback_variant, false);
}

bool compiled_flags::enabled(std::string_view name, const flag_context& ctx,
                             bool fallback) const noexcept {
  if (name.empty() || !features_problem_.empty())
    return fallback;
  return enabled_found(find(name), ctx, fallback);
}

bool compiled_flags::enabled(const flag_key& key, const flag_context& ctx,
                             bool fallback) const noexcept {
  // An empty name resolves to no flag (none is compiled under it), as does
  // every name when `features` is not an object (no flags then): both fall
  // back.
  auto f = resolve(key);
  // A plain boolean, the commonest flag, without a further call.
  if (f != nullptr && f->what == kind::constant)
    return f->enabled;
  return enabled_found(f, ctx, fallback);
}

bool compiled_flags::enabled_found(const flag* f, const flag_context& ctx,
                                   bool fallback) const noexcept {
  if (f == nullptr)
    return fallback;
  switch (f->what) {
    case kind::constant:
      return f->enabled;
    case kind::malformed:
      return fallback;
    case kind::object:
      break;
  }
  return decide_enabled(*f, ctx);
}

bool enabled_by_key(const compiled_flags& flags, const flag_key& key,
                    const flag_context& ctx, bool fallback) noexcept {
  return flags.enabled(key, ctx, fallback);
}

flag_result_view
compiled_flags::decide_found(const flag* f, const flag_context& ctx,
                             bool fallback, std::string_view fallback_variant,
                             bool unnamed) const noexcept {
  flag_result_view fell{fallback, fallback_variant, reason_missing,
                        std::nullopt};
  if (unnamed)
    return fell;
  if (!features_problem_.empty()) {
    fell.reason = features_problem_;
    return fell;
  }
  if (f == nullptr)
    return fell;
  switch (f->what) {
    case kind::constant:
      return {f->enabled, {}, f->enabled ? reason_on : reason_off,
              std::nullopt};
    case kind::malformed:
      fell.reason = f->reason;
      return fell;
    case kind::object:
      break;
  }
  return decide(*f, ctx);
}

} // namespace cfgactors::detail

// Structural checks of feature flags. Messages name what was expected and
// quote what was found; paths are built only when there is a problem, so a
// well-formed flag is checked without allocating.
#include "flags/flag_check.hpp"

#include <algorithm>
#include <cmath>
#include <initializer_list>
#include <string>
#include <utility>
#include <variant>

#include "cfgactors/path.hpp"
#include "cfgactors/semver.hpp"

namespace cfgactors::detail {

namespace {

constexpr flag_op_info ops[] = {
  {"eq", flag_op::eq, operand_kind::text, true},
  {"neq", flag_op::neq, operand_kind::text, true},
  {"in", flag_op::in, operand_kind::text, false},
  {"not_in", flag_op::not_in, operand_kind::text, false},
  {"starts_with", flag_op::starts_with, operand_kind::text, false},
  {"ends_with", flag_op::ends_with, operand_kind::text, false},
  {"contains", flag_op::contains, operand_kind::text, false},
  {"lt", flag_op::lt, operand_kind::number, true},
  {"lte", flag_op::lte, operand_kind::number, true},
  {"gt", flag_op::gt, operand_kind::number, true},
  {"gte", flag_op::gte, operand_kind::number, true},
  {"semver_eq", flag_op::semver_eq, operand_kind::version, true},
  {"semver_lt", flag_op::semver_lt, operand_kind::version, true},
  {"semver_lte", flag_op::semver_lte, operand_kind::version, true},
  {"semver_gt", flag_op::semver_gt, operand_kind::version, true},
  {"semver_gte", flag_op::semver_gte, operand_kind::version, true},
};

constexpr std::string_view flag_field_names[] = {
  "enabled", "rollout",         "key",        "rules",
  "variants", "default_variant", "description", "values",
};

constexpr std::string_view rule_field_names[] = {
  "attribute", "op", "values", "enabled", "variant",
};

template <std::size_t N>
bool known(const std::string_view (&names)[N], std::string_view name) {
  return std::find(std::begin(names), std::end(names), name)
         != std::end(names);
}

template <class Range, class Name>
std::string joined(const Range& items, Name name) {
  std::string out;
  for (auto& item : items) {
    if (!out.empty())
      out += ", ";
    out += name(item);
  }
  return out;
}

std::string op_names() {
  return joined(ops, [](const flag_op_info& x) { return std::string{x.name}; });
}

bool finite_number(const json& value) {
  return value.is_number() && std::isfinite(value.get<double>());
}

bool nonempty_string(const json& value) {
  return value.is_string() && !value.get_ref<const std::string&>().empty();
}

using step = std::variant<std::string_view, std::size_t>;

// Collects the problems of one flag at paths below features.<name>.
class problems {
public:
  problems(std::string_view name, validation_errors& out, bool first_only)
    : name_(name), out_(out), first_only_(first_only) {
    // nop
  }

  void add(std::initializer_list<step> steps, std::string message) {
    ++count_;
    if (first_only_ && count_ > 1)
      return;
    config_path path;
    path.segments.reserve(steps.size() + 2);
    path.segments.emplace_back(std::string{"features"});
    path.segments.emplace_back(std::string{name_});
    for (auto& s : steps) {
      if (auto key = std::get_if<std::string_view>(&s))
        path.segments.emplace_back(std::string{*key});
      else
        path.segments.emplace_back(std::get<std::size_t>(s));
    }
    out_.push_back({path.str(), "flag", std::move(message)});
  }

  std::size_t count() const noexcept {
    return count_;
  }

private:
  std::string_view name_;
  validation_errors& out_;
  bool first_only_;
  std::size_t count_ = 0;
};

// Returns the variants when they are usable, nullptr when absent or broken
// (names are then not checked against them: that would only repeat the
// problem).
const json* check_variants(const json* variants, problems& out) {
  if (variants == nullptr)
    return nullptr;
  if (!variants->is_object()) {
    out.add({"variants"}, "expected an object of variant weights "
                          "{name: weight}, got "
                            + render(*variants));
    return nullptr;
  }
  auto before = out.count();
  double total = 0;
  for (auto& [name, weight] : variants->items()) {
    if (name.empty()) {
      out.add({"variants"}, "a variant name must not be empty");
      continue;
    }
    if (!finite_number(weight) || weight.get<double>() < 0) {
      out.add({"variants", name}, "expected a weight >= 0, got "
                                    + render(weight));
      continue;
    }
    total += weight.get<double>();
  }
  if (out.count() > before)
    return nullptr;
  if (!(total > 0)) {
    out.add({"variants"}, "needs at least one variant with a weight above 0");
    return nullptr;
  }
  if (!std::isfinite(total)) {
    out.add({"variants"}, "the weights add up to more than a double holds");
    return nullptr;
  }
  return variants;
}

// A variant named by the flag or a rule: a non-empty string, and one of the
// variants when the flag has them.
void check_variant_name(const json& value, const json* variants,
                        problems& out, std::initializer_list<step> at) {
  if (!nonempty_string(value)) {
    out.add(at, "expected a variant name, got " + render(value));
    return;
  }
  if (variants == nullptr
      || variants->contains(value.get_ref<const std::string&>()))
    return;
  out.add(at, "unknown variant " + render(value) + "; the variants are "
                + joined(variants->items(), [](const auto& item) {
                    return item.key();
                  }));
}

void check_value(const flag_op_info& op, const json& value, problems& out,
                 std::size_t rule, std::size_t index) {
  switch (op.operand) {
    case operand_kind::text:
      if (value.is_string() || value.is_boolean() || finite_number(value))
        return;
      out.add({"rules", rule, "values", index},
              "expected a string, number or boolean, got " + render(value));
      return;
    case operand_kind::number:
      if (finite_number(value))
        return;
      out.add({"rules", rule, "values", index},
              "op " + std::string{op.name} + " compares numbers, got "
                + render(value));
      return;
    case operand_kind::version: {
      // A number is refused rather than rendered: YAML reads 2.10 as the
      // number 2.1, which would silently be another version.
      if (!value.is_string()) {
        out.add({"rules", rule, "values", index},
                "op " + std::string{op.name}
                  + " compares versions: expected a quoted string such as "
                    "\"2.1.0\", got "
                  + render(value));
        return;
      }
      std::string error;
      if (!semver::parse(value.get_ref<const std::string&>(), &error))
        out.add({"rules", rule, "values", index}, std::move(error));
      return;
    }
  }
}

void check_rule(const json& rule, std::size_t i, const json* variants,
                problems& out) {
  if (!rule.is_object()) {
    out.add({"rules", i}, "expected a rule {attribute, op, values}, got "
                            + render(rule));
    return;
  }
  rule_fields fields{rule};
  if (fields.unknown)
    for (auto& item : rule.items())
      if (!known(rule_field_names, item.key()))
        out.add({"rules", i, item.key()},
                "unknown field; a rule has "
                  + joined(rule_field_names,
                           [](std::string_view x) { return std::string{x}; }));
  auto attribute = fields.attribute;
  if (attribute == nullptr)
    out.add({"rules", i, "attribute"},
            "missing; a rule needs the name of a context attribute");
  else if (!nonempty_string(*attribute))
    out.add({"rules", i, "attribute"},
            "expected the name of a context attribute, got "
              + render(*attribute));
  const flag_op_info* op = nullptr;
  auto op_value = fields.op;
  if (op_value == nullptr)
    out.add({"rules", i, "op"}, "missing; expected one of " + op_names());
  else if (!op_value->is_string())
    out.add({"rules", i, "op"},
            "expected one of " + op_names() + ", got " + render(*op_value));
  else if (op = find_flag_op(op_value->get_ref<const std::string&>());
           op == nullptr)
    out.add({"rules", i, "op"}, "unknown op " + render(*op_value)
                                  + "; expected one of " + op_names());
  auto values = fields.values;
  if (values == nullptr) {
    out.add({"rules", i, "values"}, "missing; a rule needs a list of values");
  } else if (!values->is_array() || values->empty()) {
    out.add({"rules", i, "values"},
            "expected a non-empty list of values, got " + render(*values));
  } else if (op != nullptr) {
    if (op->single && values->size() != 1)
      out.add({"rules", i, "values"},
              "op " + std::string{op->name} + " takes exactly one value, got "
                + std::to_string(values->size()));
    for (std::size_t j = 0; j < values->size(); ++j)
      check_value(*op, (*values)[j], out, i, j);
  }
  auto enabled = fields.enabled;
  if (enabled != nullptr && !enabled->is_boolean())
    out.add({"rules", i, "enabled"},
            "expected true or false, got " + render(*enabled));
  if (auto variant = fields.variant) {
    if (enabled != nullptr && enabled->is_boolean() && !enabled->get<bool>())
      out.add({"rules", i, "variant"},
              "a rule that turns the flag off cannot pick a variant");
    else
      check_variant_name(*variant, variants, out, {"rules", i, "variant"});
  }
}

// `values` gives each variant the value OFREP answers with. An entry for a
// variant the flag does not declare could never be served: a typo there
// would silently hand out the code default instead.
void check_values(const json* values, const json* declared,
                  const json* variants, problems& out) {
  if (values == nullptr)
    return;
  if (!values->is_object()) {
    out.add({"values"}, "expected an object {variant: value}, got "
                          + render(*values));
    return;
  }
  if (declared == nullptr) {
    if (!values->empty())
      out.add({"values"}, "a flag with values needs variants to pick them");
    return;
  }
  // Broken variants were reported already; naming them again adds nothing.
  if (variants == nullptr)
    return;
  for (auto& item : values->items())
    if (!variants->contains(item.key()))
      out.add({"values", item.key()},
              "not a variant of this flag; the variants are "
                + joined(variants->items(),
                         [](const auto& x) { return x.key(); }));
}

void check_object(const json& flag, const flag_fields& fields,
                  problems& out) {
  if (fields.unknown)
    for (auto& item : flag.items())
      if (!known(flag_field_names, item.key()))
        out.add({item.key()},
                "unknown field; a flag has "
                  + joined(flag_field_names,
                           [](std::string_view x) { return std::string{x}; }));
  if (auto enabled = fields.enabled; enabled && !enabled->is_boolean())
    out.add({"enabled"}, "expected true or false, got " + render(*enabled));
  if (auto rollout = fields.rollout) {
    if (!finite_number(*rollout) || rollout->get<double>() < 0
        || rollout->get<double>() > 100)
      out.add({"rollout"},
              "expected a number 0..100 (percent), got " + render(*rollout));
  }
  if (auto key = fields.key; key && !nonempty_string(*key))
    out.add({"key"},
            "expected the name of a context attribute, got " + render(*key));
  if (auto text = fields.description; text && !text->is_string())
    out.add({"description"}, "expected a string, got " + render(*text));
  auto variants = check_variants(fields.variants, out);
  if (auto name = fields.default_variant)
    check_variant_name(*name, variants, out, {"default_variant"});
  check_values(fields.values, fields.variants, variants, out);
  if (auto rules = fields.rules) {
    if (!rules->is_array()) {
      out.add({"rules"}, "expected a list of rules, got " + render(*rules));
      return;
    }
    for (std::size_t i = 0; i < rules->size(); ++i)
      check_rule((*rules)[i], i, variants, out);
  }
}

// Looks `name` up once: counts the key when present (null or not), and
// returns it unless null.
const json* take(const json& object, std::string_view name,
                 std::size_t& present) {
  auto it = object.find(name);
  if (it == object.end())
    return nullptr;
  ++present;
  return it->is_null() ? nullptr : &*it;
}

} // namespace

flag_fields::flag_fields(const json& flag) {
  std::size_t present = 0;
  enabled = take(flag, "enabled", present);
  rollout = take(flag, "rollout", present);
  key = take(flag, "key", present);
  rules = take(flag, "rules", present);
  variants = take(flag, "variants", present);
  default_variant = take(flag, "default_variant", present);
  description = take(flag, "description", present);
  values = take(flag, "values", present);
  unknown = present != flag.size();
}

rule_fields::rule_fields(const json& rule) {
  std::size_t present = 0;
  attribute = take(rule, "attribute", present);
  op = take(rule, "op", present);
  values = take(rule, "values", present);
  enabled = take(rule, "enabled", present);
  variant = take(rule, "variant", present);
  unknown = present != rule.size();
}

// Values end up in messages and logs; a whole subtree there would drown the
// actual problem. `replace`: a message must not throw on invalid UTF-8.
std::string render(const json& value) {
  constexpr std::size_t max_rendered_value = 64;
  auto text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > max_rendered_value) {
    text.resize(max_rendered_value);
    text += "...";
  }
  return text;
}

void check_features_type(const json& features, validation_errors& out) {
  if (!features.is_object() && !features.is_null())
    out.push_back({"features", "flag",
                   "expected an object of flags, got " + render(features)});
}

const flag_op_info* find_flag_op(std::string_view name) noexcept {
  for (auto& op : ops)
    if (op.name == name)
      return &op;
  return nullptr;
}

bool check_flag(std::string_view name, const json& flag,
                validation_errors& out, bool first_only) {
  problems found{name, out, first_only};
  if (flag.is_null() || flag.is_boolean())
    return true;
  if (!flag.is_object())
    found.add({}, "expected true, false or an object {enabled, rollout, key, "
                  "rules, variants, default_variant}, got "
                    + render(flag));
  else
    check_object(flag, flag_fields{flag}, found);
  return found.count() == 0;
}

bool check_object_flag(std::string_view name, const json& flag,
                       const flag_fields& fields, validation_errors& out,
                       bool first_only) {
  problems found{name, out, first_only};
  check_object(flag, fields, found);
  return found.count() == 0;
}

} // namespace cfgactors::detail

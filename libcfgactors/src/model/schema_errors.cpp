// Translating valijson's results into validation errors: classifying its
// messages by keyword, keeping leaves over aggregates, naming paths.
#include "model/schema_errors.hpp"

#include <algorithm>
#include <cstdint>
#include <iterator>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <valijson/validation_results.hpp>

#include "cfgactors/path.hpp"
#include "model/schema_location.hpp"
#include "model/schema_subschemas.hpp"

namespace cfgactors::detail {

namespace {

bool is_prefix(const schema_context& prefix, const schema_context& of) {
  return prefix.size() <= of.size()
         && std::equal(prefix.begin(), prefix.end(), of.begin());
}

bool starts_with(const std::string& text, const char* prefix) {
  return text.rfind(prefix, 0) == 0;
}

// Text between `prefix` and `suffix` when `text` has that shape.
std::optional<std::string> between(const std::string& text, const char* prefix,
                                   const char* suffix) {
  std::string_view p{prefix};
  std::string_view s{suffix};
  if (text.size() < p.size() + s.size() || !starts_with(text, prefix)
      || text.compare(text.size() - s.size(), s.size(), s) != 0)
    return std::nullopt;
  return text.substr(p.size(), text.size() - p.size() - s.size());
}

// valijson 1.0 reports one error per failing keyword plus one "aggregate" per
// enclosing step ("Failed to validate against schema associated with
// property name 'level'."). Users want the leaf; an aggregate only matters
// when nothing below it explains the failure.
struct raw_error {
  schema_context ctx;
  std::string description;
  const char* keyword = nullptr; // nullptr: not derivable
  bool aggregate = false;
  schema_context cover;                 // where the explaining errors live
  std::optional<std::string> key; // the missing or unexpected property
  bool suppressed = false;
};

struct leaf_pattern {
  const char* prefix;
  const char* keyword;
};

// Order matters where one prefix extends another ("less than or equal").
constexpr leaf_pattern leaf_patterns[] = {
  {"Failed to match against any enum values", "enum"},
  {"Value type not permitted by 'type' constraint", "type"},
  {"Failed to match expected value set by 'const'", "const"},
  {"Failed to any values against subschema in 'contains'", "contains"},
  {"String should be a valid", "format"},
  {"Array contains more items than allowed", "items"},
  {"Cannot validate item #", "additionalItems"},
  {"Expected number less than or equal to", "maximum"},
  {"Expected number less than", "exclusiveMaximum"},
  {"Expected number greater than or equal to", "minimum"},
  {"Expected number greater than", "exclusiveMinimum"},
  {"Array should contain no more than", "maxItems"},
  {"Array should contain no fewer than", "minItems"},
  {"String should be no more than", "maxLength"},
  {"String should be no fewer than", "minLength"},
  {"Object should have no more than", "maxProperties"},
  {"Object should have no fewer than", "minProperties"},
  {"Value should be a multiple of", "multipleOf"},
  {"Value could not be converted", "multipleOf"},
  {"Target should not validate against schema specified in 'not'", "not"},
  {"Failed to validate against exactly one child schema", "oneOf"},
  {"Failed to match regex specified by 'pattern'", "pattern"},
  {"Object contains a property that could not be validated",
   "additionalProperties"},
  {"Missing required property", "required"},
  {"Missing dependency", "dependencies"},
  {"Elements at indexes #", "uniqueItems"},
};

raw_error classify(const valijson::ValidationResults::Error& e) {
  raw_error r;
  r.ctx = strip_context(e.context);
  r.description = e.description;
  r.cover = r.ctx;
  auto& d = r.description;
  auto aggregate = [&](const char* keyword) {
    r.aggregate = true;
    r.keyword = keyword;
  };
  if (auto name = between(d, "Failed to validate against schema associated "
                             "with property name '",
                          "'.")) {
    aggregate("properties");
    r.cover.push_back(*name);
  } else if (starts_with(d, "Failed to validate item #")) {
    // "... #3 in array." and "... #3 against additional items schema." name
    // a child of the array; "... against corresponding item schema." is
    // already reported at the item itself.
    aggregate("items");
    auto digits = d.substr(std::string_view{"Failed to validate item #"}
                             .size());
    auto n = digits.substr(0, digits.find(' '));
    if (d.find("additional items") != std::string::npos)
      r.keyword = "additionalItems";
    if (d.find("corresponding item schema") == std::string::npos
        && as_index(n))
      r.cover.push_back(n);
  } else if (starts_with(d, "Failed to validate against schema associated "
                            "with pattern")) {
    aggregate("patternProperties");
  } else if (starts_with(d, "Failed to validate against additional "
                            "properties schema")) {
    aggregate("additionalProperties");
  } else if (starts_with(d, "Failed to validate against child schema #")) {
    aggregate(nullptr); // allOf, anyOf or oneOf: valijson does not say
  } else if (starts_with(d, "Failed to validate against any schemas allowed "
                            "by anyOf")) {
    aggregate("anyOf");
  } else if (starts_with(d, "Failed to validate against any child schemas "
                            "allowed by oneOf")) {
    aggregate("oneOf");
  } else if (starts_with(d, "Failed to validate against a conditional")) {
    aggregate("if");
  } else if (starts_with(d, "Failed to validate against dependent schema")) {
    aggregate("dependencies");
  } else {
    for (auto& p : leaf_patterns) {
      if (starts_with(d, p.prefix)) {
        r.keyword = p.keyword;
        break;
      }
    }
    // Name the missing or unexpected property in the path, since that is
    // the value the user has to add or remove.
    if (auto name = between(d, "Missing required property '", "'."))
      r.key = std::move(name);
    else if (auto pos = d.find("constraints: '"); r.keyword != nullptr
             && std::string_view{r.keyword} == "additionalProperties"
             && pos != std::string::npos && d.size() >= 2
             && d.compare(d.size() - 2, 2, "'.") == 0) {
      auto first = pos + std::string_view{"constraints: '"}.size();
      r.key = d.substr(first, d.size() - 2 - first);
    }
  }
  return r;
}

// In a failed anyOf/oneOf, a branch that accepted the value's type and failed
// deeper ("rollout" > 100) explains the failure; the other branches' "wrong
// type" at the same spot is noise. valijson emits a failed anyOf as one
// contiguous run of errors followed by its own message.
void suppress_branch_type_noise(std::vector<raw_error>& errors) {
  for (std::size_t i = 0; i < errors.size(); ++i) {
    auto& alt = errors[i];
    if (!alt.aggregate || alt.keyword == nullptr
        || (std::string_view{alt.keyword} != "anyOf"
            && std::string_view{alt.keyword} != "oneOf"))
      continue;
    auto first = i;
    while (first > 0 && is_prefix(alt.ctx, errors[first - 1].ctx))
      --first;
    bool deeper = false;
    for (auto j = first; j < i; ++j)
      deeper = deeper
               || (!errors[j].aggregate
                   && errors[j].ctx.size() > alt.ctx.size());
    if (!deeper)
      continue;
    for (auto j = first; j < i; ++j) {
      auto& e = errors[j];
      if (!e.aggregate && e.keyword != nullptr
          && std::string_view{e.keyword} == "type" && e.ctx == alt.ctx)
        e.suppressed = true;
    }
  }
}

// A value in a message, cut short: it may be large.
std::string shown(const json& value) {
  auto text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 64)
    text = text.substr(0, 61) + "...";
  return text;
}

// valijson prints numeric bounds with std::to_string ("100.000000"). The
// number as the schema writes it is among the subschemas that apply at the
// error's path: the one that prints the same (`100`, `0.5`, `1e-07`).
std::string exact_bound(const std::string& message, std::string_view keyword,
                        const json& schema, const config_path& at) {
  static constexpr const char* numeric[] = {
    "minimum", "maximum", "exclusiveMinimum", "exclusiveMaximum",
    "multipleOf"};
  if (std::find(std::begin(numeric), std::end(numeric), keyword)
      == std::end(numeric))
    return message;
  auto space = message.rfind(' ');
  if (space == std::string::npos)
    return message;
  auto printed = message.substr(space + 1);
  std::optional<std::string> exact;
  for (auto sub : subschemas_at(schema, at)) {
    for (auto key : numeric) {
      auto i = sub->find(key);
      if (i == sub->end() || !i->is_number())
        continue;
      auto candidate = i->is_number_float()
                         ? std::to_string(i->get<double>())
                         : std::to_string(i->get<std::int64_t>());
      if (candidate == printed || std::to_string(i->get<double>()) == printed)
        exact = i->dump();
    }
  }
  if (!exact) {
    // Not found (it should be): at least not "100.000000".
    exact = printed;
    if (exact->find('.') != std::string::npos) {
      exact->erase(exact->find_last_not_of('0') + 1);
      if (exact->back() == '.')
        exact->pop_back();
    }
  }
  return message.substr(0, space + 1) + *exact;
}

// "(allowed: "A", "B")" for the enum at `at`, when one enum applies there.
std::string allowed_values(const json& schema, const config_path& at) {
  const json* found = nullptr;
  for (auto sub : subschemas_at(schema, at)) {
    auto i = sub->find("enum");
    if (i == sub->end() || !i->is_array())
      continue;
    if (found != nullptr && *found != *i)
      return ""; // several enums (anyOf branches): no single answer
    found = &*i;
  }
  if (found == nullptr)
    return "";
  constexpr std::size_t max_listed = 20;
  std::string text = " (allowed: ";
  for (std::size_t n = 0; n < found->size() && n < max_listed; ++n)
    text += (n > 0 ? ", " : "") + shown((*found)[n]);
  if (found->size() > max_listed)
    text += ", and " + std::to_string(found->size() - max_listed) + " more";
  return text + ")";
}

} // namespace

void translate_errors(const valijson::ValidationResults& results,
                      const json& candidate, const json& schema,
                      validation_errors& out) {
  std::vector<raw_error> errors;
  for (auto& e : results)
    errors.push_back(classify(e));
  suppress_branch_type_noise(errors);
  // valijson reports children before the aggregate that encloses them, so
  // one forward pass knows whether an aggregate is already explained.
  std::set<schema_context> explained;
  std::set<std::tuple<std::string, std::string, std::string>> seen;
  for (auto& e : errors) {
    if (e.aggregate && explained.count(e.cover) > 0)
      continue;
    // An aggregate that nothing explains stands for its child, e.g. a
    // property whose schema failed without a message of its own.
    auto full = e.aggregate ? e.cover : e.ctx;
    if (e.key)
      full.push_back(*e.key);
    for (auto n = full.size() + 1; n-- > 0;)
      explained.emplace(full.begin(), full.begin() + n);
    // Suppressed noise still explains the aggregates around it.
    if (e.suppressed)
      continue;
    auto path = to_path(candidate, e.aggregate ? e.cover : e.ctx,
                        e.key ? &*e.key : nullptr)
                  .str();
    std::string rule = "schema";
    if (e.keyword != nullptr)
      rule = rule + "." + e.keyword;
    if (!seen.emplace(path, rule, e.description).second)
      continue;
    // valijson rarely says what it got; the offending value makes the
    // message actionable (cut short: it may be large).
    auto message = e.description;
    auto parsed = config_path::parse(path);
    auto value = parsed && rule != "schema.required" && !e.key
                   ? find(candidate, *parsed)
                   : nullptr;
    if (parsed && e.keyword != nullptr && !e.aggregate)
      message = exact_bound(message, e.keyword, schema, *parsed);
    if (value != nullptr && !value->is_object() && !value->is_array()) {
      if (!message.empty() && message.back() == '.')
        message.pop_back();
      message += ", got " + shown(*value);
    }
    if (parsed && rule == "schema.enum")
      message += allowed_values(schema, *parsed);
    out.push_back({std::move(path), std::move(rule), std::move(message)});
  }
}

} // namespace cfgactors::detail

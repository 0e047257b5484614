// OFREP answers over feature_flags::evaluate: the context mapping, the
// reason and value of a result, and the protocol's error bodies. All the
// deciding is the evaluator's; this file only translates.
#include "cfgactors/ofrep.hpp"

#include <cmath>
#include <utility>

#include "cfgactors/parse.hpp"

#include "flags/flag_check.hpp"

namespace cfgactors {

namespace {

constexpr int http_ok = 200;
constexpr int http_bad_request = 400;
constexpr int http_not_found = 404;
constexpr int http_internal_error = 500;

json failure(std::string_view key, const char* code, std::string details) {
  return json{{"key", key}, {"errorCode", code}, {"errorDetails", details}};
}

ofrep_answer fail(int status, std::string_view key, const char* code,
                  std::string details) {
  return ofrep_answer{status, failure(key, code, std::move(details)), {}};
}

const char* type_name(const json& value) {
  return value.type_name();
}

// The attribute the flag hashes for rollouts and variants.
std::string_view key_attribute(const json& flag) {
  if (!flag.is_object())
    return detail::default_key;
  auto key = detail::field(flag, "key");
  if (key == nullptr || !key->is_string())
    return detail::default_key;
  auto& name = key->get_ref<const std::string&>();
  return name.empty() ? detail::default_key : std::string_view{name};
}

// The context as flag attributes, with `targetingKey` standing in for the
// flag's key attribute. Only called on contexts ofrep_context_problem
// accepted.
flag_context to_flag_context(const json& context, std::string_view key_attr) {
  flag_context ctx;
  if (!context.is_object())
    return ctx;
  for (auto& [name, value] : context.items()) {
    if (value.is_string())
      ctx.set(name, value.get<std::string>());
    else if (value.is_boolean())
      ctx.set(name, value.get<bool>() ? "true" : "false");
    else
      ctx.set(name, value.dump());
  }
  if (ctx.find(key_attr) == nullptr)
    if (auto tk = ctx.find("targetingKey"))
      ctx.set(std::string{key_attr}, *tk);
  return ctx;
}

// Variants with a weight above 0: more than one means the key decides.
std::size_t weighted_variants(const json& flag) {
  std::size_t n = 0;
  if (auto variants = detail::field(flag, "variants"))
    for (auto& weight : *variants)
      if (weight.is_number() && weight.get<double>() > 0)
        ++n;
  return n;
}

// 25 as "25", 12.5 as "12.5".
std::string percent(double x) {
  if (x == std::floor(x))
    return std::to_string(static_cast<long long>(x));
  return json(x).dump();
}

double rollout_of(const json& flag) {
  if (auto rollout = detail::field(flag, "rollout"); rollout
                                                     && rollout->is_number())
    return rollout->get<double>();
  return 100;
}

// Whether the variant of `result` came from weighing the variants (and not
// from a rule that names one, or from the default variant).
bool weighed(const json& flag, const flag_result& result) {
  if (!flag.is_object() || !result.enabled || weighted_variants(flag) == 0)
    return false;
  if (result.rule) {
    auto rules = detail::field(flag, "rules");
    auto& rule = (*rules)[*result.rule];
    return detail::field(rule, "variant") == nullptr;
  }
  return true;
}

// The value OFREP answers with, or null for "the code default".
json value_of(const json& flag, const flag_result& result) {
  if (!flag.is_object())
    return result.enabled;
  if (auto values = detail::field(flag, "values")) {
    if (result.variant.empty())
      return nullptr;
    auto it = values->find(result.variant);
    return it == values->end() ? json{} : *it;
  }
  if (detail::field(flag, "variants") != nullptr)
    return result.variant.empty() ? json{} : json(result.variant);
  return result.enabled;
}

json metadata_of(const json& flag, const flag_result& result) {
  // Flat, scalar values only: OpenFeature's flag metadata holds no more.
  json meta{{"cfgactors_reason", result.reason}};
  if (result.rule)
    meta["rule"] = *result.rule;
  if (flag.is_object())
    if (auto text = detail::field(flag, "description"); text
                                                        && text->is_string())
      meta["description"] = *text;
  return meta;
}

} // namespace

std::string ofrep_reason(const json& flag, const flag_result& result) {
  if (flag.is_boolean())
    return "STATIC";
  if (result.reason == "disabled")
    return "DISABLED";
  if (result.rule)
    return "TARGETING_MATCH";
  if (result.reason == "rollout:in" || result.reason == "rollout:out") {
    auto rollout = rollout_of(flag);
    if (rollout > 0 && rollout < 100)
      return "SPLIT";
    return "DEFAULT";
  }
  if (weighed(flag, result) && weighted_variants(flag) > 1)
    return "SPLIT";
  return "DEFAULT";
}

std::optional<std::string> ofrep_context_problem(const json& context) {
  if (context.is_null())
    return std::nullopt;
  if (!context.is_object())
    return std::string{"the context must be an object of attributes, got "}
           + type_name(context);
  for (auto& [name, value] : context.items()) {
    if (name == "targetingKey" && !value.is_string())
      return std::string{"attribute 'targetingKey' must be a string, got "}
             + type_name(value);
    if (value.is_string() || value.is_boolean())
      continue;
    if (value.is_number() && std::isfinite(value.get<double>()))
      continue;
    return "attribute '" + name + "' must be a string, number or boolean, "
           + "got " + type_name(value);
  }
  return std::nullopt;
}

namespace {

// ofrep_evaluate on a context ofrep_context_problem accepted.
ofrep_answer evaluate_checked(const feature_flags& flags, std::string_view key,
                              const json& context) {
  auto& view = flags.view();
  view_value flag;
  if (!key.empty())
    flag = view.find_keys({"features", key});
  if (!flag || flag->is_null()) {
    auto type = view.type_at({"features"});
    if (type == json::value_t::null || type == json::value_t::object)
      return fail(http_not_found, key, "FLAG_NOT_FOUND",
                  "no flag '" + std::string{key} + "' under features");
  }
  static const json absent;
  auto& raw = flag ? *flag : absent;
  auto key_attr = key_attribute(raw);
  auto ctx = to_flag_context(context, key_attr);
  auto result = flags.evaluate(key, ctx);
  if (result.malformed())
    return fail(http_bad_request, key, "PARSE_ERROR",
                "the flag's configuration is malformed: "
                  + result.reason.substr(10));
  if (result.reason.compare(0, 6, "error:") == 0)
    return fail(http_internal_error, key, "GENERAL", result.reason);
  auto key_value = ctx.find(key_attr);
  bool no_key = key_value == nullptr || key_value->empty();
  if (result.reason.compare(0, 12, "missing_key:") == 0
      || (no_key && weighed(raw, result) && weighted_variants(raw) > 1)) {
    auto what = result.reason.compare(0, 12, "missing_key:") == 0
                  ? "a rollout of " + percent(rollout_of(raw)) + "%"
                  : std::string{"variants to weigh"};
    auto answer = fail(http_bad_request, key, "TARGETING_KEY_MISSING",
                       "flag '" + std::string{key} + "' has " + what
                         + " and the context has neither targetingKey nor '"
                         + std::string{key_attr} + "'");
    answer.result = std::move(result);
    return answer;
  }
  json body{{"key", key}, {"reason", ofrep_reason(raw, result)}};
  if (!result.variant.empty())
    body["variant"] = result.variant;
  if (auto value = value_of(raw, result); !value.is_null())
    body["value"] = std::move(value);
  body["metadata"] = metadata_of(raw, result);
  return ofrep_answer{http_ok, std::move(body), std::move(result)};
}

} // namespace

ofrep_answer ofrep_evaluate(const feature_flags& flags, std::string_view key,
                            const json& context) {
  if (auto problem = ofrep_context_problem(context))
    return fail(http_bad_request, key, "INVALID_CONTEXT", std::move(*problem));
  return evaluate_checked(flags, key, context);
}

ofrep_answer ofrep_evaluate_all(const feature_flags& flags,
                                const json& context) {
  if (auto problem = ofrep_context_problem(context))
    return ofrep_answer{http_bad_request,
                        json{{"errorCode", "INVALID_CONTEXT"},
                             {"errorDetails", std::move(*problem)}},
                        {}};
  auto list = json::array();
  auto features = flags.view().find_keys({"features"});
  if (features && !features->is_null() && !features->is_object())
    return ofrep_answer{http_bad_request,
                        json{{"errorCode", "PARSE_ERROR"},
                             {"errorDetails",
                              std::string{"features must be an object of "
                                          "flags, got "}
                                + type_name(*features)}},
                        {}};
  if (features && features->is_object())
    for (auto& item : features->items())
      if (!item.value().is_null())
        list.push_back(evaluate_checked(flags, item.key(), context).body);
  return ofrep_answer{http_ok, json{{"flags", std::move(list)}}, {}};
}

std::optional<json> ofrep_request_context(std::string_view body,
                                          std::string_view key,
                                          ofrep_answer& error) {
  auto bulk = key.empty();
  auto refuse = [&](const char* code, std::string details) {
    error = bulk ? ofrep_answer{http_bad_request,
                                json{{"errorCode", code},
                                     {"errorDetails", std::move(details)}},
                                {}}
                 : fail(http_bad_request, key, code, std::move(details));
    return std::nullopt;
  };
  // The same depth limit as every other document cfgd parses: a deeply
  // nested body must not exhaust the stack.
  auto doc = parse_document(body, document_format::json, "request body");
  if (!doc)
    return refuse("PARSE_ERROR", doc.error->str());
  if (!doc.value.is_object())
    return refuse("INVALID_CONTEXT",
                  std::string{"the request body must be an object "
                              "{\"context\": {...}}, got "}
                    + type_name(doc.value));
  auto it = doc.value.find("context");
  if (it == doc.value.end() || it->is_null())
    return json::object();
  if (!it->is_object())
    return refuse("INVALID_CONTEXT",
                  std::string{"context must be an object of attributes, got "}
                    + type_name(*it));
  return std::move(*it);
}

} // namespace cfgactors

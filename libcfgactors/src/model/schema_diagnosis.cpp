// Diagnosing a schema that does not compile: the draft 7 meta-schema locates
// what valijson refuses; a walk over the subschemas finds bad regexes and refs.
#include "model/schema_diagnosis.hpp"

#include <memory>
#include <regex>
#include <utility>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "cfgactors/path.hpp"
#include "model/schema_location.hpp"
#include "model/schema_meta.hpp"
#include "model/schema_refs.hpp"

namespace cfgactors::detail {

namespace {

using adapter = valijson::adapters::NlohmannJsonAdapter;

struct meta_schema {
  json document;
  valijson::Schema schema;
};

const meta_schema* draft7() {
  static const auto instance = []() -> std::unique_ptr<meta_schema> {
    try {
      auto result = std::make_unique<meta_schema>();
      // The embedded meta-schema, consulted only after valijson refused a
      // document, to say *where* the problem is (valijson's own messages
      // rarely do). Bundled, so its "$id" sets no scope valijson would
      // try to fetch.
      std::string error;
      if (!bundle_refs(json::parse(draft7_meta_schema_text()), {},
                       result->document, error))
        return nullptr;
      valijson::SchemaParser parser{valijson::SchemaParser::kDraft7};
      parser.populateSchema(adapter{result->document}, result->schema);
      return result;
    } catch (...) {
      return nullptr;
    }
  }();
  return instance.get();
}

// The deepest location the meta-schema objects to, if any.
std::optional<std::string> meta_schema_location(const json& document) {
  auto meta = draft7();
  if (meta == nullptr)
    return std::nullopt;
  valijson::Validator validator;
  valijson::ValidationResults results;
  if (validator.validate(meta->schema, adapter{document}, &results))
    return std::nullopt;
  std::optional<schema_context> deepest;
  for (auto& e : results) {
    auto ctx = strip_context(e.context);
    if (!deepest || ctx.size() > deepest->size())
      deepest = std::move(ctx);
  }
  if (!deepest)
    return std::nullopt;
  return to_path(document, *deepest).str();
}

struct schema_problem {
  std::string location;
  std::string message;
};

bool resolves_locally(const json& document, const std::string& ref) {
  auto fragment = percent_decode(ref.substr(1));
  if (fragment.empty() || fragment.front() != '/')
    return true; // "#" or a plain-name anchor, which valijson handles
  try {
    return document.contains(json::json_pointer{fragment});
  } catch (const std::exception&) {
    return false;
  }
}

// Walks the places where draft 7 holds subschemas, checking what valijson
// either misreports or only discovers during validation: regexes (an invalid
// one would throw from every validate()) and `$ref`s.
class schema_walker {
public:
  explicit schema_walker(const json& document) : document_(document) {
    // nop
  }

  std::optional<schema_problem> regexes() {
    check_refs_ = false;
    return walk(document_);
  }

  std::optional<schema_problem> refs() {
    check_refs_ = true;
    return walk(document_);
  }

private:
  std::optional<schema_problem> fail(std::string message) {
    return schema_problem{path_.str(), std::move(message)};
  }

  std::optional<schema_problem> check_regex(const std::string& regex) {
    try {
      std::regex compiled{regex, std::regex::ECMAScript};
      return std::nullopt;
    } catch (const std::regex_error& e) {
      return fail("invalid regex \"" + regex + "\": " + e.what());
    }
  }

  std::optional<schema_problem> child(const json& node, path_segment step) {
    path_.segments.push_back(std::move(step));
    auto result = walk(node);
    path_.segments.pop_back();
    return result;
  }

  std::optional<schema_problem> each_value(const json& node,
                                           const std::string& keyword) {
    path_.segments.emplace_back(keyword);
    std::optional<schema_problem> result;
    if (node.is_object()) {
      for (auto& [key, value] : node.items())
        if (!result)
          result = child(value, key);
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.size() && !result; ++i)
        result = child(node[i], i);
    }
    path_.segments.pop_back();
    return result;
  }

  std::optional<schema_problem> walk(const json& node) {
    if (!node.is_object())
      return std::nullopt;
    for (auto& [keyword, value] : node.items()) {
      std::optional<schema_problem> result;
      if (keyword == "$ref" && value.is_string() && check_refs_) {
        // Other references were resolved (or refused) by bundle_refs.
        auto& ref = value.get_ref<const std::string&>();
        if (!ref.empty() && ref.front() == '#'
            && !resolves_locally(document_, ref))
          result = fail("$ref \"" + ref + "\" does not resolve within "
                        "this schema");
      } else if (keyword == "pattern" && value.is_string() && !check_refs_) {
        path_.segments.emplace_back(keyword);
        result = check_regex(value.get_ref<const std::string&>());
        path_.segments.pop_back();
      } else if (keyword == "patternProperties" && value.is_object()) {
        path_.segments.emplace_back(keyword);
        for (auto& [regex, sub] : value.items()) {
          if (!check_refs_)
            result = check_regex(regex);
          if (!result)
            result = child(sub, regex);
          if (result)
            break;
        }
        path_.segments.pop_back();
      } else if (keyword == "properties" || keyword == "definitions"
                 || keyword == "$defs" || keyword == "dependencies"
                 || keyword == "items" || keyword == "allOf"
                 || keyword == "anyOf" || keyword == "oneOf") {
        result = value.is_object() && keyword == "items"
                   ? child(value, keyword)
                   : each_value(value, keyword);
      } else if (keyword == "additionalItems"
                 || keyword == "additionalProperties" || keyword == "contains"
                 || keyword == "propertyNames" || keyword == "not"
                 || keyword == "if" || keyword == "then"
                 || keyword == "else") {
        result = child(value, keyword);
      }
      if (result)
        return result;
    }
    return std::nullopt;
  }

  const json& document_;
  config_path path_;
  bool check_refs_ = false;
};

} // namespace

std::string invalid_schema(const std::optional<std::string>& location,
                           const std::string& message) {
  std::string result = "invalid JSON Schema";
  if (location)
    result += location->empty() ? " at the root" : " at \"" + *location + "\"";
  return result + ": " + message;
}

std::optional<std::string> find_invalid_regex(const json& document) {
  if (auto problem = schema_walker{document}.regexes())
    return invalid_schema(problem->location, problem->message);
  return std::nullopt;
}

std::string explain_refusal(const json& document, const std::string& what) {
  if (auto location = meta_schema_location(document))
    return invalid_schema(location, what);
  if (auto problem = schema_walker{document}.refs())
    return invalid_schema(problem->location,
                          problem->message + " (" + what + ")");
  return invalid_schema(std::nullopt, what);
}

} // namespace cfgactors::detail

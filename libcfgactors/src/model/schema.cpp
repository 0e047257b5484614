// JSON Schema (draft 7) through valijson, plus the translation of valijson's
// results into our validation_error model (dotted paths, one error per
// problem).
#include "cfgactors/schema.hpp"

#include <algorithm>
#include <cassert>
#include <charconv>
#include <memory>
#include <mutex>
#include <regex>
#include <set>
#include <stdexcept>
#include <string_view>
#include <tuple>
#include <utility>
#include <vector>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"
#include "model/schema_validity.hpp"

namespace cfgactors {

namespace {

using adapter = valijson::adapters::NlohmannJsonAdapter;

// -- describing a document location -------------------------------------------

using context = std::vector<std::string>;

// valijson names a location as {"<root>", "[logging]", "[level]"}; keys and
// indexes look alike ("[0]"), so the document itself decides which is which.
context strip_context(const std::vector<std::string>& raw) {
  context result;
  for (auto& segment : raw) {
    if (segment == "<root>")
      continue;
    if (segment.size() >= 2 && segment.front() == '['
        && segment.back() == ']')
      result.push_back(segment.substr(1, segment.size() - 2));
    else
      result.push_back(segment);
  }
  return result;
}

std::optional<std::size_t> as_index(const std::string& text) {
  std::size_t index = 0;
  auto first = text.data();
  auto last = first + text.size();
  auto [end, ec] = std::from_chars(first, last, index);
  if (text.empty() || ec != std::errc{} || end != last)
    return std::nullopt;
  return index;
}

config_path to_path(const json& root, const context& ctx,
                    const std::string* extra_key = nullptr) {
  config_path result;
  const json* node = &root;
  for (auto& segment : ctx) {
    auto index = node != nullptr && node->is_array() ? as_index(segment)
                                                     : std::nullopt;
    if (index) {
      result.segments.emplace_back(*index);
      node = *index < node->size() ? &(*node)[*index] : nullptr;
    } else {
      result.segments.emplace_back(segment);
      const json* next = nullptr;
      if (node != nullptr && node->is_object()) {
        auto i = node->find(segment);
        if (i != node->end())
          next = &*i;
      }
      node = next;
    }
  }
  if (extra_key != nullptr)
    result.segments.emplace_back(*extra_key);
  return result;
}

bool is_prefix(const context& prefix, const context& of) {
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

// -- classifying valijson's messages --------------------------------------------

// valijson 1.0 reports one error per failing keyword plus one "aggregate" per
// enclosing step ("Failed to validate against schema associated with
// property name 'level'."). Users want the leaf; an aggregate only matters
// when nothing below it explains the failure.
struct raw_error {
  context ctx;
  std::string description;
  const char* keyword = nullptr; // nullptr: not derivable
  bool aggregate = false;
  context cover;                 // where the explaining errors live
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

// -- diagnosing a schema that does not compile ----------------------------------

// The draft 7 meta-schema. Only consulted after valijson refused a document,
// to say *where* the problem is (valijson's own messages rarely do).
constexpr const char* draft7_meta_schema = R"json({
  "$id": "http://json-schema.org/draft-07/schema#",
  "definitions": {
    "schemaArray": {"type": "array", "minItems": 1, "items": {"$ref": "#"}},
    "nonNegativeInteger": {"type": "integer", "minimum": 0},
    "simpleTypes": {"enum": ["array", "boolean", "integer", "null", "number",
                             "object", "string"]},
    "stringArray": {"type": "array", "items": {"type": "string"},
                    "uniqueItems": true}
  },
  "type": ["object", "boolean"],
  "properties": {
    "$id": {"type": "string"},
    "$schema": {"type": "string"},
    "$ref": {"type": "string"},
    "$comment": {"type": "string"},
    "title": {"type": "string"},
    "description": {"type": "string"},
    "readOnly": {"type": "boolean"},
    "examples": {"type": "array"},
    "multipleOf": {"type": "number", "exclusiveMinimum": 0},
    "maximum": {"type": "number"},
    "exclusiveMaximum": {"type": "number"},
    "minimum": {"type": "number"},
    "exclusiveMinimum": {"type": "number"},
    "maxLength": {"$ref": "#/definitions/nonNegativeInteger"},
    "minLength": {"$ref": "#/definitions/nonNegativeInteger"},
    "pattern": {"type": "string"},
    "additionalItems": {"$ref": "#"},
    "items": {"anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/schemaArray"}]},
    "maxItems": {"$ref": "#/definitions/nonNegativeInteger"},
    "minItems": {"$ref": "#/definitions/nonNegativeInteger"},
    "uniqueItems": {"type": "boolean"},
    "contains": {"$ref": "#"},
    "maxProperties": {"$ref": "#/definitions/nonNegativeInteger"},
    "minProperties": {"$ref": "#/definitions/nonNegativeInteger"},
    "required": {"$ref": "#/definitions/stringArray"},
    "additionalProperties": {"$ref": "#"},
    "definitions": {"type": "object", "additionalProperties": {"$ref": "#"}},
    "properties": {"type": "object", "additionalProperties": {"$ref": "#"}},
    "patternProperties": {"type": "object",
                          "additionalProperties": {"$ref": "#"}},
    "dependencies": {"type": "object", "additionalProperties": {
      "anyOf": [{"$ref": "#"}, {"$ref": "#/definitions/stringArray"}]}},
    "propertyNames": {"$ref": "#"},
    "enum": {"type": "array"},
    "type": {"anyOf": [
      {"$ref": "#/definitions/simpleTypes"},
      {"type": "array", "items": {"$ref": "#/definitions/simpleTypes"},
       "minItems": 1, "uniqueItems": true}]},
    "format": {"type": "string"},
    "contentMediaType": {"type": "string"},
    "contentEncoding": {"type": "string"},
    "if": {"$ref": "#"},
    "then": {"$ref": "#"},
    "else": {"$ref": "#"},
    "allOf": {"$ref": "#/definitions/schemaArray"},
    "anyOf": {"$ref": "#/definitions/schemaArray"},
    "oneOf": {"$ref": "#/definitions/schemaArray"},
    "not": {"$ref": "#"}
  }
})json";

struct meta_schema {
  json document;
  valijson::Schema schema;
};

const meta_schema* draft7() {
  static const auto instance = []() -> std::unique_ptr<meta_schema> {
    try {
      auto result = std::make_unique<meta_schema>();
      result->document = json::parse(draft7_meta_schema);
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
  std::optional<context> deepest;
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

std::string percent_decode(const std::string& text) {
  std::string result;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] == '%' && i + 2 < text.size()) {
      int value = 0;
      auto [end, ec] = std::from_chars(text.data() + i + 1,
                                       text.data() + i + 3, value, 16);
      if (ec == std::errc{} && end == text.data() + i + 3) {
        result += static_cast<char>(value);
        i += 2;
        continue;
      }
    }
    result += text[i];
  }
  return result;
}

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
        auto& ref = value.get_ref<const std::string&>();
        if (ref.empty() || ref.front() != '#')
          result = fail("$ref \"" + ref + "\" points outside this schema; "
                        "remote references are not fetched");
        else if (!resolves_locally(document_, ref))
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

std::string describe(const std::optional<std::string>& location,
                     const std::string& message) {
  std::string result = "invalid JSON Schema";
  if (location)
    result += location->empty() ? " at the root" : " at \"" + *location + "\"";
  return result + ": " + message;
}

} // namespace

// -- json_schema ----------------------------------------------------------------

struct json_schema::impl {
  json document;
  valijson::Schema schema;

  /// What one validate() call works with. A Validator caches compiled
  /// regexes, so neither part may be shared between concurrent calls, and
  /// compiling a regex per call dominated validation time: callers borrow
  /// one from this pool and give it back.
  struct checker {
    detail::validity_check fast;
    valijson::Validator full;
  };
  std::mutex pool_mtx;
  std::vector<std::unique_ptr<checker>> pool;

  std::unique_ptr<checker> borrow() {
    std::lock_guard<std::mutex> guard{pool_mtx};
    if (pool.empty())
      return std::make_unique<checker>();
    auto result = std::move(pool.back());
    pool.pop_back();
    return result;
  }

  void give_back(std::unique_ptr<checker> x) {
    std::lock_guard<std::mutex> guard{pool_mtx};
    pool.push_back(std::move(x));
  }
};

json_schema::json_schema(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

json_schema::~json_schema() {
  // nop
}

std::shared_ptr<const json_schema>
json_schema::compile(const json& document, std::string* error) {
  auto set_error = [&](std::string text) {
    if (error != nullptr)
      *error = std::move(text);
    return nullptr;
  };
  try {
    auto ptr = std::make_unique<impl>();
    ptr->document = document;
    if (auto problem = schema_walker{ptr->document}.regexes())
      return set_error(describe(problem->location, problem->message));
    try {
      // No fetch functions: a remote $ref makes valijson throw instead of
      // reaching out to the network from configuration code.
      valijson::SchemaParser parser{valijson::SchemaParser::kDraft7};
      parser.populateSchema(adapter{ptr->document}, ptr->schema);
    } catch (const std::exception& e) {
      if (auto location = meta_schema_location(ptr->document))
        return set_error(describe(location, e.what()));
      if (auto problem = schema_walker{ptr->document}.refs())
        return set_error(describe(problem->location, problem->message + " ("
                                                       + e.what() + ")"));
      return set_error(describe(std::nullopt, e.what()));
    }
    return std::shared_ptr<const json_schema>{new json_schema(std::move(ptr))};
  } catch (const std::exception& e) {
    return set_error(describe(std::nullopt, e.what()));
  } catch (...) {
    return set_error(describe(std::nullopt, "unknown error"));
  }
}

std::shared_ptr<const json_schema>
json_schema::from_file(const std::string& path, std::string* error) {
  auto parsed = parse_file(path);
  if (!parsed) {
    if (error != nullptr)
      *error = parsed.error->str();
    return nullptr;
  }
  std::string compile_error;
  auto result = compile(parsed.value, &compile_error);
  if (!result && error != nullptr)
    *error = path + ": " + compile_error;
  return result;
}

void json_schema::validate(const json& candidate,
                           validation_errors& out) const {
  valijson::ValidationResults results;
  try {
    auto checker = impl_->borrow();
    // Most candidates are valid: prove that without valijson's per-property
    // error contexts, and collect errors only for the others.
    auto proven = false;
    try {
      proven = checker->fast.proves_valid(impl_->schema, candidate);
    } catch (const std::exception&) {
      // e.g. a regex too complex for std::regex: the full pass reports it
    }
#ifndef NDEBUG
    // Debug builds (the test suites) hold the fast path to its promise.
    if (proven) {
      checker->full.validate(impl_->schema, adapter{candidate}, &results);
      assert(results.numErrors() == 0);
    }
#endif
    if (!proven)
      checker->full.validate(impl_->schema, adapter{candidate}, &results);
    impl_->give_back(std::move(checker));
    if (proven)
      return;
  } catch (const std::exception& e) {
    out.push_back({"", "schema",
                   std::string{"schema validation failed: "} + e.what()});
    return;
  }
  std::vector<raw_error> errors;
  for (auto& e : results)
    errors.push_back(classify(e));
  suppress_branch_type_noise(errors);
  // valijson reports children before the aggregate that encloses them, so
  // one forward pass knows whether an aggregate is already explained.
  std::set<context> explained;
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
    if (value != nullptr && !value->is_object() && !value->is_array()) {
      auto text = value->dump(-1, ' ', false, json::error_handler_t::replace);
      if (text.size() > 64)
        text = text.substr(0, 61) + "...";
      if (!message.empty() && message.back() == '.')
        message.pop_back();
      message += ", got " + text;
    }
    out.push_back({std::move(path), std::move(rule), std::move(message)});
  }
}

const json& json_schema::document() const noexcept {
  return impl_->document;
}

std::vector<std::string> json_schema::types_at(const config_path& path) const {
  auto& root = impl_->document;
  // Follows local `$ref`s (siblings of a `$ref` do not apply in draft 7);
  // the hop limit stops a cycle of references.
  auto resolve = [&root](const json* node) -> const json* {
    for (int hops = 0; node != nullptr && node->is_object() && hops < 32;
         ++hops) {
      auto ref = node->find("$ref");
      if (ref == node->end() || !ref->is_string())
        return node;
      auto& text = ref->get_ref<const std::string&>();
      if (text.empty() || text.front() != '#')
        return nullptr;
      try {
        json::json_pointer ptr{percent_decode(text.substr(1))};
        node = root.contains(ptr) ? &root.at(ptr) : nullptr;
      } catch (const std::exception&) {
        return nullptr;
      }
    }
    return node != nullptr && node->is_object() ? node : nullptr;
  };
  auto member = [](const json* node, const char* keyword) -> const json* {
    auto i = node->find(keyword);
    return i != node->end() ? &*i : nullptr;
  };
  auto node = resolve(&root);
  for (auto& seg : path.segments) {
    if (node == nullptr)
      return {};
    const json* next = nullptr;
    if (auto key = std::get_if<std::string>(&seg)) {
      auto props = member(node, "properties");
      if (props != nullptr && props->is_object() && props->contains(*key))
        next = &props->at(*key);
      auto patterns = member(node, "patternProperties");
      if (next == nullptr && patterns != nullptr && patterns->is_object()) {
        for (auto& [regex, sub] : patterns->items()) {
          try {
            if (std::regex_search(*key, std::regex{regex}))
              next = &sub;
          } catch (const std::regex_error&) {
            // compile() refuses such schemas; nothing to declare here
          }
          if (next != nullptr)
            break;
        }
      }
      if (next == nullptr)
        next = member(node, "additionalProperties");
    } else {
      auto index = std::get<std::size_t>(seg);
      auto items = member(node, "items");
      if (items != nullptr && items->is_array())
        next = index < items->size() ? &(*items)[index]
                                     : member(node, "additionalItems");
      else
        next = items;
    }
    node = resolve(next);
  }
  if (node == nullptr)
    return {};
  std::vector<std::string> result;
  if (auto type = member(node, "type")) {
    if (type->is_string())
      result.push_back(type->get<std::string>());
    else if (type->is_array())
      for (auto& x : *type)
        if (x.is_string())
          result.push_back(x.get<std::string>());
  }
  return result;
}

} // namespace cfgactors

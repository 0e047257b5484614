// Walks a candidate along the schema (over-approximating: every branch of
// anyOf/oneOf/if, every patternProperties entry) to find the strings a regex
// would be run on, and refuses those too long for std::regex; likewise
// arrays too long for uniqueItems.
#include "model/schema_guard.hpp"

#include <set>
#include <string>
#include <utility>

#include "cfgactors/path.hpp"
#include "model/schema_location.hpp"

namespace cfgactors::detail {

namespace {

bool regex_format(const json& schema) {
  auto i = schema.find("format");
  if (i == schema.end() || !i->is_string())
    return false;
  auto& f = i->get_ref<const std::string&>();
  return f == "date" || f == "time" || f == "date-time";
}

class guard {
public:
  explicit guard(const json& root) : root_(root) {
    // nop
  }

  std::optional<validation_error> walk(const json& schema, const json& value) {
    if (!schema.is_object() || found_)
      return found_;
    if (!seen_.emplace(&schema, &value).second)
      return std::nullopt;
    if (auto ref = schema.find("$ref"); ref != schema.end()
                                        && ref->is_string()) {
      // bundle_refs left only "#<pointer>" references (percent-encoded).
      auto text = percent_decode(ref->get<std::string>().substr(1));
      const json* target = nullptr;
      try {
        target = &root_.at(json::json_pointer{text});
      } catch (const std::exception&) {
        return std::nullopt; // valijson refused it at compile time
      }
      return walk(*target, value);
    }
    if (value.is_string())
      check_string(schema, value.get_ref<const std::string&>());
    if (value.is_object())
      walk_object(schema, value);
    if (value.is_array()) {
      // valijson compares every pair of items: quadratic.
      auto unique = schema.find("uniqueItems");
      if (unique != schema.end() && *unique == true
          && value.size() > max_unique_items)
        refuse_items(value.size());
      walk_array(schema, value);
    }
    for (auto key : {"allOf", "anyOf", "oneOf"})
      if (auto i = schema.find(key); i != schema.end() && i->is_array())
        for (auto& sub : *i)
          walk(sub, value);
    for (auto key : {"not", "if", "then", "else"})
      if (auto i = schema.find(key); i != schema.end())
        walk(*i, value);
    if (auto i = schema.find("dependencies");
        i != schema.end() && i->is_object() && value.is_object())
      for (auto& [name, sub] : i->items())
        walk(sub, value);
    return found_;
  }

private:
  void check_string(const json& schema, const std::string& text) {
    if (text.size() <= max_regex_subject)
      return;
    auto pattern = schema.find("pattern");
    if ((pattern != schema.end() && pattern->is_string())
        || regex_format(schema))
      refuse("a string", text.size());
  }

  void walk_object(const json& schema, const json& value) {
    auto props = schema.find("properties");
    auto patterns = schema.find("patternProperties");
    auto additional = schema.find("additionalProperties");
    auto names = schema.find("propertyNames");
    bool has_patterns = patterns != schema.end() && patterns->is_object()
                        && !patterns->empty();
    for (auto& [key, child] : value.items()) {
      if (found_)
        return;
      // A key too long is named by its object: the path would hold it all.
      if (key.size() > max_regex_subject && has_patterns)
        refuse("a key", key.size());
      path_.segments.emplace_back(key);
      if (names != schema.end() && key.size() > max_regex_subject) {
        path_.segments.pop_back();
        json as_value = key;
        seen_.clear(); // as_value's address is reused by the next key
        walk(*names, as_value);
        path_.segments.emplace_back(key);
      }
      if (props != schema.end() && props->is_object())
        if (auto i = props->find(key); i != props->end())
          walk(*i, child);
      if (has_patterns)
        for (auto& [regex, sub] : patterns->items())
          walk(sub, child);
      if (additional != schema.end())
        walk(*additional, child);
      path_.segments.pop_back();
    }
  }

  void walk_array(const json& schema, const json& value) {
    auto items = schema.find("items");
    auto additional = schema.find("additionalItems");
    auto contains = schema.find("contains");
    for (std::size_t i = 0; i < value.size() && !found_; ++i) {
      path_.segments.emplace_back(i);
      if (items != schema.end() && items->is_array()) {
        if (i < items->size())
          walk((*items)[i], value[i]);
        else if (additional != schema.end())
          walk(*additional, value[i]);
      } else if (items != schema.end()) {
        walk(*items, value[i]);
      }
      if (contains != schema.end())
        walk(*contains, value[i]);
      path_.segments.pop_back();
    }
  }

  void refuse(const char* what, std::size_t size) {
    if (found_)
      return;
    found_ = validation_error{
      path_.str(), "schema.pattern",
      std::string{what} + " of " + std::to_string(size)
        + " bytes is too long to match against the schema's regex (at most "
        + std::to_string(max_regex_subject) + ")"};
  }

  void refuse_items(std::size_t size) {
    if (found_)
      return;
    found_ = validation_error{
      path_.str(), "schema.uniqueItems",
      "an array of " + std::to_string(size)
        + " items is too long to check for unique items (at most "
        + std::to_string(max_unique_items) + ")"};
  }

  const json& root_;
  config_path path_;
  std::set<std::pair<const json*, const json*>> seen_;
  std::optional<validation_error> found_;
};

bool any_regex(const json& node) {
  if (node.is_object()) {
    if (regex_format(node))
      return true;
    for (auto& [key, value] : node.items()) {
      if ((key == "pattern" && value.is_string())
          || (key == "patternProperties" && value.is_object()
              && !value.empty())
          || (key == "uniqueItems" && value == true))
        return true;
      if (key != "enum" && key != "const" && key != "default"
          && key != "examples" && any_regex(value))
        return true;
    }
  } else if (node.is_array()) {
    for (auto& x : node)
      if (any_regex(x))
        return true;
  }
  return false;
}

} // namespace

std::optional<validation_error> find_unmatchable_string(const json& bundled,
                                                        const json& candidate) {
  return guard{bundled}.walk(bundled, candidate);
}

bool needs_guard(const json& bundled) {
  return any_regex(bundled);
}

} // namespace cfgactors::detail

// `x-normalize`: "upper" and "lower" map ASCII letters (other characters
// stay), "trim" drops ASCII white space at both ends; a list applies its
// rules in order.
#include "model/schema_normalize.hpp"

#include <cctype>
#include <map>
#include <regex>
#include <set>

#include "cfgactors/path.hpp"
#include "model/schema_diagnosis.hpp"
#include "model/schema_guard.hpp"
#include "model/schema_location.hpp"

namespace cfgactors::detail {

namespace {

constexpr const char* keyword = "x-normalize";

bool known_rule(const json& x) {
  if (!x.is_string())
    return false;
  auto& s = x.get_ref<const std::string&>();
  return s == "upper" || s == "lower" || s == "trim";
}

bool valid_rules(const json& x) {
  if (x.is_array()) {
    for (auto& r : x)
      if (!known_rule(r))
        return false;
    return !x.empty();
  }
  return known_rule(x);
}

std::string apply_rule(const std::string& rule, std::string text) {
  if (rule == "trim") {
    auto space = [](char c) {
      return std::isspace(static_cast<unsigned char>(c)) != 0;
    };
    std::size_t first = 0;
    auto last = text.size();
    while (first < last && space(text[first]))
      ++first;
    while (last > first && space(text[last - 1]))
      --last;
    return text.substr(first, last - first);
  }
  for (auto& c : text) {
    auto u = static_cast<unsigned char>(c);
    if (u < 0x80)
      c = static_cast<char>(rule == "upper" ? std::toupper(u)
                                            : std::tolower(u));
  }
  return text;
}

std::string apply_rules(const json& rules, std::string text) {
  if (rules.is_string())
    return apply_rule(rules.get<std::string>(), std::move(text));
  for (auto& r : rules)
    text = apply_rule(r.get<std::string>(), std::move(text));
  return text;
}

// Finds where `x-normalize` is invalid, walking every object and array but
// not the data keywords.
std::optional<std::string> find_invalid(const json& node, config_path& path) {
  if (node.is_object()) {
    for (auto& [key, value] : node.items()) {
      path.segments.emplace_back(key);
      if (key == keyword && !valid_rules(value))
        return invalid_schema(path.str(),
                              "x-normalize must be \"upper\", \"lower\", "
                              "\"trim\" or a list of them");
      if (key != "enum" && key != "const" && key != "default"
          && key != "examples")
        if (auto problem = find_invalid(value, path))
          return problem;
      path.segments.pop_back();
    }
  } else if (node.is_array()) {
    for (std::size_t i = 0; i < node.size(); ++i) {
      path.segments.emplace_back(i);
      if (auto problem = find_invalid(node[i], path))
        return problem;
      path.segments.pop_back();
    }
  }
  return std::nullopt;
}

bool any_normalize(const json& node) {
  if (node.is_object()) {
    for (auto& [key, value] : node.items())
      if (key == keyword
          || (key != "enum" && key != "const" && key != "default"
              && key != "examples" && any_normalize(value)))
        return true;
  } else if (node.is_array()) {
    for (auto& x : node)
      if (any_normalize(x))
        return true;
  }
  return false;
}

class normalizer {
public:
  explicit normalizer(const json& root) : root_(root) {
    // nop
  }

  void walk(const json& schema, const json& value) {
    if (!schema.is_object() || !seen_.emplace(&schema, &value).second)
      return;
    if (auto ref = schema.find("$ref"); ref != schema.end()
                                        && ref->is_string()) {
      auto text = percent_decode(ref->get<std::string>().substr(1));
      try {
        walk(root_.at(json::json_pointer{text}), value);
      } catch (const std::exception&) {
        // nop: valijson refused it at compile time
      }
      return;
    }
    if (auto rules = schema.find(keyword);
        rules != schema.end() && value.is_string()) {
      auto& text = value.get_ref<const std::string&>();
      auto result = apply_rules(*rules, text);
      if (result != text)
        changes_.emplace_back(pointer_, std::move(result));
    }
    if (auto all = schema.find("allOf"); all != schema.end()
                                         && all->is_array())
      for (auto& sub : *all)
        walk(sub, value);
    if (value.is_object())
      walk_object(schema, value);
    else if (value.is_array())
      walk_array(schema, value);
  }

  std::vector<std::pair<json::json_pointer, std::string>> changes_;

private:
  void walk_object(const json& schema, const json& value) {
    auto props = schema.find("properties");
    auto patterns = schema.find("patternProperties");
    auto additional = schema.find("additionalProperties");
    for (auto& [key, child] : value.items()) {
      auto parent = pointer_;
      pointer_ /= key;
      bool matched = false;
      if (props != schema.end() && props->is_object())
        if (auto i = props->find(key); i != props->end()) {
          matched = true;
          walk(*i, child);
        }
      if (patterns != schema.end() && patterns->is_object())
        for (auto& [regex, sub] : patterns->items())
          if (matches(regex, key)) {
            matched = true;
            walk(sub, child);
          }
      if (!matched && additional != schema.end())
        walk(*additional, child);
      pointer_ = std::move(parent);
    }
  }

  void walk_array(const json& schema, const json& value) {
    auto items = schema.find("items");
    auto additional = schema.find("additionalItems");
    if (items == schema.end())
      return;
    for (std::size_t i = 0; i < value.size(); ++i) {
      pointer_ /= i;
      if (!items->is_array())
        walk(*items, value[i]);
      else if (i < items->size())
        walk((*items)[i], value[i]);
      else if (additional != schema.end())
        walk(*additional, value[i]);
      pointer_.pop_back();
    }
  }

  // As valijson matches patternProperties (regex_search); a key too long
  // for std::regex matches nothing here and is refused by validation.
  bool matches(const std::string& regex, const std::string& key) {
    if (key.size() > max_regex_subject)
      return false;
    auto i = regexes_.find(regex);
    if (i == regexes_.end())
      i = regexes_.emplace(regex, std::regex{regex}).first;
    return std::regex_search(key, i->second);
  }

  const json& root_;
  json::json_pointer pointer_;
  std::set<std::pair<const json*, const json*>> seen_;
  std::map<std::string, std::regex> regexes_;
};

} // namespace

std::optional<std::string> find_invalid_normalize(const json& document) {
  config_path path;
  return find_invalid(document, path);
}

bool uses_normalize(const json& bundled) {
  return any_normalize(bundled);
}

std::optional<json> normalize(const json& bundled, const json& value) {
  normalizer n{bundled};
  n.walk(bundled, value);
  if (n.changes_.empty())
    return std::nullopt;
  auto result = value;
  for (auto& [at, text] : n.changes_)
    result[at] = std::move(text);
  return result;
}

} // namespace cfgactors::detail

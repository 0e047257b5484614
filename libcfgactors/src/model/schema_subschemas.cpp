// Walks a bundled schema down a path, branch by branch.
#include "model/schema_subschemas.hpp"

#include <cstddef>
#include <regex>
#include <set>
#include <string>
#include <variant>

#include "model/schema_guard.hpp"
#include "model/schema_location.hpp"

namespace cfgactors::detail {

namespace {

// Bounds the sets below: enough for any schema written by hand.
constexpr std::size_t max_subschemas = 4096;

class collector {
public:
  explicit collector(const json& root) : root_(root) {
    // nop
  }

  /// Adds `schema` and whatever it applies to the same value.
  void close(const json& schema, std::vector<const json*>& out) {
    if (!schema.is_object() || out.size() >= max_subschemas
        || !seen_.insert(&schema).second)
      return;
    if (auto ref = schema.find("$ref"); ref != schema.end()
                                        && ref->is_string()) {
      auto text = percent_decode(ref->get<std::string>().substr(1));
      try {
        close(root_.at(json::json_pointer{text}), out);
      } catch (const std::exception&) {
        // nop: valijson refused it at compile time
      }
      return;
    }
    out.push_back(&schema);
    for (auto key : {"allOf", "anyOf", "oneOf"})
      if (auto i = schema.find(key); i != schema.end() && i->is_array())
        for (auto& sub : *i)
          close(sub, out);
    for (auto key : {"not", "if", "then", "else"})
      if (auto i = schema.find(key); i != schema.end())
        close(*i, out);
    if (auto i = schema.find("dependencies");
        i != schema.end() && i->is_object())
      for (auto& [name, sub] : i->items())
        close(sub, out);
  }

  /// The subschemas of `parents` that apply to their child `step`.
  std::vector<const json*> step(const std::vector<const json*>& parents,
                                const path_segment& step) {
    seen_.clear();
    std::vector<const json*> out;
    for (auto parent : parents) {
      if (auto key = std::get_if<std::string>(&step)) {
        child(*parent, *key, out);
      } else {
        // A dotted path does not say whether "0" is an index or a key.
        auto index = std::get<std::size_t>(step);
        item(*parent, index, out);
        child(*parent, std::to_string(index), out);
      }
    }
    return out;
  }

private:
  void child(const json& schema, const std::string& key,
             std::vector<const json*>& out) {
    bool matched = false;
    if (auto props = schema.find("properties");
        props != schema.end() && props->is_object())
      if (auto i = props->find(key); i != props->end()) {
        matched = true;
        close(*i, out);
      }
    if (auto patterns = schema.find("patternProperties");
        patterns != schema.end() && patterns->is_object()
        && key.size() <= max_regex_subject)
      for (auto& [regex, sub] : patterns->items()) {
        try {
          if (std::regex_search(key, std::regex{regex})) {
            matched = true;
            close(sub, out);
          }
        } catch (const std::regex_error&) {
          // nop: refused at compile time
        }
      }
    if (auto additional = schema.find("additionalProperties");
        !matched && additional != schema.end())
      close(*additional, out);
  }

  void item(const json& schema, std::size_t index,
            std::vector<const json*>& out) {
    auto items = schema.find("items");
    if (items != schema.end() && items->is_array()) {
      if (index < items->size())
        close((*items)[index], out);
      else if (auto more = schema.find("additionalItems");
               more != schema.end())
        close(*more, out);
    } else if (items != schema.end()) {
      close(*items, out);
    }
    if (auto contains = schema.find("contains"); contains != schema.end())
      close(*contains, out);
  }

  const json& root_;
  std::set<const json*> seen_;
};

} // namespace

std::vector<const json*> subschemas_at(const json& root,
                                       const config_path& at) {
  collector c{root};
  std::vector<const json*> current;
  c.close(root, current);
  for (auto& segment : at.segments) {
    if (current.empty())
      break;
    current = c.step(current, segment);
  }
  return current;
}

} // namespace cfgactors::detail

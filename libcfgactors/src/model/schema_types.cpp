// The types a schema declares at a path, which the env source coerces
// variables to: a walk through properties, items and local `$ref`s.
#include "cfgactors/schema.hpp"

#include <regex>
#include <string>
#include <variant>
#include <vector>

#include "cfgactors/path.hpp"
#include "model/schema_location.hpp"

namespace cfgactors {

std::vector<std::string> json_schema::types_at(const config_path& path) const {
  auto& root = document();
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
        json::json_pointer ptr{detail::percent_decode(text.substr(1))};
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

// Locations in the documents a schema talks about: valijson's error contexts
// as dotted config paths, and `$ref` fragments decoded.
#include "model/schema_location.hpp"

#include <charconv>
#include <system_error>

namespace cfgactors::detail {

// valijson names a location as {"<root>", "[logging]", "[level]"}; keys and
// indexes look alike ("[0]"), so the document itself decides which is which
// (in to_path).
schema_context strip_context(const std::vector<std::string>& raw) {
  schema_context result;
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

config_path to_path(const json& root, const schema_context& ctx,
                    const std::string* extra_key) {
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

} // namespace cfgactors::detail

// docs/HASH.md's definition written the slow way, from nlohmann's dump of
// each scalar and whole strings of text: what canonical_hash must equal for
// every tree. Shared by the hash suite and the fuzz targets.
#pragma once

#include <algorithm>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/hash.hpp"

namespace cfgactors::test {

/// Members or items per piece of a wide container (docs/HASH.md).
inline constexpr std::size_t reference_piece = 32;

/// `parts` joined by commas: `from` to at most `count` of them.
inline std::string reference_join(const std::vector<std::string>& parts,
                                  std::size_t from, std::size_t count) {
  std::string out;
  for (auto i = from; i < std::min(parts.size(), from + count); ++i)
    out += (i > from ? "," : "") + parts[i];
  return out;
}

inline std::string reference_hash(const json& value) {
  auto text_of = [](const json& v) {
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  auto ref = [&](const json& v) {
    return v.is_structured() ? "#" + reference_hash(v) : text_of(v);
  };
  if (!value.is_structured())
    return sha256_hex(text_of(value));
  std::vector<std::string> parts;
  for (auto& [key, member] : value.items())
    parts.push_back((value.is_object() ? text_of(json(key)) + ":" : "")
                    + ref(member));
  std::string open = value.is_object() ? "{" : "[";
  std::string close = value.is_object() ? "}" : "]";
  if (parts.size() <= reference_piece)
    return sha256_hex(open + reference_join(parts, 0, parts.size()) + close);
  std::vector<std::string> refs;
  for (std::size_t i = 0; i < parts.size(); i += reference_piece)
    refs.push_back("#"
                   + sha256_hex(open + reference_join(parts, i, reference_piece)
                                + close));
  while (refs.size() > reference_piece) {
    std::vector<std::string> groups;
    for (std::size_t i = 0; i < refs.size(); i += reference_piece)
      groups.push_back("#"
                       + sha256_hex("~"
                                    + reference_join(refs, i, reference_piece)));
    refs = std::move(groups);
  }
  return sha256_hex(open + "~" + reference_join(refs, 0, refs.size()) + close);
}

} // namespace cfgactors::test

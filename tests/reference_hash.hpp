// docs/HASH.md's definition written the slow way, from nlohmann's dump of
// each scalar: what canonical_hash must equal for every tree. Shared by the
// hash suite and the fuzz targets.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cfgactors/hash.hpp"

namespace cfgactors::test {

inline std::string reference_hash(const json& value) {
  auto text_of = [](const json& v) {
    return v.dump(-1, ' ', false, json::error_handler_t::replace);
  };
  auto ref = [&](const json& v) {
    return v.is_structured() ? "#" + reference_hash(v) : text_of(v);
  };
  if (!value.is_structured())
    return sha256_hex(text_of(value));
  std::string text = value.is_object() ? "{" : "[";
  auto first = true;
  for (auto& [key, member] : value.items()) {
    if (!first)
      text += ',';
    first = false;
    if (value.is_object())
      text += text_of(json(key)) + ":";
    text += ref(member);
  }
  return sha256_hex(text + (value.is_object() ? "}" : "]"));
}

} // namespace cfgactors::test

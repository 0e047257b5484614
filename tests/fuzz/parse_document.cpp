// Fuzzes parse_document, YAML and JSON, under its limits. The first byte is
// a mode: odd = YAML, even = JSON ('Y' and 'J' read well in seeds); with the
// high bit set it also picks a small depth limit (1..16) and, with 0x40, a
// size limit below the input's size. The rest is the document.
#include <algorithm>
#include <cmath>
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "cfgactors/hash.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"
#include "model/node_count.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors;
using fuzz::show;

namespace {

bool all_finite(const json& value) {
  std::vector<const json*> todo{&value};
  while (!todo.empty()) {
    auto x = todo.back();
    todo.pop_back();
    if (x->is_number_float() && !std::isfinite(x->get<double>()))
      return false;
    if (x->is_structured())
      for (auto& child : *x)
        todo.push_back(&child);
  }
  return true;
}

bool blank(std::string_view text) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  });
}

// The byte at a 1-based line and byte column (a BOM takes no column), or
// '\0' past the end.
char byte_at(std::string_view text, std::size_t line, std::size_t column) {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  std::size_t start = 0;
  for (std::size_t n = 1; n < line; ++n) {
    start = text.find('\n', start);
    if (start == std::string_view::npos)
      return '\0';
    ++start;
  }
  auto offset = start + column - 1;
  return column > 0 && offset < text.size() ? text[offset] : '\0';
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0)
    return 0;
  auto mode = data[0];
  std::string_view text{reinterpret_cast<const char*>(data) + 1, size - 1};
  auto format = (mode & 1) ? document_format::yaml : document_format::json;
  parse_limits limits;
  if (mode & 0x80) {
    limits.max_depth = 1 + ((mode >> 1) & 0x0f);
    if (mode & 0x40)
      limits.max_bytes = text.size() / 2;
  }
  auto result = parse_document(text, format, "fuzz", limits);
  auto lines = 1 + static_cast<std::size_t>(
                     std::count(text.begin(), text.end(), '\n'));

  if (!result) {
    auto& e = *result.error;
    FUZZ_CHECK(e.source == "fuzz", e.str());
    FUZZ_CHECK(!e.message.empty(), e.str());
    // The position names a place in the document.
    if (format == document_format::json) {
      FUZZ_CHECK(e.line <= lines, e.str());
      FUZZ_CHECK(e.column <= text.size() + 1, e.str());
    } else {
      FUZZ_CHECK(e.line <= lines + 1, e.str());
    }
    if (text.size() > limits.max_bytes)
      return 0;
    // Errors name the line (parse.hpp), a JSON error the column too.
    FUZZ_CHECK(e.line > 0, e.str());
    if (format == document_format::json)
      FUZZ_CHECK(e.column > 0, e.str());
    // JSON: only a document nlohmann refuses, or one too deep, fails.
    if (format == document_format::json) {
      auto too_deep = e.message.rfind("nesting depth exceeds", 0) == 0;
      if (too_deep) {
        // The parser stops there, so what follows may be invalid too.
        auto full = json::parse(text, nullptr, false);
        FUZZ_CHECK(full.is_discarded()
                     || nesting_depth(full) > limits.max_depth,
                   e.str());
        // The position is the bracket that opens the level too many.
        auto at = byte_at(text, e.line, e.column);
        FUZZ_CHECK(at == '[' || at == '{', e.str());
      } else {
        FUZZ_CHECK(!json::accept(text), e.str());
      }
    }
    return 0;
  }

  const auto& value = result.value;
  FUZZ_CHECK(text.size() <= limits.max_bytes, show(value));
  // The depth limit holds whatever aliases and merge keys did.
  auto depth = nesting_depth(value);
  FUZZ_CHECK(depth <= limits.max_depth,
             "depth " + std::to_string(depth) + " > limit "
               + std::to_string(limits.max_depth));
  if (format == document_format::json) {
    FUZZ_CHECK(json::accept(text) || blank(text), show(value));
  } else {
    // Alias copies may add at most max(size, 128Ki) nodes (parse.cpp): memory
    // stays linear in the input.
    auto budget = std::max<std::size_t>(text.size(), 1u << 17);
    auto nodes = detail::node_count(value);
    FUZZ_CHECK(nodes <= budget + 2 * text.size() + 1,
               std::to_string(nodes) + " nodes from " + std::to_string(size)
                 + " bytes");
  }
  // Every parsed tree is UTF-8 (both parsers check), so the strict dump works.
  std::string dumped;
  try {
    dumped = value.dump();
  } catch (const json::exception& e) {
    FUZZ_CHECK(false, std::string{"dump() threw: "} + e.what());
  }
  // The content hash is docs/HASH.md's definition (hash.cpp).
  FUZZ_CHECK(canonical_hash(value) == fuzz::reference_hash(value), dumped);
  // The dump parses back, under the same limits, to the same tree (JSON has
  // no NaN or infinity: YAML's .nan/.inf dump as null).
  if (all_finite(value)) {
    auto again = parse_document(dumped, document_format::json, "again",
                                limits);
    if (!again && dumped.size() > limits.max_bytes)
      return 0;
    FUZZ_CHECK(again, again.error ? again.error->str() : std::string{});
    FUZZ_CHECK(again.value == value, dumped + "\nvs\n" + show(again.value));
  }
  return 0;
}

// Shared by the fuzz targets: invariant checks that stop the run (a broken
// invariant is a finding, like a crash).
#pragma once

#include <cstdio>
#include <cstdlib>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/hash.hpp"
#include "cfgactors/parse.hpp"
#include "../reference_hash.hpp"

namespace cfgactors::fuzz {

/// Prints what broke and aborts: libFuzzer saves the input as a crash.
[[noreturn]] inline void violated(const char* file, int line, const char* what,
                                  const std::string& detail) {
  std::fprintf(stderr, "\n==== invariant violated at %s:%d: %s\n%s\n", file,
               line, what, detail.c_str());
  std::abort();
}

using test::reference_hash;

/// Compact JSON for messages, never throwing on invalid UTF-8.
inline std::string show(const json& value) {
  auto text = value.dump(-1, ' ', false, json::error_handler_t::replace);
  if (text.size() > 2000)
    text = text.substr(0, 2000) + "...";
  return text;
}

/// Parses JSON as the library does (depth and size limited), or nullopt.
inline std::optional<json> parse_json(std::string_view text,
                                      std::size_t max_depth = 64) {
  parse_limits limits;
  limits.max_depth = max_depth;
  auto result = parse_document(text, document_format::json, "fuzz", limits);
  if (!result)
    return std::nullopt;
  return std::move(result.value);
}

/// Splits off the text up to the first newline (the newline is dropped).
inline std::string_view take_line(std::string_view& rest) {
  auto nl = rest.find('\n');
  auto line = rest.substr(0, nl);
  rest = nl == std::string_view::npos ? std::string_view{}
                                      : rest.substr(nl + 1);
  return line;
}

} // namespace cfgactors::fuzz

#define FUZZ_CHECK(cond, detail)                                               \
  do {                                                                         \
    if (!(cond))                                                               \
      ::cfgactors::fuzz::violated(__FILE__, __LINE__, #cond, (detail));        \
  } while (false)

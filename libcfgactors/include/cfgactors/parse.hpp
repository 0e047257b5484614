// Parsing YAML, JSON and TOML documents into configuration trees, with errors that
// name the source, line and column.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

enum class document_format { json, yaml, toml };

/// Limits that keep hostile input from exhausting the stack or memory.
struct parse_limits {
  std::size_t max_depth = 128;            ///< nesting of objects/arrays
  std::size_t max_bytes = 64u << 20;      ///< document size
};

/// Where and why a document failed to parse. Lines and columns are 1-based;
/// 0 means "not applicable" (e.g. the file could not be read).
struct parse_error {
  std::string source;
  std::size_t line = 0;
  std::size_t column = 0;
  std::string message;

  /// `source:line:column: message`
  std::string str() const;
};

struct parse_result {
  json value;
  std::optional<parse_error> error;

  explicit operator bool() const noexcept {
    return !error;
  }
};

/// Parses `text` as `format`. YAML scalars resolve as in the YAML 1.2 core
/// schema (null, true/false, integers, floats); quoted scalars stay strings.
/// TOML (1.0): integers stay integers; dates, times and date-times become
/// their RFC 3339 text (`1979-05-27T07:32:00Z`); inf and nan are refused
/// (JSON has no such numbers). An empty document yields an empty object.
parse_result parse_document(std::string_view text, document_format format,
                            std::string_view source_name,
                            const parse_limits& limits = {});

/// Picks the format from the extension (`.json`, `.yaml`, `.yml`, `.toml`).
std::optional<document_format> format_for_path(std::string_view path);

/// Reads and parses a file; the format follows the extension.
parse_result parse_file(const std::string& path,
                        const parse_limits& limits = {});

} // namespace cfgactors

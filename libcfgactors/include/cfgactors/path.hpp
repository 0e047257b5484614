// Dotted paths into a configuration tree: `logging.level`, `servers[0].host`.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <variant>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

/// One step of a path: an object key or an array index.
using path_segment = std::variant<std::string, std::size_t>;

/// A parsed path. The empty path names the root.
struct config_path {
  std::vector<path_segment> segments;

  /// Parses `a.b[2].c`; a numeric segment after a dot (`a.2`) is a key, not
  /// an index. A key containing `.`, `[` or `\` escapes it with `\`.
  /// Returns `nullopt` and fills `error` for malformed input (`a..b`, `a[x]`).
  static std::optional<config_path> parse(std::string_view text,
                                          std::string* error = nullptr);

  /// An RFC 6901 JSON pointer's tokens as a path of keys (`~1` is `/`, `~0`
  /// is `~`; a numeric token stays a key). nullopt if it does not start
  /// with `/` (the empty pointer is the root).
  static std::optional<config_path> from_pointer(std::string_view pointer);

  /// Renders the canonical text form (inverse of parse).
  std::string str() const;

  bool empty() const noexcept {
    return segments.empty();
  }
};

/// Returns the node at `path`, or nullptr if any step is missing or has the
/// wrong kind (an index into an object, a key into an array, ...).
const json* find(const json& root, const config_path& path) noexcept;
json* find(json& root, const config_path& path) noexcept;

/// Sets `value` at `path`, creating intermediate objects. Fails (returns
/// false, fills `error`) when a step crosses a scalar or an index is out of
/// range (an index equal to the size appends).
bool assign(json& root, const config_path& path, json value,
            std::string* error = nullptr);

/// Removes the node at `path`; returns whether something was removed.
bool erase(json& root, const config_path& path);

/// True if `path` equals `prefix` or lies below it, on segment boundaries,
/// for dotted text paths ("" is the prefix of everything).
bool path_within(std::string_view path, std::string_view prefix) noexcept;

/// Iterative nesting depth of `value` (a scalar has depth 0); safe on
/// arbitrarily deep trees.
std::size_t nesting_depth(const json& value);

} // namespace cfgactors

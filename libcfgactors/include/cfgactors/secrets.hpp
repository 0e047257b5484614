// Which values of a configuration are secrets, and how they are masked.
//
// A secret path is a dotted path (cfgactors/path.hpp) in which a `*` segment
// matches any one key or index: `db.password`, `tenants.*.api_key`. Sources
// mark paths (an env variable naming a `file://` secret), and so does the
// schema (`"x-secret": true` or `"writeOnly": true` on a property). Every
// snapshot carries the secret paths in force when it was made; whoever shows
// a value to someone without the right to read secrets masks it first.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors {

/// What a masked secret reads as.
inline constexpr std::string_view masked_value = "***";

/// An immutable set of secret path patterns. Masking walks only the parts of
/// a tree that a pattern leads into: its cost grows with the secrets, not
/// with the tree.
class secret_paths {
public:
  secret_paths() = default;

  /// Parses `patterns` (dotted paths, `*` for any one key or index). A
  /// pattern that does not parse is left out and named in `errors`.
  explicit secret_paths(std::vector<std::string> patterns,
                        std::vector<std::string>* errors = nullptr);

  /// The patterns, sorted, each once.
  const std::vector<std::string>& patterns() const noexcept {
    return texts_;
  }

  bool empty() const noexcept {
    return texts_.empty();
  }

  /// True if the value at `path` is a secret or lies inside one.
  bool covers(const config_path& path) const;

  /// Replaces every secret in `value`, the value found at `at`, by `***`
  /// (the whole `value` if `at` itself is secret).
  void mask(json& value, const config_path& at = {}) const;

  /// `mask` for the values of an RFC 6902 patch (`path` is a JSON pointer).
  void mask_patch(json& patch) const;

  /// `mask` for a diff view (`{dotted path: {old, new} | {added} |
  /// {removed}}`, see cfgactors/diff.hpp).
  void mask_view(json& view) const;

  /// Calls `fn(path, value)` for every secret value in `tree`.
  void for_each(const json& tree,
                const std::function<void(const config_path&, const json&)>& fn)
    const;

  /// Calls `fn(path, value)` for every secret value in `tree`, which `fn`
  /// may change.
  void for_each(json& tree,
                const std::function<void(const config_path&, json&)>& fn)
    const;

  /// `for_each` for `value`, the value found at `at`: the paths given to
  /// `fn` start at the root (all of `value` if `at` itself is secret).
  void for_each(json& value, const config_path& at,
                const std::function<void(const config_path&, json&)>& fn)
    const;

  /// The same for a value that `fn` only reads.
  void for_each(const json& value, const config_path& at,
                const std::function<void(const config_path&, const json&)>& fn)
    const;

  /// True if `tree` holds a value at any secret path.
  bool any_in(const json& tree) const;

  /// This set plus `more`; returns `base` itself when `more` adds nothing
  /// (successive snapshots share one set).
  static std::shared_ptr<const secret_paths>
  with(const std::shared_ptr<const secret_paths>& base,
       const std::vector<std::string>& more);

  friend bool operator==(const secret_paths& x, const secret_paths& y) {
    return x.texts_ == y.texts_;
  }

private:
  std::vector<std::string> texts_;
  std::vector<config_path> patterns_;
};

using secret_paths_ptr = std::shared_ptr<const secret_paths>;

/// The paths `schema` (a JSON Schema document) marks secret: every
/// subschema with `"x-secret": true` or `"writeOnly": true`, reached through
/// `properties`, `additionalProperties`, `patternProperties` and `items`
/// (as `*`), `allOf`/`anyOf`/`oneOf`, and local `$ref`s.
std::vector<std::string> schema_secret_paths(const json& schema);

} // namespace cfgactors

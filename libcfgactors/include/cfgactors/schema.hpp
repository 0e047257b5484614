// JSON Schema (draft 7) validation of candidate configurations.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

struct config_path;

/// `$ref`s under `uri` (an absolute URI prefix such as
/// `http://localhost:1234/`) are read from files under `directory`.
struct schema_ref_dir {
  std::string uri;
  std::string directory;
};

/// How a schema is compiled. A `$ref` resolves within the schema (JSON
/// pointers, `$id`s and `#name` anchors), to the embedded draft 7
/// meta-schema, or to a file under one of `ref_dirs`; never the network.
struct schema_options {
  std::vector<schema_ref_dir> ref_dirs;
};

/// A compiled JSON Schema. Immutable once built, so one instance may be shared
/// by any number of threads and actors.
class json_schema {
public:
  ~json_schema();
  json_schema(const json_schema&) = delete;
  json_schema& operator=(const json_schema&) = delete;

  /// Compiles `document`. An invalid schema yields nullptr and a message in
  /// `error` naming what is wrong.
  static std::shared_ptr<const json_schema>
  compile(const json& document, std::string* error,
          const schema_options& options = {});

  /// Reads (YAML or JSON, by extension) and compiles a schema file.
  static std::shared_ptr<const json_schema>
  from_file(const std::string& path, std::string* error,
            const schema_options& options = {});

  /// Appends every violation to `out`, each with the dotted path of the
  /// offending value and the schema keyword as rule (`schema.enum`, ...).
  void validate(const json& candidate, validation_errors& out) const;

  /// validate() for a candidate equal to a tree this schema accepted except
  /// at and below the dotted paths `changed` (touched_paths or changed_paths
  /// give them; arrays count whole). Only the changed subtrees and the
  /// keywords of their ancestors are proved where those decide the verdict
  /// (docs/ARCHITECTURE.md, "Incremental validation"); otherwise, and for
  /// every candidate that is not proven valid that way, validate() runs, so
  /// the errors are exactly its errors.
  void validate(const json& candidate, const std::vector<std::string>& changed,
                validation_errors& out) const;

  /// The same for a candidate held as a persistent tree (a version built
  /// along its write): proved on the tree, which makes JSON of the changed
  /// subtrees only; the candidate's JSON is made for a full pass alone.
  void validate(const layer_data& candidate,
                const std::vector<std::string>& changed,
                validation_errors& out) const;

  /// `candidate` with the schema's `x-normalize` rules applied ("upper",
  /// "lower", "trim": a string rewritten before it is judged), or nullopt
  /// when no rule changes anything. Writers store the normalized value, so
  /// `"debug"` passes an `enum` of `"DEBUG"` and is served as `"DEBUG"`.
  std::optional<json> normalized(const json& candidate) const;

  /// Whether the schema has any `x-normalize` rule (else normalized()
  /// returns nullopt without reading its argument).
  bool normalizes() const noexcept;

  /// The schema's own document (for coercion by sources).
  const json& document() const noexcept;

  /// The types the schema declares for the value at `path` (its `type`, a
  /// string or a list), found through `properties`, `patternProperties`,
  /// `additionalProperties`, `items` and local `$ref`s. Empty when nothing
  /// declares a type there (no `type`, or only `allOf`/`anyOf`/`oneOf`).
  std::vector<std::string> types_at(const config_path& path) const;

private:
  struct impl;
  explicit json_schema(std::unique_ptr<impl> ptr);
  std::unique_ptr<impl> impl_;
};

using json_schema_ptr = std::shared_ptr<const json_schema>;

} // namespace cfgactors

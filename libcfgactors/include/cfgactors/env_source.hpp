// env_source: maps prefixed environment variables into the layer `env`.
// `CFG_LOGGING__LEVEL=DEBUG` → `logging.level: "DEBUG"` (by default `__`
// nests and keys are lower-cased; both configurable, plus explicit
// name → path mappings); values that parse as JSON become JSON;
// `file:///path` values are secrets read from that file and never logged.
// Change the environment through cfgactors/env.hpp while a source runs.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <caf/actor_system.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors {

/// How the keys of a variable's name become path keys.
enum class env_key_case {
  lower,    ///< `CFG_Database__Pool` → database.pool (the default)
  preserve, ///< `CFG_Database__Pool` → Database.Pool
};

struct env_change_set;

struct env_source_options {
  /// Variables starting with this are read: the rest of the name, split at
  /// `separator`, spells the path.
  std::string prefix = "CFG_";
  /// Separates nested keys in a name; not empty.
  std::string separator = "__";
  env_key_case key_case = env_key_case::lower;
  /// Explicit names → dotted paths (`PROVIDE_LOG_LEVEL` → `logging.level`).
  /// A mapped name is read whether or not it has the prefix, and its mapping
  /// wins over the prefix rule. Object keys only (no `[0]`, no `*`); two
  /// names may not map to one path.
  std::map<std::string, std::string> map;
  std::chrono::milliseconds poll_interval{1000}; ///< 0 = read once
  json_schema_ptr schema; ///< optional: coerce values to the declared types
  /// Called on the source's thread each time a poll or reload finds the
  /// variables changed (never for the first read, nor for a rotated secret
  /// file behind an unchanged variable), once the change was proposed. Keep
  /// it short: the source waits for it.
  std::function<void(const env_change_set&)> on_change;
  /// Values whose path the schema marks secret (x-secret, writeOnly) reach
  /// `on_change` as `***` unless this is set.
  bool on_change_secrets = false;
};

/// What one poll found, as the seed's EnvWatcher hands it to its callback:
/// variable names with their values, plus the paths the names map to.
struct env_change_set {
  std::map<std::string, std::string> added;   ///< name → value
  std::map<std::string, std::string> removed; ///< name → last value
  /// name → (old value, new value)
  std::map<std::string, std::pair<std::string, std::string>> modified;
  /// Every name above → the dotted path it maps to ("" if none: the error
  /// says why).
  std::map<std::string, std::string> paths;
  /// The version that took the change; 0 if none did (refused, unchanged,
  /// or the variables did not make a layer).
  uint64_t version = 0;
  std::string error; ///< why no version took it; names, never values

  bool empty() const noexcept {
    return added.empty() && removed.empty() && modified.empty();
  }
};

/// Empty if `options` are usable, else every problem, `; `-separated: an
/// empty separator, a separator or prefix holding `=`, a mapped name that is
/// empty or holds `=`, a mapped path that does not parse (or names an index
/// or `*`), two names mapped to one path.
std::string check_env_options(const env_source_options& options);

/// The path variable `name` maps to under `options` (a mapping, else the
/// prefix rule), or nullopt with the reason in `why`.
std::optional<config_path> env_path(const std::string& name,
                                    const env_source_options& options,
                                    std::string* why = nullptr);

/// What one poll found, by name only (what the source logs: values may be
/// secrets).
struct env_changes {
  std::vector<std::string> added;
  std::vector<std::string> removed;
  std::vector<std::string> modified;

  bool empty() const noexcept {
    return added.empty() && removed.empty() && modified.empty();
  }
};

/// Compares two captures of the prefixed variables.
env_changes compare_env(const std::map<std::string, std::string>& before,
                        const std::map<std::string, std::string>& after);

/// The variables of the process environment that start with `prefix`.
std::map<std::string, std::string> capture_env(const std::string& prefix);

/// The variables `options` read: those with the prefix and the mapped ones.
std::map<std::string, std::string>
capture_env(const env_source_options& options);

/// The layer built from `vars`. Secret paths go to `secrets`; a failure
/// (options check_env_options refuses, an empty or unreadable secret file, a value the schema type cannot take, an
/// empty key, two variables setting the same path) returns false with a
/// message in `error` naming the variables, never a value.
///
/// Values: JSON if they parse (`null` is JSON's null, which deletes the key
/// from lower layers), else the text. Where the schema declares a type: a
/// JSON value of that type, else for `string` the raw text (`1.10` stays
/// "1.10"), for `integer`/`number` a numeric text, for `boolean`
/// true/false/1/0/yes/no/on/off in any case. `file:///path` reads the value
/// from that file (one trailing newline stripped; empty is an error).
bool env_layer(const std::map<std::string, std::string>& vars,
               const env_source_options& options, json& layer,
               std::vector<std::string>& secrets, std::string& error);

/// Spawns the source; it proposes the layer at start and on every change
/// (variables added, removed or modified, or a secret file's content),
/// polling every `poll_interval`. A read that fails keeps the last good layer
/// and leaves the source degraded (as do options check_env_options refuses).
source_actor spawn_env_source(caf::actor_system& sys,
                              validator_actor validator,
                              env_source_options options);

} // namespace cfgactors

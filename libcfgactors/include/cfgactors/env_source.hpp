// env_source: maps prefixed environment variables into the layer `env`.
// `CFG_LOGGING__LEVEL=DEBUG` → `logging.level: "DEBUG"` (`__` nests, keys
// lower-cased); values that parse as JSON become JSON; `file:///path` values
// are secrets read from that file and never logged.
#pragma once

#include <chrono>
#include <map>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors {

struct env_source_options {
  std::string prefix = "CFG_";
  std::chrono::milliseconds poll_interval{1000}; ///< 0 = read once
  json_schema_ptr schema; ///< optional: coerce values to the declared types
};

/// What one poll found, as the seed reports it: variable names only (values
/// may be secrets).
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

/// Held by `capture_env` while it walks `environ`. A program that changes its
/// environment (setenv, unsetenv, putenv) while an env source runs holds it
/// too: glibc may move `environ` while another thread reads it.
std::mutex& env_mutex();

/// The layer built from `vars`. Secret paths go to `secrets`; a failure (an
/// empty or unreadable secret file, a value the schema type cannot take, an
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
/// and leaves the source degraded.
source_actor spawn_env_source(caf::actor_system& sys,
                              validator_actor validator,
                              env_source_options options);

} // namespace cfgactors

// Private helper of the env source: the layer built from one capture of the
// environment, plus what the source needs to notice a rotated secret.
#pragma once

#include <map>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/env_source.hpp"

namespace cfgactors::detail {

struct env_build {
  json layer = json::object();
  std::vector<std::string> secrets; ///< dotted paths of `file://` values
  /// Variable → SHA-256 of the secret file's content: a rotated secret
  /// changes this while the variable itself stays the same.
  std::map<std::string, std::string> secret_digests;
  std::string error; ///< every problem, `; `-separated; empty on success

  bool ok() const noexcept {
    return error.empty();
  }
};

/// Maps `vars` (names with the prefix) into a layer; see env_source.hpp.
env_build build_env_layer(const std::map<std::string, std::string>& vars,
                          const env_source_options& options);

} // namespace cfgactors::detail

// file_source: watches configuration files (YAML, JSON) and proposes each as
// a layer `file:<path>`, in the order given (later files win).
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "cfgactors/actor_types.hpp"

namespace cfgactors {

struct file_spec {
  std::string path;
  bool optional = false; ///< a missing optional file is an empty layer
};

struct file_source_options {
  std::vector<file_spec> files; ///< lowest precedence first
  /// Quiet time after the last filesystem event before the files are read:
  /// editors and `kubectl` touch a file several times per save.
  std::chrono::milliseconds debounce{100};
  bool watch = true; ///< inotify on each file's directory
  /// Also re-read on this interval (0 = never). Used alone when inotify is
  /// unavailable; then 0 means 1 s.
  std::chrono::milliseconds poll_interval{0};
};

/// Checks that every required file exists and parses, then spawns the source,
/// which proposes the files once at start and again whenever their content
/// changes (same content hash → no proposal). Errors name file, line and
/// column.
caf::expected<source_actor>
spawn_file_source(caf::actor_system& sys, validator_actor validator,
                  file_source_options options);

} // namespace cfgactors

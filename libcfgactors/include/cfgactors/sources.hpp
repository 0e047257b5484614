// The sources of one node, started together: files, the environment, a
// config server polled over HTTP and one pushing over WebSocket.
#pragma once

#include <chrono>
#include <optional>
#include <vector>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/env_source.hpp"
#include "cfgactors/file_source.hpp"
#include "cfgactors/http_source.hpp"
#include "cfgactors/ws_source.hpp"

namespace cfgactors {

struct sources_options {
  file_source_options files; ///< no files: no file source
  std::optional<env_source_options> env;
  std::optional<http_source_options> remote;
  /// `store` and `reload` are filled in: the node's store, and every source
  /// started before it.
  std::optional<ws_source_options> ws;
  /// How long a local source may take for its first read.
  std::chrono::milliseconds first_read_timeout{30000};
  /// If set, the remote and ws sources must read once too, within this
  /// long (await_first_poll).
  std::optional<std::chrono::milliseconds> remote_required;
};

/// Spawns the sources, lowest precedence first, proposing to `validator`.
/// Files and the environment must read cleanly at start: their first
/// proposal must be answered (committed or unchanged) before the next
/// source starts, so a service never starts on a broken local config. Remote
/// sources may be down: they keep retrying. Fails with an error naming the
/// source and why (`initial configuration from files: ...`), after ending
/// every source it spawned.
caf::expected<std::vector<source_actor>>
spawn_sources(caf::actor_system& sys, const validator_actor& validator,
              const store_actor& store, sources_options options);

/// Sends every source an exit message.
void stop_sources(const std::vector<source_actor>& sources);

} // namespace cfgactors

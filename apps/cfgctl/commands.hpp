// The cfgctl commands. Each returns an exit code (client.hpp) and prints
// readable text, or the server's JSON with --json.
#pragma once

#include <optional>
#include <string>
#include <vector>

#include "client.hpp"

namespace cfgctl {

struct context {
  const client& cli;
  bool json = false;
  std::string consistency; ///< local|majority|all, empty: the server's default
  bool dry_run = false;    ///< writes: `?dry_run=1`, nothing committed
};

/// The query of a write: `?consistency=` and `dry_run=1` as `ctx` asks.
std::string query(const context& ctx);

/// Common tail of every write: the new version (a dry run: what would
/// change), or the reasons.
int write_outcome(const context& ctx, const reply& r);

/// Pushes FILE (YAML or JSON by extension) as the runtime layer: PUT /config.
int cmd_push(const context& ctx, const std::string& file);

/// `explain`: which layer sets `path` and what it shadows (GET /layers).
int cmd_get(const context& ctx, const std::string& path, bool explain);
int cmd_set(const context& ctx, const std::string& path,
            const std::string& value, bool as_string);
int cmd_unset(const context& ctx, const std::string& path);
/// `create`: the flag may be new (else cfgd refuses an unknown name: 404).
int cmd_flag(const context& ctx, const std::string& name, bool on,
             bool create);
int cmd_history(const context& ctx, int limit);
/// Without versions: the last change (GET /diff?last=1).
int cmd_diff(const context& ctx, std::optional<uint64_t> from,
             std::optional<uint64_t> to);
int cmd_rollback(const context& ctx, uint64_t version);
int cmd_nodes(const context& ctx);
/// On a replica: follow its primary's history whatever it is (another
/// cluster's, or behind the replica's), after a primary lost its journal.
int cmd_resync(const context& ctx);
int cmd_sources(const context& ctx);

/// Fetches the flags and evaluates `name` locally for the context
/// `attributes` (NAME=VALUE each; `targetingKey=...` among them), printing
/// value, variant, the OFREP and the library's reason. With `keys_file`,
/// one JSON line per targeting key in the file (one per line).
int cmd_eval(const context& ctx, const std::string& name,
             const std::vector<std::string>& attributes,
             const std::string& keys_file);

/// Streams changes under `prefix` from GET /ws, one line each, until the
/// connection ends or the process is interrupted.
int cmd_watch(const context& ctx, const std::string& prefix);

} // namespace cfgctl

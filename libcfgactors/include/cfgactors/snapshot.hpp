// An immutable, versioned configuration: what the store keeps and readers see.
#pragma once

#include <cstdint>
#include <deque>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/flags_cache.hpp"
#include "cfgactors/fwd.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/secrets.hpp"

namespace cfgactors {

namespace detail {
class hash_tree;
} // namespace detail

/// Sorted dotted paths (diff.hpp's changed_paths), shared between the
/// actors that pass them on.
using paths_ptr = std::shared_ptr<const std::vector<std::string>>;

struct snapshot {
  uint64_t version = 0;
  std::string hash;         ///< canonical_hash(effective)
  int64_t timestamp_ms = 0; ///< commit time, milliseconds since the Unix epoch
  std::string origin;       ///< who made it: source, user or node
  layer_stack layers;       ///< the layers it was merged from
  /// The merged tree readers see: `*effective` is its JSON,
  /// `effective.tree()` its persistent tree (model/config_tree.hpp), each
  /// made from the other on first use. A version built as a tree shares
  /// every subtree it did not change with the version before.
  layer_data effective;
  /// The paths whose values are secrets (null: none); shared by the
  /// versions that have the same ones.
  secret_paths_ptr secrets;
  /// Who wrote it (write_request::author) and why (write_request::reason);
  /// empty when unknown. Last, so that code naming the fields above in
  /// order stays as it was.
  std::string author;
  std::string reason;
  /// The leaf paths at which `effective` differs from the tree of version
  /// `changes_from` (changed_paths), taken from the write that made it; null
  /// when not known (a version restored from disk or installed whole).
  paths_ptr changes;
  uint64_t changes_from = 0;
  /// The digests of every container in `effective` (docs/HASH.md), so that
  /// the next version's hash is computed along its changed paths only.
  std::shared_ptr<const detail::hash_tree> hashes;
  /// The flags of `effective` compiled by their first evaluation
  /// (feature_flags); not part of the value, a copy starts without.
  detail::flags_cache compiled_features{};

  /// Builds a snapshot and computes its hash.
  static snapshot_ptr make(uint64_t version, std::string origin,
                           layer_stack layers, json effective,
                           int64_t timestamp_ms,
                           secret_paths_ptr secrets = nullptr,
                           std::string author = {}, std::string reason = {});

  /// The same for a merged tree held as layer_data (a persistent tree):
  /// hashed on the tree, its JSON made only when read.
  static snapshot_ptr make(uint64_t version, std::string origin,
                           layer_stack layers, layer_data effective,
                           int64_t timestamp_ms,
                           secret_paths_ptr secrets = nullptr,
                           std::string author = {}, std::string reason = {});

  /// `effective`, or a copy with every secret masked (`***`).
  json shown(bool with_secrets) const;

  /// Version 0: no layers, an empty object.
  static snapshot_ptr empty();

  /// `{version, hash, timestamp_ms, origin[, author][, reason], config[,
  /// layers]}`
  json to_json(bool with_layers = false) const;
};

/// Milliseconds since the Unix epoch, now.
int64_t now_ms();

/// The snapshot of `version` in `history` (sorted by version, oldest
/// first), or nullptr.
snapshot_ptr find_version(const std::deque<snapshot_ptr>& history,
                          uint64_t version);

} // namespace cfgactors

// Snapshots are shared immutably between local actors, never serialized: the
// cluster protocol ships patches instead.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::snapshot_ptr)

// Private: what the validator asks the store to commit: an admitted candidate.
#pragma once

#include <cstdint>
#include <string>

#include <caf/allowed_unsafe_message_type.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/layer.hpp"
#include "cfgactors/secrets.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgactors {

struct commit_request {
  layer_stack layers;
  /// The merged tree, built along the write (write/effective_tree.hpp).
  layer_data effective;
  std::string origin;
  secret_paths_ptr secrets; ///< in force for this version
  /// Set when the version was numbered elsewhere (etcd, etcd/README): the
  /// store takes this number, time and hash instead of its own. 0: the next
  /// number, now, computed.
  uint64_t version = 0;
  int64_t timestamp_ms = 0;
  std::string hash;
  /// write_request::author and ::reason, kept with the version.
  std::string author;
  std::string reason;
  /// Where `effective` may differ from the version it was built on, which
  /// is the store's current when the store takes it (each candidate is
  /// built on the one before; a failed batch moves `epoch`): the paths of
  /// the layers the write changed (write/touched.hpp). The store diffs only
  /// below them and hashes along what changed. Null: the whole tree.
  paths_ptr roots;
  /// The failed batches the validator knew of when it built this candidate:
  /// the store refuses a candidate built on a version that failed.
  uint64_t epoch = 0;

  friend bool operator==(const commit_request& x, const commit_request& y) {
    return x.layers == y.layers && x.effective.equals(y.effective)
           && x.origin == y.origin && x.version == y.version
           && x.timestamp_ms == y.timestamp_ms && x.hash == y.hash
           && x.author == y.author && x.reason == y.reason;
  }
};

} // namespace cfgactors

// Validator and store always run in the same process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::commit_request)

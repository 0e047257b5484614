// Private: the messages and typed interfaces of the etcd mode's actors
// (docs/ARCHITECTURE.md, "etcd mode"). All of them stay in one process.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "cfgactors/atoms.hpp"
#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/write_result.hpp"
#include "etcd/etcd_watch.hpp"
#include "etcd/version_record.hpp"

namespace cfgactors::detail {

using adopt_atom = caf::atom_constant<caf::atom("adopt")>;
using etcd_sync_atom = caf::atom_constant<caf::atom("etcdsync")>;
using applied_atom = caf::atom_constant<caf::atom("applied")>;
using health_atom = caf::atom_constant<caf::atom("health")>;
using await_atom = caf::atom_constant<caf::atom("await")>;
using flush_atom = caf::atom_constant<caf::atom("flush")>;
using restart_atom = caf::atom_constant<caf::atom("restart")>;
using want_atom = caf::atom_constant<caf::atom("want")>;

/// A validated candidate, to be committed as `record.version` if etcd's
/// head still is `expect_head` (0: no head yet).
struct etcd_commit {
  uint64_t base = 0; ///< the version the candidate was built on
  uint64_t expect_head = 0;
  version_record record;
};

struct etcd_commit_result {
  enum class outcome : uint8_t {
    committed,   ///< etcd took it
    conflict,    ///< the head moved: `newer` holds what came after `base`
    duplicate,   ///< the idempotency key committed `version` before
    unavailable, ///< no quorum, no endpoint, a timeout: try later
    refused,     ///< etcd said no (permissions, a request too large)
    too_large,   ///< the request would be larger than etcd takes
  };
  outcome what = outcome::unavailable;
  /// conflict, duplicate: etcd's head and what came after `base`, oldest
  /// first (a duplicate's version may be among them: the node installs
  /// them before it answers, so that a read after the answer sees it).
  uint64_t head = 0;
  std::vector<version_record> newer;
  uint64_t version = 0;              ///< duplicate: the first commit's
  std::string hash;
  std::string error; ///< unavailable, refused: what etcd or the net said
};

/// A node as its record in etcd says (under its lease: gone when it is).
struct etcd_node {
  std::string name;
  std::string address; ///< its HTTP API, as it advertises it
  uint64_t applied = 0;
  std::string hash;
  std::string state; ///< `connected` or `stale`, as the node sees itself
  int64_t updated_ms = 0;
};

/// Where the cluster stands: etcd's head and revision, the records after a
/// node's version (at most 64: a sync reads page after page, at the first
/// page's revision), and the live nodes (first page only).
struct etcd_sync_result {
  int64_t revision = 0;
  uint64_t head = 0;
  std::vector<version_record> records; ///< after the base, oldest first
  std::vector<etcd_node> nodes;
};

/// A batch of a watch, tagged with the watch it came from: a batch of a
/// watch that was replaced is dropped.
struct tagged_batch {
  uint64_t watch = 0;
  etcd_watch_batch batch;
};

/// Counters every etcd actor of a node adds to; read by the node's metrics
/// without asking an actor.
struct etcd_counters {
  std::atomic<uint64_t> errors{0};          ///< cfg_etcd_errors_total
  std::atomic<uint64_t> cas_conflicts{0};   ///< cfg_cas_conflicts_total
  std::atomic<uint64_t> commits{0};
  std::atomic<uint64_t> commit_micros{0};   ///< cfg_etcd_commit_seconds sum
  std::atomic<uint64_t> layer_conflicts{0}; ///< cfg_layer_conflicts_total
  std::atomic<uint64_t> resyncs{0};
  std::atomic<uint64_t> hash_mismatches{0};
  std::atomic<bool> stale{true};
  /// Synced once and etcd answers: the validator takes writes (a watch
  /// being re-established does not stop them; compare-and-set keeps them
  /// safe).
  std::atomic<bool> writable{false};
};

using etcd_counters_ptr = std::shared_ptr<etcd_counters>;

/// Commits and reads in etcd, one blocking call at a time (a detached
/// actor with its own connection).
using etcd_committer_actor = caf::typed_actor<
  caf::replies_to<commit_atom, etcd_commit>::with<etcd_commit_result>,
  caf::replies_to<etcd_sync_atom, uint64_t,
                  int64_t>::with<etcd_sync_result>>;

/// Follows etcd's watch; knows the nodes; answers consistency waits.
using etcd_follower_actor = caf::typed_actor<
  caf::reacts_to<health_atom, bool, std::string>,
  caf::replies_to<await_atom, write_result, consistency,
                  uint32_t>::with<consistent_write_result>,
  caf::replies_to<status_atom>::with<replica_status>,
  caf::replies_to<replicas_atom>::with<std::vector<replica_info>>>;

/// Keeps the node's record and lease: the version the node applied, written
/// on the lease's tick, and at once when a majority/all write waits for it
/// (`want`: a version someone waits for; `true`: this node waits and
/// announces it under `acks`); tells the follower (handed to it once
/// spawned) whether etcd answers.
using etcd_presence_actor
  = caf::typed_actor<caf::reacts_to<applied_atom, uint64_t, std::string>,
                     caf::reacts_to<want_atom, uint64_t, bool>,
                     caf::reacts_to<etcd_follower_actor>>;

/// What the validator needs in etcd mode.
struct etcd_hooks {
  etcd_committer_actor committer;
  etcd_presence_actor presence;
  std::string node;
  etcd_counters_ptr counters;
};

} // namespace cfgactors::detail

CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::detail::etcd_commit)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::detail::etcd_commit_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::detail::etcd_sync_result)
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::detail::tagged_batch)

// Private: the validator's state and behavior (the interface is
// validator_actor; what it checks is cfgactors/validator.hpp).
#pragma once

#include <algorithm>
#include <cstdint>
#include <deque>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "cfgactors/contract_registry.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/secrets.hpp"
#include "cfgactors/stats.hpp"
#include "cfgactors/validator.hpp"
#include "contracts/pre_commit_runner.hpp"
#include "core/internal_actor_types.hpp"
#include "etcd/etcd_actor_types.hpp"
#include "write/effective_tree.hpp"

namespace cfgactors {

/// The validator with what only its own node sends it: in etcd mode, the
/// versions other nodes committed, in etcd's order (etcd_follower).
using validator_impl = validator_actor::extend<
  caf::reacts_to<detail::adopt_atom, detail::version_record>,
  caf::reacts_to<detail::resume_atom>>;

/// Keys of keyed writes the validator remembers (committed here or seen in
/// etcd's records), oldest forgotten first.
inline constexpr std::size_t max_idempotency_keys = 10000;

/// Commits handed to the store and not yet answered, at most: a write
/// beyond waits for a slot. Each holds only what its write changed (the
/// rest of its tree is shared with the version before).
inline constexpr std::size_t max_in_flight = 64;

struct validator_state {
  static inline const char* name = "cfgactors.validator";

  validator_options options;
  store_backend_actor store;
  layer_stack layers;   ///< the layers of the current version
  uint64_t version = 0; ///< the current version
  std::string hash;
  /// The current version's snapshot: what a dry run diffs against and what
  /// a refused pre-commit check gives its component again.
  snapshot_ptr current;
  /// The actors that run pre-commit checks, by registry id (pre_commit.hpp).
  std::map<contract_registry::id_type, detail::pre_commit_runner_actor>
    runners;
  /// Runners whose component holds the write under way (its check passed,
  /// or timed out): given `current` again if the write is refused.
  std::vector<detail::pre_commit_runner_actor> pre_committed;
  /// The write being judged is a dry run: its refusal is answered and
  /// logged, but not counted in `stats` (a rehearsal is no failed write).
  bool dry_run = false;
  validator_stats stats;
  /// The merged tree of the newest candidate, which the next is built from.
  detail::effective_tree merged;
  /// The layers of the newest candidate the schema accepted here. While
  /// `layers` are these very layers (the same data, not an equal copy), a
  /// write on them is proved along the paths it changes only; a version
  /// restored from a journal, adopted from etcd or taken back after a failed
  /// commit is judged in full first (it may predate the schema).
  std::optional<layer_stack> proven;
  /// Writes judged on proven layers (the schema proved what they changed).
  uint64_t judged_on_proven = 0;
  /// Paths the schema or any source marked secret: every version carries
  /// them, and their values are masked in every error the validator reports
  /// or logs. A path once secret stays secret.
  secret_paths_ptr secrets;
  /// etcd mode: commits go through etcd (compare-and-set on its head)
  /// before the store; see docs/ARCHITECTURE.md.
  std::optional<detail::etcd_hooks> etcd;
  uint64_t etcd_head = 0; ///< etcd's head as last seen (may trail `version`)
  /// Keyed writes: the client's key -> the version and hash it committed.
  std::unordered_map<std::string, std::pair<uint64_t, std::string>> keyed;
  std::deque<std::string> keyed_order;
  /// etcd mode: the content hash of each source layer this node proposed
  /// last, to tell when another node's source says otherwise.
  std::map<std::string, std::string> own_layers;

  /// Pipelining (docs/ARCHITECTURE.md, "Group commit"): `layers`, `version`
  /// and `hash` are those of the newest *admitted* write, the next write's
  /// base; `current` stays the newest durable version. A commit the store
  /// has not answered yet, oldest first (the store answers in order):
  struct in_flight_commit {
    uint64_t version; ///< the number it is expected to get
    std::string key;  ///< its idempotency key, if any
    /// Writes refused or unchanged on top of it: answered when it is
    /// durable, with its number and hash (or refused if it fails).
    std::vector<std::pair<caf::typed_response_promise<write_result>,
                          write_result>>
      answers;
  };
  std::deque<in_flight_commit> in_flight;
  /// Writes taken but not started: behind a write that must run alone, or
  /// while `max_in_flight` commits are under way. Started in order.
  struct held_write {
    write_request req;
    caf::typed_response_promise<write_result> promise;
  };
  std::deque<held_write> held;
  bool resume_pending = false; ///< a resume message is on its way
  /// The write under way runs alone: no commit is in flight beside it, and
  /// it awaits each answer (nothing else is taken meanwhile).
  bool alone = true;
  /// Failed commits seen (matches the store's count): a candidate carries it
  /// so that the store refuses one built on a version that failed.
  uint64_t epoch = 0;

  void remember_key(const std::string& key, uint64_t version,
                    const std::string& hash) {
    if (key.empty() || keyed.count(key) > 0)
      return;
    keyed.emplace(key, std::make_pair(version, hash));
    keyed_order.push_back(key);
    if (keyed_order.size() > max_idempotency_keys) {
      keyed.erase(keyed_order.front());
      keyed_order.pop_front();
    }
  }
};

validator_impl::behavior_type
validator(validator_impl::stateful_pointer<validator_state> self,
          validator_options options, store_backend_actor store,
          std::optional<detail::etcd_hooks> etcd);

} // namespace cfgactors

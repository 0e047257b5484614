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
#include "write/merge_cache.hpp"

namespace cfgactors {

namespace detail {
class tree_pool;
} // namespace detail

/// The validator with what only its own node sends it: in etcd mode, the
/// versions other nodes committed, in etcd's order (etcd_follower).
using validator_impl = validator_actor::extend<
  caf::reacts_to<detail::adopt_atom, detail::version_record>,
  caf::reacts_to<detail::resume_atom>,
  caf::reacts_to<detail::trim_atom, uint64_t>,
  caf::reacts_to<detail::tree_wait_atom, uint64_t>>;

/// Keys of keyed writes the validator remembers (committed here or seen in
/// etcd's records), oldest forgotten first.
inline constexpr std::size_t max_idempotency_keys = 10000;

/// Commits handed to the store and not yet answered, at most: a write
/// beyond waits for a slot (bounds what candidates in flight hold).
inline constexpr std::size_t max_in_flight = 64;

/// Each commit in flight holds a tree of the config's size: for a large
/// config, fewer are in flight, so that together they hold about this many
/// values (at 100,000 keys, 64 in flight held 1.4 GiB in bench/pipeline).
/// But at least `min_in_flight`: with 4, the validator and the store idled
/// in turn (a third fewer commits per second at 100,000 keys than with 8).
inline constexpr std::size_t in_flight_values = 256 * 1024;
inline constexpr std::size_t min_in_flight = 8;

namespace detail {

/// Commits in flight at most for a config of `values` values.
inline std::size_t in_flight_limit(std::size_t values) {
  return std::clamp(in_flight_values / std::max<std::size_t>(values, 1),
                    min_in_flight, max_in_flight);
}

} // namespace detail

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
  detail::base_merge_cache merge_cache;
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
  /// Trees of snapshots the store let go of, to build candidates in; found
  /// on the first snapshot the store commits (see pipeline/tree_pool.hpp).
  std::shared_ptr<detail::tree_pool> trees;
  /// merge_cache.new_trees the pool has been told of (tree_pool::grow).
  uint64_t new_trees_told = 0;
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
  bool trim_pending = false;   ///< a trim message is on its way
  /// A write waits for a tree to come back to the pool, with nothing in
  /// flight (validator.cpp, wait_for_tree): the wait's number, whether its
  /// timer runs, and whether it ran out (the write copies).
  uint64_t tree_wait = 0;
  bool tree_wait_pending = false;
  bool tree_wait_over = false;
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

// Every typed actor interface of cfgactors, in one place.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "cfgactors/atoms.hpp"
#include "cfgactors/change.hpp"
#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/commit_request.hpp"
#include "cfgactors/diff_result.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/snapshot.hpp"
#include "cfgactors/source_status.hpp"
#include "cfgactors/stats.hpp"
#include "cfgactors/version_info.hpp"
#include "cfgactors/write_result.hpp"

namespace cfgactors {

/// Anything that wants changes: handles a change and answers (the answer is
/// the credit that lets the router send the next one).
using subscriber_actor = caf::typed_actor<caf::reacts_to<change>>;

/// Fans each committed version out to subscribers by path prefix; `stale`
/// tells every subscriber that the node lost (true) or regained (false) its
/// primary.
using topic_router_actor = caf::typed_actor<
  caf::replies_to<subscribe_atom, std::string, subscriber_actor>::with<uint64_t>,
  caf::reacts_to<unsubscribe_atom, uint64_t>,
  caf::reacts_to<publish_atom, snapshot_ptr, snapshot_ptr>,
  caf::reacts_to<stale_atom, bool>,
  caf::replies_to<stats_atom>::with<router_stats>>;

/// Where a store hands every committed version first, before it answers the
/// commit or publishes to the router: the primary's node actor, which streams
/// it to the replicas. Every version arrives, in order, with its predecessor.
using replication_tap_actor
  = caf::typed_actor<caf::reacts_to<publish_atom, snapshot_ptr, snapshot_ptr>>;

/// The system of record: versions, snapshots, history and diffs. Subscribing
/// through the store (it forwards to the router behind every publish it has
/// sent) guarantees that a subscription made after a write was acknowledged
/// never receives that write or an older one. `replicate` installs the one
/// replication tap (replacing any earlier) and answers the current snapshot:
/// the tap gets every version after it.
using store_actor = caf::typed_actor<
  caf::replies_to<subscribe_atom, std::string, subscriber_actor>::with<uint64_t>,
  caf::replies_to<replicate_atom, replication_tap_actor>::with<snapshot_ptr>,
  caf::replies_to<commit_atom, commit_request>::with<snapshot_ptr>,
  caf::replies_to<get_atom>::with<snapshot_ptr>,
  caf::replies_to<get_atom, uint64_t>::with<snapshot_ptr>,
  caf::replies_to<diff_atom, uint64_t, uint64_t>::with<diff_result>,
  caf::replies_to<history_atom, uint64_t, uint32_t>::with<
    std::vector<version_info>>>;

/// The single admission gate and ordering point for writes.
using validator_actor = caf::typed_actor<
  caf::replies_to<write_atom, write_request>::with<write_result>,
  caf::replies_to<stats_atom>::with<validator_stats>>;

/// Anything that takes writes and answers after commit: the validator, a
/// replica (which forwards to the primary) or the primary's node actor all
/// convert to it.
using writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, write_request>::with<write_result>>;

/// A contract guard (contract_guard.hpp): applies each version to one
/// component and rolls back what fails its health check. Stop it with an
/// exit message.
using contract_guard_actor
  = caf::typed_actor<caf::replies_to<stats_atom>::with<guard_stats>>;

/// A source: owns a layer and proposes it to the validator. `reload` re-reads
/// now and answers once the proposal (if any) has been answered.
using source_actor = caf::typed_actor<
  caf::replies_to<status_atom>::with<source_status>,
  caf::replies_to<reload_atom>::with<source_status>>;

/// What the primary sends a replica: the stream and full snapshots.
using replica_link_actor = caf::typed_actor<caf::reacts_to<replicated_change>,
                                            caf::reacts_to<full_snapshot>>;

/// The primary's node actor, published on the cluster port. A replica sends
/// `hello` and `ack` from its link actor (the primary answers the sender);
/// writes go to the validator, with a consistency level and a timeout in ms
/// (0 = the primary's default) when asked. `forget` drops a disconnected
/// replica from the list (and from what `all` waits for).
using primary_actor = caf::typed_actor<
  caf::reacts_to<hello>, caf::reacts_to<ack>,
  caf::replies_to<forget_atom, std::string>::with<bool>,
  caf::replies_to<write_atom, write_request>::with<write_result>,
  caf::replies_to<write_atom, write_request, consistency,
                  uint32_t>::with<consistent_write_result>,
  caf::replies_to<nodes_atom>::with<std::vector<replica_info>>>;

/// A replica: the read side of a store (commit is refused), a link for the
/// primary's stream, and writes forwarded to the primary. `join` hands it a
/// primary to follow (replicas given a host and port find it themselves);
/// `stats` answers its topic router's counters.
using replica_actor = store_actor::extend<
  caf::reacts_to<replicated_change>, caf::reacts_to<full_snapshot>,
  caf::replies_to<write_atom, write_request>::with<write_result>,
  caf::replies_to<write_atom, write_request, consistency,
                  uint32_t>::with<consistent_write_result>,
  caf::replies_to<status_atom>::with<replica_status>,
  caf::replies_to<stats_atom>::with<router_stats>,
  caf::reacts_to<join_atom, primary_actor>>;

} // namespace cfgactors

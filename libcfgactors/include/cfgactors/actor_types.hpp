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
#include "cfgactors/delivery.hpp"
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
/// primary. A subscription with `every_version` also gets the versions that
/// change no value (a layer changed, the tree did not), with no paths: what
/// follows version numbers, like a node's snapshot cell, needs them. A
/// subscription with a `delivery` chooses folding (the default) or every
/// version in order with a bounded queue (delivery.hpp).
using topic_router_actor = caf::typed_actor<
  caf::replies_to<subscribe_atom, std::string, subscriber_actor>::with<uint64_t>,
  caf::replies_to<subscribe_atom, std::string, subscriber_actor,
                  every_version_atom>::with<uint64_t>,
  caf::replies_to<subscribe_atom, std::string, subscriber_actor,
                  delivery>::with<uint64_t>,
  caf::reacts_to<unsubscribe_atom, uint64_t>,
  caf::reacts_to<publish_atom, snapshot_ptr, snapshot_ptr>,
  caf::reacts_to<stale_atom, bool>,
  caf::replies_to<stats_atom>::with<router_stats>>;

/// The read side of a node's configuration: the current and past versions,
/// history, diffs and subscriptions. The store of a primary implements it,
/// and so does a replica from its mirror. Subscribing here (the store
/// forwards to its router behind every publish it has sent) guarantees that
/// a subscription made after a write was acknowledged never receives that
/// write or an older one. `every_version` as for the topic router.
using store_actor = caf::typed_actor<
  caf::replies_to<subscribe_atom, std::string, subscriber_actor>::with<uint64_t>,
  caf::replies_to<subscribe_atom, std::string, subscriber_actor,
                  every_version_atom>::with<uint64_t>,
  caf::replies_to<subscribe_atom, std::string, subscriber_actor,
                  delivery>::with<uint64_t>,
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
/// replica (which forwards to the primary) or the primary all convert to it.
using writer_actor = caf::typed_actor<
  caf::replies_to<write_atom, write_request>::with<write_result>>;

/// Where a node's writes go when they carry a consistency level: the
/// primary (which waits for the replicas' acks as the level asks) or a
/// replica (which forwards to its primary). The timeout is in ms; 0 means
/// the primary's default.
using consistent_writer_actor = writer_actor::extend<
  caf::replies_to<write_atom, write_request, consistency,
                  uint32_t>::with<consistent_write_result>>;

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

} // namespace cfgactors

// Private: the typed interfaces the library keeps to itself, spoken between
// the validator, the store and the cluster actors. The public ones are in
// cfgactors/actor_types.hpp.
#pragma once

#include <string>
#include <vector>

#include <caf/replies_to.hpp>
#include <caf/typed_actor.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/cluster_messages.hpp"
#include "pipeline/commit_request.hpp"

namespace cfgactors {

/// Where a store hands every committed version first, before it answers the
/// commit or publishes to the router: the primary, which streams it to the
/// replicas. Every version arrives, in order, with its predecessor.
using replication_tap_actor
  = caf::typed_actor<caf::reacts_to<publish_atom, snapshot_ptr, snapshot_ptr>>;

/// The store as the validator and the primary see it: the read side plus
/// `commit` (an admitted candidate becomes a version) and `replicate`
/// (installs the one replication tap, replacing any earlier, and answers the
/// current snapshot: the tap gets every version after it).
namespace detail {

/// A journaled store to itself: write the commits collected so far in one
/// transaction (group commit; see pipeline/store.cpp).
using group_flush_atom = caf::atom_constant<caf::atom("gflush")>;

/// The validator to itself: take the writes it held back (see
/// pipeline/validator.cpp).
using resume_atom = caf::atom_constant<caf::atom("resume")>;

} // namespace detail

using store_backend_actor = store_actor::extend<
  caf::replies_to<commit_atom, commit_request>::with<snapshot_ptr>,
  caf::replies_to<replicate_atom, replication_tap_actor>::with<snapshot_ptr>,
  caf::reacts_to<detail::group_flush_atom>>;

/// What the primary sends a replica: the stream and full snapshots.
using replica_link_actor = caf::typed_actor<caf::reacts_to<replicated_change>,
                                            caf::reacts_to<full_snapshot>>;

/// The primary, published on the cluster port. A peer first proves the
/// cluster secret (`auth`, then `auth_proof`; see cluster_messages.hpp);
/// then its replica actor sends `hello` and `ack` (the primary answers the
/// sender) and forwards writes as `linked_write`, each with the session of
/// its handshake. The plain writes, `forget` and `stats` serve actors of the
/// primary's own process only; `replicas` also serves authenticated peers.
using primary_actor = consistent_writer_actor::extend<
  caf::replies_to<auth_atom>::with<auth_challenge>,
  caf::replies_to<auth_proof>::with<auth_accept>,
  caf::reacts_to<hello>, caf::reacts_to<ack>,
  caf::replies_to<linked_write>::with<consistent_write_result>,
  caf::replies_to<forget_atom, std::string>::with<bool>,
  caf::replies_to<replicas_atom>::with<std::vector<replica_info>>,
  caf::replies_to<stats_atom>::with<cluster_stats>>;

/// A replica: the read side of a store, a link for the primary's stream, and
/// writes forwarded to the primary. `join` hands it a primary to follow
/// (replicas given a host and port find it themselves); `stats` answers its
/// topic router's counters; `resync` installs whatever the primary has, and
/// answers the status once it did.
using replica_actor = store_actor::extend_with<consistent_writer_actor>::extend<
  caf::reacts_to<replicated_change>, caf::reacts_to<full_snapshot>,
  caf::replies_to<status_atom>::with<replica_status>,
  caf::replies_to<resync_atom>::with<replica_status>,
  caf::replies_to<stats_atom>::with<router_stats>,
  caf::reacts_to<join_atom, primary_actor>>;

} // namespace cfgactors

// Private: a replica mirrors the primary's store read-only and forwards
// writes. A service gets one through node::replica.
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <string>

#include <caf/actor_system.hpp>

#include "core/internal_actor_types.hpp"
#include "link/link_dialer.hpp"

namespace cfgactors {

struct replica_options {
  std::string node = "replica";
  std::size_t history_size = 100; ///< snapshots kept (at least 1)
  /// Where the primary's cluster port is; empty = wait for `join`.
  /// Connecting needs the middleman (`cfg.load<caf::io::middleman>()`) and
  /// `dialer`.
  std::string host;
  uint16_t port = 0;
  /// Opens the authenticated link (link/link_dialer.hpp) that BASP then
  /// talks through; its options say how long a connect and a handshake
  /// may take. Null: BASP connects to `host:port` itself, as the test DSL
  /// needs (its multiplexer has no real sockets); node::replica always
  /// sets one.
  detail::link_dialer_ptr dialer;
  std::chrono::milliseconds connect_timeout{2000};
  std::chrono::milliseconds min_backoff{100};
  std::chrono::milliseconds max_backoff{5000};
  /// Versions nobody waits for are acked this long after the first of them
  /// was applied, one cumulative ack for all (0: ack every version at once).
  /// A version a majority/all write waits for is acked at once regardless.
  /// The primary's view of this replica (`GET /nodes`) lags by up to this.
  std::chrono::milliseconds ack_delay{20};
  /// The cluster secret this replica proves to its primary, and expects the
  /// primary to prove back (see primary_options::secret).
  std::string secret;
  /// Receive secret values from the primary (cfgd --cluster-secrets). Else
  /// the primary sends every version masked: the replica never holds a
  /// secret, and serves `***` even to readers allowed to see secrets.
  bool secrets = false;
};

/// Spawns a replica: a read-only mirror of the primary's store with its own
/// topic router, so local subscribers and readers use it as a store_actor.
/// It keeps serving its last snapshot while the primary is gone.
replica_actor spawn_replica(caf::actor_system& sys, replica_options options);

} // namespace cfgactors

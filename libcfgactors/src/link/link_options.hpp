// Private: how the cluster link below BASP behaves.
#pragma once

#include <chrono>
#include <cstddef>
#include <string>

namespace cfgactors::detail {

struct link_options {
  /// Both ends prove it; empty on a loopback-only cluster (anyone on the
  /// host can prove that, but the link still bounds what a peer may cost).
  std::string secret;
  /// A peer that has not finished its handshake by then is closed.
  std::chrono::milliseconds handshake_timeout{10000};
  /// A dial that has not connected by then fails (a frozen primary).
  std::chrono::milliseconds connect_timeout{2000};
  /// An empty frame goes out after this long without any other.
  std::chrono::milliseconds heartbeat{1000};
  /// A link that received nothing this long is closed: the other end is
  /// gone or cut off (a partition keeps TCP silent, not closed).
  std::chrono::milliseconds idle_timeout{5000};
  /// Handshakes under way at most, and per remote address; more are closed
  /// at once.
  std::size_t max_pending = 64;
  std::size_t max_pending_per_address = 8;
  /// Authenticated links open at most (a replica holds one).
  std::size_t max_links = 1024;
};

} // namespace cfgactors::detail

// Counters the pipeline actors report (the daemon turns them into metrics).
#pragma once

#include <array>
#include <cstdint>
#include <map>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

namespace cfgactors {

/// Upper bounds, in seconds, of the buckets of the commit latency histogram
/// (a last bucket, +Inf, follows).
inline constexpr std::array<double, 14> commit_latency_bounds{
  0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005, 0.01,
  0.025,  0.05,    0.1,    0.25,  0.5,    1.0,   5.0};

struct validator_stats {
  uint64_t committed = 0;
  uint64_t unchanged = 0;
  uint64_t rejected = 0;
  std::map<std::string, uint64_t> failures_by_rule; ///< per validation rule
  /// Time from a write's arrival to its commit: count per bucket (not
  /// cumulative; the last is +Inf) and the sum in seconds.
  std::vector<uint64_t> commit_latency_counts =
    std::vector<uint64_t>(commit_latency_bounds.size() + 1);
  double commit_latency_sum = 0;
  /// Writes whose merged tree was built whole (the first, or one whose
  /// change cannot be set path by path: src/write/effective_tree.hpp):
  /// each costs the config's size, the others what they change.
  uint64_t tree_copies = 0;

  /// Books one commit that took `seconds`.
  void record_commit(double seconds) {
    std::size_t i = 0;
    while (i < commit_latency_bounds.size()
           && seconds > commit_latency_bounds[i])
      ++i;
    ++commit_latency_counts[i];
    commit_latency_sum += seconds;
  }

  friend bool operator==(const validator_stats& x, const validator_stats& y) {
    return x.committed == y.committed && x.unchanged == y.unchanged
           && x.rejected == y.rejected
           && x.failures_by_rule == y.failures_by_rule
           && x.commit_latency_counts == y.commit_latency_counts
           && x.commit_latency_sum == y.commit_latency_sum
           && x.tree_copies == y.tree_copies;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, validator_stats& x) {
  return f(caf::meta::type_name("validator_stats"), x.committed, x.unchanged,
           x.rejected, x.failures_by_rule, x.commit_latency_counts,
           x.commit_latency_sum, x.tree_copies);
}

struct router_stats {
  uint64_t subscribers = 0;
  uint64_t in_flight = 0;  ///< changes sent and not yet handled
  uint64_t pending = 0;    ///< subscribers with a conflated change waiting
  uint64_t delivered = 0;  ///< change messages sent in total
  uint64_t conflated = 0;  ///< versions folded away for busy subscribers
  uint64_t version = 0;    ///< the newest version the router has published
  uint64_t queued = 0;     ///< versions waiting for every-version subscribers
  uint64_t resyncs = 0;    ///< every-version subscribers that fell too far
                           ///< behind and were resynced (delivery.hpp)

  friend bool operator==(const router_stats& x, const router_stats& y) {
    return x.subscribers == y.subscribers && x.in_flight == y.in_flight
           && x.pending == y.pending && x.delivered == y.delivered
           && x.conflated == y.conflated && x.version == y.version
           && x.queued == y.queued && x.resyncs == y.resyncs;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_stats& x) {
  return f(caf::meta::type_name("router_stats"), x.subscribers, x.in_flight,
           x.pending, x.delivered, x.conflated, x.version, x.queued,
           x.resyncs);
}

/// What a contract guard did (contract_guard.hpp).
struct guard_stats {
  uint64_t applied = 0;         ///< versions applied and found healthy
  uint64_t apply_failures = 0;  ///< versions whose apply threw
  uint64_t health_failures = 0; ///< versions applied but found unhealthy
  uint64_t rollbacks = 0;       ///< rollbacks committed
  uint64_t rollback_failures = 0; ///< rollbacks refused (conflict included)
  uint64_t degraded = 0; ///< failures left in effect: nothing to roll back to
  uint64_t version = 0;  ///< the version applied last (0 = none yet)
  bool healthy = false;  ///< whether that version passed

  friend bool operator==(const guard_stats& x, const guard_stats& y) {
    return x.applied == y.applied && x.apply_failures == y.apply_failures
           && x.health_failures == y.health_failures
           && x.rollbacks == y.rollbacks
           && x.rollback_failures == y.rollback_failures
           && x.degraded == y.degraded && x.version == y.version
           && x.healthy == y.healthy;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, guard_stats& x) {
  return f(caf::meta::type_name("guard_stats"), x.applied, x.apply_failures,
           x.health_failures, x.rollbacks, x.rollback_failures, x.degraded,
           x.version, x.healthy);
}

/// What the primary refused on its cluster link, and who is on it.
struct cluster_stats {
  /// Messages dropped (or answered with an error) by reason:
  /// `unauthenticated`, `bad_proof`, `unknown_nonce`, `name_taken`, ...
  std::map<std::string, uint64_t> refused;
  uint64_t peers = 0;    ///< peers that proved the secret, connected
  uint64_t pending = 0;  ///< handshakes under way
  uint64_t replicas = 0; ///< replicas known (connected or not)

  friend bool operator==(const cluster_stats& x, const cluster_stats& y) {
    return x.refused == y.refused && x.peers == y.peers
           && x.pending == y.pending && x.replicas == y.replicas;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, cluster_stats& x) {
  return f(caf::meta::type_name("cluster_stats"), x.refused, x.peers,
           x.pending, x.replicas);
}

} // namespace cfgactors

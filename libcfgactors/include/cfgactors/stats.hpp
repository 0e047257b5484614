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
           && x.commit_latency_sum == y.commit_latency_sum;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, validator_stats& x) {
  return f(caf::meta::type_name("validator_stats"), x.committed, x.unchanged,
           x.rejected, x.failures_by_rule, x.commit_latency_counts,
           x.commit_latency_sum);
}

struct router_stats {
  uint64_t subscribers = 0;
  uint64_t in_flight = 0;  ///< changes sent and not yet handled
  uint64_t pending = 0;    ///< subscribers with a conflated change waiting
  uint64_t delivered = 0;  ///< change messages sent in total
  uint64_t conflated = 0;  ///< versions folded away for busy subscribers
  uint64_t version = 0;    ///< the newest version the router has published

  friend bool operator==(const router_stats& x, const router_stats& y) {
    return x.subscribers == y.subscribers && x.in_flight == y.in_flight
           && x.pending == y.pending && x.delivered == y.delivered
           && x.conflated == y.conflated && x.version == y.version;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, router_stats& x) {
  return f(caf::meta::type_name("router_stats"), x.subscribers, x.in_flight,
           x.pending, x.delivered, x.conflated, x.version);
}

} // namespace cfgactors

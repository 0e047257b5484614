// Private: what a node owns, shared by the node handle and its transactions.
#pragma once

#include <atomic>
#include <chrono>
#include <future>
#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <string>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/snapshot_cell.hpp"
#include "core/internal_actor_types.hpp"
#include "etcd/etcd_actor_types.hpp"
#include "link/link_context.hpp"
#include "link/link_gate.hpp"
#include "pipeline/pipeline_core.hpp"

namespace cfgactors::detail {

class secret_box;

struct node_impl {
  explicit node_impl(caf::actor_system& sys);

  /// Stops whatever is still running.
  ~node_impl();

  caf::actor_system& sys;
  std::string name;
  bool is_primary = true;
  std::shared_ptr<snapshot_cell> cell = std::make_shared<snapshot_cell>();
  pipeline_core pipeline; ///< a primary's validator, store and router
  primary_actor primary;  ///< a primary's cluster actor
  replica_actor replica;  ///< a replica
  store_actor store;      ///< the store, or the replica's read interface
  /// Where writes go: the primary, or the replica (forwards to the primary).
  consistent_writer_actor writer;
  std::vector<source_actor> sources;
  caf::actor updater;     ///< feeds `cell`
  uint16_t port = 0;      ///< published cluster port
  std::string advertised; ///< where peers reach `port`
  /// The cluster link's thread and, on a primary with a cluster port, its
  /// gate (BASP itself listens nowhere).
  link_context_ptr link;
  link_gate_ptr gate;
  /// Whether a peer came through the gate: BASP then holds the primary as
  /// published at `port` until it is unpublished.
  std::shared_ptr<std::atomic<bool>> published
    = std::make_shared<std::atomic<bool>>(false);
  std::chrono::milliseconds write_timeout{5000};
  /// etcd mode: the actors that commit, keep the node's record and watch.
  etcd_committer_actor etcd_committer;
  etcd_presence_actor etcd_presence;
  etcd_follower_actor etcd_follower;
  etcd_counters_ptr etcd_counters; ///< null: not in etcd mode
  std::shared_ptr<const secret_box> etcd_box; ///< seals secrets in etcd
  etcd_options etcd_client; ///< how to reach etcd (checked by start_etcd)

  /// Sends a write to the primary (or through the replica)
  /// and waits for its answer, then for `cell` to hold its version.
  consistent_write_result write(write_request req, consistency level,
                                std::chrono::milliseconds timeout) const;

  /// Subscribes `worker` (spawned by the node) to the store; ends it on
  /// failure.
  caf::expected<uint64_t> attach(const std::string& prefix, delivery how,
                                 caf::actor worker) const;

  /// Ends a subscription's worker; false if `id` is not live.
  bool detach(uint64_t id, const caf::actor& worker) const;

  bool stopped() const;

  void stop();

private:
  mutable std::mutex mtx_;
  bool stopped_ = false;
  mutable std::map<uint64_t, caf::actor> workers_; ///< by subscription id
};

/// Sends `actors` an exit message and waits until each is gone.
void end_and_wait(caf::actor_system& sys,
                  const std::vector<caf::actor>& actors);

/// A blocking request from a non-actor thread.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(caf::actor_system& sys, const Handle& dest,
                     std::chrono::milliseconds timeout, Ts&&... xs) {
  caf::expected<T> result{caf::error{}};
  caf::scoped_actor self{sys};
  self->request(dest, timeout, std::forward<Ts>(xs)...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

/// Runs `start` with a callback and blocks until it was called: the blocking
/// form of a node's non-blocking calls (whose requests carry a timeout, so
/// the callback always comes).
template <class T, class Start>
caf::expected<T> await_callback(Start&& start) {
  std::promise<caf::expected<T>> result;
  auto answer = result.get_future();
  start([&result](caf::expected<T> x) { result.set_value(std::move(x)); });
  return answer.get();
}

} // namespace cfgactors::detail

// node: the library's front door. A service embeds one node, a primary (the
// pipeline, its sources, optionally published for replicas) or a replica of
// a primary in another process, and reads, writes and subscribes through it.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/change.hpp"
#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/config_view.hpp"
#include "cfgactors/delivery.hpp"
#include "cfgactors/diff_result.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/node_options.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/snapshot.hpp"
#include "cfgactors/snapshot_cell.hpp"
#include "cfgactors/stats.hpp"
#include "cfgactors/version_info.hpp"

namespace cfgactors {

class transaction;

namespace detail {
struct node_impl;
struct link_options;
struct etcd_hooks;
} // namespace detail

/// What a node in etcd mode counted (docs/CLUSTER.md).
struct etcd_stats {
  uint64_t errors = 0;        ///< failed calls to etcd, bad records
  uint64_t cas_conflicts = 0; ///< commits that lost the race for the head
  uint64_t commits = 0;       ///< versions this node committed to etcd
  double commit_seconds = 0;  ///< their time in etcd, summed
  uint64_t layer_conflicts = 0; ///< another node's source said otherwise
  uint64_t resyncs = 0;       ///< compaction, revision gone backwards
  uint64_t hash_mismatches = 0; ///< records whose layers do not hash right
  bool stale = true;          ///< no watch on etcd, or etcd does not answer
};

/// The counters of a node's actors (see node::stats).
struct node_stats {
  std::optional<validator_stats> validator; ///< none on a replica
  router_stats router;
  /// What the primary's cluster link refused, and who is on it; none on a
  /// replica.
  std::optional<cluster_stats> cluster;
  /// In etcd mode only.
  std::optional<etcd_stats> etcd;
};

/// A subscription made through a node: hand it back to `unsubscribe`.
class subscription {
public:
  subscription() = default;

  /// The topic router's id of the subscription (0: none).
  uint64_t id() const noexcept {
    return id_;
  }

  explicit operator bool() const noexcept {
    return id_ != 0;
  }

private:
  friend class node;

  subscription(uint64_t id, caf::actor worker)
    : id_(id), worker_(std::move(worker)) {
    // nop
  }

  uint64_t id_ = 0;
  caf::actor worker_; ///< the actor the node spawned for it
};

/// One node of a cfgactors cluster, as a service uses it:
///
/// ```cpp
/// auto n = cfgactors::node::primary(sys, cfgactors::node_options{}
///                                           .file("config.yaml").env("APP_"));
/// if (!n) { /* sys.render(n.error()) names what and where */ }
/// int size = n->get<int>("buffer_size", 1024); // any thread, no actor
/// n->set("logging.level", "DEBUG");            // blocks until committed
/// ```
///
/// Reads go through the node's snapshot cell (snapshot_cell.hpp), updated by
/// a subscriber actor of the node's store or replica in version order.
/// Writes, history and subscriptions are blocking calls for non-actor
/// threads (they use a `caf::scoped_actor`); do not call them from inside an
/// actor. A node must be destroyed (or stopped) before its actor system.
class node {
public:
  /// Starts a primary: opens the pipeline (and its journal when `data_dir`
  /// is set), spawns the actor that streams versions to replicas and
  /// coordinates consistent writes, publishes it when `cluster_port` is set,
  /// and starts the sources, which must read cleanly.
  /// Returns once the cell holds the resulting version. Fails, leaving
  /// nothing running, with an error naming what and where: a schema that
  /// does not load, a file that does not parse, a journal that cannot be
  /// trusted, a port in use.
  static caf::expected<node> primary(caf::actor_system& sys,
                                     node_options options);

  /// Starts a replica of the primary published at `host:port`; it waits
  /// for the first sync (see node_options::join_timeout). Needs the
  /// middleman. A replica takes its config from the primary only: file,
  /// env, remote, ws, defaults, schema and cluster port are refused here.
  static caf::expected<node> replica(caf::actor_system& sys, std::string host,
                                     uint16_t port, node_options options = {});

  node(node&&) noexcept;
  node& operator=(node&&) noexcept;
  ~node();

  /// Ends the node's actors (sources, subscriptions, primary, pipeline
  /// or replica), closes its published port, and waits until they are gone.
  /// Reads keep answering from the last snapshot. Idempotent.
  void stop();

  // -- identity -------------------------------------------------------------

  bool is_primary() const noexcept;

  /// Whether this primary writes every version to a journal (a data dir)
  /// and so comes back from a restart with its history; false on a replica
  /// and on a primary that keeps versions in memory only.
  bool durable() const noexcept;

  /// Whether the node commits through etcd (node_options::etcd): every such
  /// node takes writes; status(), stale() and replicas() then tell what
  /// etcd says.
  bool in_etcd() const noexcept;

  const std::string& name() const noexcept;

  /// The published cluster port (the bound one when 0 was asked), 0 when
  /// the node publishes none.
  uint16_t cluster_port() const noexcept;

  /// Where peers reach this node's cluster port ("host:port"; empty
  /// without one): node_options::advertise, else the listen address (this
  /// host's name for a wildcard).
  const std::string& advertised() const noexcept;

  /// A replica without its primary serves its last snapshot and is stale;
  /// so is a node in etcd mode without a watch on etcd or while etcd does
  /// not answer. A standalone primary never is.
  bool stale() const;

  /// Where a non-blocking call delivers its answer: once, on a thread of
  /// the actor system, so it must not block either.
  template <class T>
  using callback = std::function<void(caf::expected<T>)>;

  /// The replica's own view (connected, version, resyncs); in etcd mode
  /// the node's view of etcd (stale and why, the cluster's name as
  /// `cluster_id`); an error on a standalone primary.
  caf::expected<replica_status> status() const;

  /// On a replica: follow the primary's history whatever it is. A replica
  /// refuses a primary of another cluster, or one behind its own version
  /// (a primary restarted without its journal): it keeps its snapshot and
  /// reports stale with the reason until told to resync. Returns the status
  /// once the primary's full snapshot is installed (history starts over;
  /// subscribers get the change); errc::invalid_argument on a primary, a
  /// timeout after `write_timeout` if the primary does not answer.
  caf::expected<replica_status> resync() const;

  /// On a primary: the replicas it knows; in etcd mode every node with a
  /// live record in etcd (its applied version as of its last record); an
  /// error on a replica.
  caf::expected<std::vector<replica_info>> replicas() const;

  /// On a primary: drops a disconnected replica from the list and from what
  /// `all` writes wait for; false while it is connected or when unknown. An
  /// error on a replica.
  caf::expected<bool> forget(std::string replica) const;

  /// What the node's actors count (stats.hpp): the validator's outcomes,
  /// failures by rule and commit latencies (a primary only: a replica's
  /// writes are counted by its primary), and the topic router's
  /// subscribers and deliveries.
  caf::expected<node_stats> stats() const;

  /// The same five without blocking the caller: for threads that must never
  /// wait, such as a server's I/O thread.
  void status(callback<replica_status> done) const;
  void resync(callback<replica_status> done) const;
  void replicas(callback<std::vector<replica_info>> done) const;
  void forget(std::string replica, callback<bool> done) const;
  void stats(callback<node_stats> done) const;

  /// The sources the node started, lowest precedence first (none on a
  /// replica): ask them for their `source_status` or to `reload`.
  const std::vector<source_actor>& sources() const noexcept;

  caf::actor_system& system() const noexcept;

  /// The store's read interface (the replica's, on a replica).
  store_actor store() const noexcept;

  /// Where this node's writes go: the primary (which waits for replicas as
  /// a write's consistency level asks), or on a replica the replica (which
  /// forwards to the primary). For actors of your own, e.g.
  /// `spawn_contract_guard(sys, c, n.store(), n.writer())`.
  consistent_writer_actor writer() const noexcept;

  // -- reads: any thread, no actor round trip ---------------------------------

  std::shared_ptr<const snapshot_cell> cell() const noexcept {
    return cell_;
  }

  /// The current snapshot.
  snapshot_ptr snapshot() const {
    return cell_->load();
  }

  uint64_t version() const {
    return cell_->version();
  }

  /// The value at `path` as `T`, or `fallback` when absent or of another
  /// type (see convert.hpp). For a value read often, a `setting<T>` caches
  /// the conversion.
  template <class T>
  T get(std::string_view path, T fallback) const {
    return cell_->get<T>(path, std::move(fallback));
  }

  /// Reads a string; `get("a", "b")` would otherwise deduce `const char*`.
  std::string get(std::string_view path, const char* fallback) const {
    return cell_->get<std::string>(path, fallback);
  }

  /// The value at `path`, or null.
  json get_json(std::string_view path) const {
    return cell_->get_json(path);
  }

  // -- subscriptions ----------------------------------------------------------

  /// Calls `fn` with every change under `prefix` ("" = everything), in
  /// version order, in an actor of its own. A slow callback is sent the
  /// latest change with the skipped versions folded in, never a backlog
  /// (delivery::latest).
  caf::expected<subscription>
  subscribe(std::string prefix, std::function<void(const change&)> fn) const;

  /// As above, delivered as `how` says: `delivery::every_version(n)` calls
  /// `fn` once per version in order, each change a (before, after) pair,
  /// with at most `n` waiting; a callback that falls further behind gets
  /// one change with `resync` set (delivery.hpp). errc::invalid_argument
  /// for an every-version delivery with max_pending 0.
  caf::expected<subscription>
  subscribe(std::string prefix, std::function<void(const change&)> fn,
            delivery how) const;

  /// Sends `who` every change under `prefix`. Ends when `who` does.
  caf::expected<subscription> subscribe_actor(std::string prefix,
                                              subscriber_actor who,
                                              delivery how = {}) const;

  /// Ends a subscription; returns once no callback of it runs any more.
  /// False when `sub` is not a live subscription of this node.
  bool unsubscribe(const subscription& sub) const;

  // -- writes: block until answered -------------------------------------------

  /// Every write returns what happened: `result.status` (committed,
  /// unchanged, rejected with `code` and every error), the version and hash
  /// now current, and for `majority`/`all` which replicas acked and which
  /// are missing. A write that got no answer (node stopped, primary
  /// unreachable, timeout) is `rejected` with errc::unavailable or
  /// errc::timeout. On a replica, writes go to the primary. Once a write
  /// is answered ok, this node's reads see its version (or a newer one).
  /// A timeout of 0 means `node_options::write_timeout`.
  consistent_write_result
  set(std::string path, json value, consistency level = consistency::local,
      std::chrono::milliseconds timeout = {}) const;

  /// Removes `path` from the effective config (a tombstone in the runtime
  /// layer).
  consistent_write_result
  unset(std::string path, consistency level = consistency::local,
        std::chrono::milliseconds timeout = {}) const;

  /// `features.<name>` on or off.
  consistent_write_result
  flag(std::string name, bool enabled, consistency level = consistency::local,
       std::chrono::milliseconds timeout = {}) const;

  /// Restores the layers of `version` as a new version: origin
  /// `rollback:<version>`, author `node:<name>` (write() with a rollback
  /// operation and an author of your own says who).
  consistent_write_result
  rollback(uint64_t version, consistency level = consistency::local,
           std::chrono::milliseconds timeout = {}) const;

  /// Any write request (its origin defaults to `node:<name>`; its author and
  /// reason, empty by default, are kept in the history).
  consistent_write_result
  write(write_request req, consistency level = consistency::local,
        std::chrono::milliseconds timeout = {}) const;

  /// Several operations as one version, all or nothing:
  /// `n.transaction().set("a", 1).unset("b").commit(consistency::all)`.
  cfgactors::transaction transaction() const;

  // -- history ---------------------------------------------------------------

  /// The newest `limit` versions, newest first.
  caf::expected<std::vector<version_info>> history(uint32_t limit = 100) const;

  caf::expected<diff_result> diff(uint64_t from, uint64_t to) const;

  // -- feature flags and per-request overlays ---------------------------------

  /// Evaluates `features.<name>` (flags.hpp) on the current snapshot:
  /// `n.flags().enabled("new_algorithm", {{"tenant", "acme"}, {"user", "42"}})`.
  /// Any thread; the result holds its snapshot, so a series of evaluations
  /// on one `feature_flags` sees one version.
  feature_flags flags() const {
    return feature_flags{snapshot()};
  }

  /// The current snapshot seen through `overlay` (JSON Merge Patch: null
  /// deletes) for one request or tenant, without a new version, e.g.
  /// `n.view(overlay_for(*n.snapshot(), "tenants.acme"))`. Its get<T> and
  /// `feature_flags{view}` see the overlay's values first.
  config_view view(json overlay) const {
    return config_view{snapshot(), std::move(overlay)};
  }

private:
  node(std::shared_ptr<detail::node_impl> state,
       std::shared_ptr<snapshot_cell> cell);

  /// How this node's end of the cluster link behaves.
  static detail::link_options link_options_of(const node_options& opts,
                                              std::string secret);

  /// etcd mode: checks the options, spawns the actors that commit to etcd
  /// and keep the node's record (src/node/node_etcd.cpp).
  static caf::expected<detail::etcd_hooks>
  start_etcd(detail::node_impl& st, const node_options& opts);

  /// etcd mode: the watch, once the pipeline runs; waits for the first
  /// sync up to the join timeout (a node cut off from etcd starts stale).
  static void follow_etcd(detail::node_impl& st, const node_options& opts);

  std::shared_ptr<detail::node_impl> state_;
  std::shared_ptr<snapshot_cell> cell_;
};

} // namespace cfgactors

#include "cfgactors/transaction.hpp"

#include "cfgactors/node.hpp"

#include <atomic>
#include <thread>
#include <utility>

#include <unistd.h>

#include <caf/io/middleman.hpp>

#include "cfgactors/errc.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/sources.hpp"
#include "cfgactors/async_request.hpp"
#include "cfgactors/transaction.hpp"
#include "cluster/cluster_secret.hpp"
#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "core/log.hpp"
#include "link/link_dialer.hpp"
#include "link/primary_gate.hpp"
#include "node/node_actors.hpp"
#include "node/node_impl.hpp"

namespace cfgactors {

namespace {

using namespace std::chrono_literals;
using std::chrono::milliseconds;

/// How long a primary waits for its first version to reach the cell.
constexpr milliseconds startup_timeout{30s};

/// How long the cluster view and the counters wait for an actor.
constexpr milliseconds admin_timeout{5s};

/// The two actors that answer router counters: a primary's topic router and
/// a replica (which delegates to its own).
using router_stats_source
  = caf::typed_actor<caf::replies_to<stats_atom>::with<router_stats>>;

/// The cluster secret the options give, read from its file if they name
/// one.
caf::expected<std::string> secret_of(const std::string& secret,
                                     const std::string& file) {
  if (!file.empty())
    return detail::read_cluster_secret(file);
  if (!secret.empty() && secret.size() < detail::min_cluster_secret)
    return make_error(errc::invalid_argument,
                      "cluster secret: must hold at least "
                        + std::to_string(detail::min_cluster_secret)
                        + " bytes");
  return secret;
}

caf::error needs_middleman(const std::string& what) {
  return make_error(errc::invalid_argument,
                    what + " needs the middleman: load caf::io::middleman "
                           "into the actor system's config");
}

/// `replica-<pid>-<n>`: unique among the replicas of one host.
std::string default_replica_name() {
  static std::atomic<int> count{0};
  return "replica-" + std::to_string(::getpid()) + "-"
         + std::to_string(++count);
}

} // namespace

/// How the node's end of the cluster link behaves.
detail::link_options node::link_options_of(const node_options& opts,
                                           std::string secret) {
  detail::link_options out;
  out.secret = std::move(secret);
  out.handshake_timeout = opts.handshake_timeout_;
  out.connect_timeout = opts.connect_timeout_;
  out.idle_timeout = opts.link_timeout_;
  // Four heartbeats fit in the idle timeout: one lost or late frame does
  // not end a link.
  out.heartbeat = std::max(milliseconds{10}, opts.link_timeout_ / 4);
  out.max_pending = opts.max_pending_;
  return out;
}

node::node(std::shared_ptr<detail::node_impl> state,
           std::shared_ptr<snapshot_cell> cell)
  : state_(std::move(state)), cell_(std::move(cell)) {
  // nop
}

node::node(node&&) noexcept = default;

node& node::operator=(node&& other) noexcept {
  if (this != &other) {
    if (state_)
      state_->stop();
    state_ = std::move(other.state_);
    cell_ = std::move(other.cell_);
  }
  return *this;
}

node::~node() {
  if (state_)
    state_->stop();
}

void node::stop() {
  if (state_)
    state_->stop();
}

caf::expected<node> node::primary(caf::actor_system& sys,
                                  node_options options) {
  auto& opts = options;
  auto st = std::make_shared<detail::node_impl>(sys);
  st->name = opts.node_name_.empty() ? "primary" : opts.node_name_;
  st->write_timeout = opts.write_timeout_;
  if (opts.cluster_port_ && !sys.has_middleman())
    return needs_middleman("cluster_port");
  if (opts.cluster_secrets_)
    return make_error(errc::invalid_argument,
                      "`cluster_secrets` belongs on a replica: a primary "
                      "holds every secret");
  auto secret = secret_of(opts.cluster_secret_, opts.cluster_secret_file_);
  if (!secret)
    return std::move(secret.error());
  // Without a secret anyone who reaches the port can join: only this host
  // may reach it.
  if (opts.cluster_port_ && secret->empty()
      && !detail::is_loopback_address(opts.cluster_address_))
    return make_error(errc::invalid_argument,
                      "cluster port on " + (opts.cluster_address_.empty()
                                              ? std::string{"every address"}
                                              : opts.cluster_address_)
                        + " needs a cluster secret (cluster_secret_file / "
                          "--cluster-secret-file): only a loopback address "
                          "may go without one");
  auto schema = opts.schema_;
  if (!opts.schema_path_.empty()) {
    std::string err;
    schema = json_schema::from_file(opts.schema_path_, &err);
    if (!schema)
      return make_error(errc::parse_failed, "schema " + err);
  }
  pipeline_options popts;
  popts.validation.schema = schema;
  // The caller's rules, plus the structure of feature flags: a malformed
  // flag is refused at write time, with its path.
  auto rules = opts.rules_ ? *opts.rules_ : rule_set{};
  add_feature_rules(rules);
  popts.validation.rules = std::make_shared<const rule_set>(std::move(rules));
  popts.validation.contracts = opts.contracts_;
  popts.storage.history_size = opts.history_;
  popts.storage.data_dir = opts.data_dir_;
  popts.storage.retention = opts.retention_;
  popts.storage.secrets_key_file = opts.secrets_key_file_;
  std::optional<detail::etcd_hooks> hooks;
  if (!opts.etcd_endpoints_.empty() || !opts.etcd_cluster_.empty()) {
    if (opts.etcd_endpoints_.empty())
      return make_error(errc::invalid_argument,
                        "etcd: a cluster name needs endpoints (--etcd)");
    auto started = start_etcd(*st, opts);
    if (!started)
      return std::move(started.error());
    hooks = std::move(*started);
  }
  // A journal that cannot be opened or trusted stops here: starting empty
  // would hand out version numbers already used.
  auto opened = detail::open_pipeline_core(sys, std::move(popts), hooks);
  if (!opened)
    return std::move(opened.error());
  st->pipeline = std::move(*opened);
  st->store = st->pipeline.store;
  if (hooks)
    follow_etcd(*st, opts);
  primary_options prim;
  prim.follower = st->etcd_follower;
  prim.node = st->name;
  prim.write_timeout = opts.write_timeout_;
  prim.forget_after = opts.forget_after_;
  prim.secret = *secret;
  prim.max_replicas = opts.max_replicas_;
  prim.handshake_timeout = opts.handshake_timeout_;
  prim.cluster_id = st->pipeline.cluster_id;
  prim.epoch = st->pipeline.epoch;
  // Without a journal every version lives in memory only: a restart starts
  // again at version 1 (another cluster id), and replicas, which hold
  // versions this process will not remember, refuse it until resynced.
  if (!st->pipeline.durable && !hooks)
    detail::log().warn("event=primary_not_durable node=\"{}\" cluster_id={} "
                       "detail=\"no data dir: the history is not durable; a "
                       "restart starts a new history{}\"",
                       st->name, prim.cluster_id,
                       opts.cluster_port_ ? ", which replicas refuse until "
                                            "resynced"
                                          : "");
  st->primary = spawn_primary(sys, st->pipeline.store,
                              st->pipeline.validator, prim);
  st->writer = st->primary;
  st->updater = detail::spawn_cell_updater(sys, st->cell, st->store);
  // From here on, a failure stops what runs (st's destructor) before it
  // returns the error.
  if (opts.cluster_port_) {
    // The gate owns the port; BASP gets each peer that proved the secret.
    st->link = std::make_shared<detail::link_context>();
    auto gate = detail::open_primary_gate(
      sys, st->link, st->primary, opts.cluster_address_, *opts.cluster_port_,
      link_options_of(opts, prim.secret), st->published);
    if (!gate)
      return std::move(gate.error());
    st->gate = std::move(*gate);
    st->port = st->gate->port();
    st->advertised = opts.advertise_;
    if (st->advertised.empty()) {
      auto& addr = opts.cluster_address_;
      auto wildcard = addr.empty() || addr == "0.0.0.0" || addr == "::";
      std::string host = addr;
      if (wildcard) {
        char name[256] = {};
        ::gethostname(name, sizeof(name) - 1);
        host = name;
        detail::log().warn("event=cluster_listening_everywhere port={} "
                           "advertised=\"{}:{}\" hint=\"set advertise "
                           "(--advertise) to the address peers use\"",
                           st->port, host, st->port);
      }
      if (host.find(':') != std::string::npos)
        host = "[" + host + "]";
      st->advertised = host + ":" + std::to_string(st->port);
    }
  }
  if (hooks) {
    // Versions other nodes committed first, then this node's own layers on
    // top of them (an identical layer makes no version).
    auto deadline = std::chrono::steady_clock::now() + opts.join_timeout_;
    bool synced = false;
    while (!synced && std::chrono::steady_clock::now() < deadline) {
      auto status = detail::ask<replica_status>(sys, st->etcd_follower,
                                                admin_timeout,
                                                status_atom::value);
      synced = status && !status->stale;
      if (!synced)
        std::this_thread::sleep_for(20ms);
    }
    if (!synced)
      detail::log().warn("event=etcd_not_synced node=\"{}\" detail=\"no "
                         "answer from etcd: serving the journal's version, "
                         "stale; writes answer unavailable until it "
                         "answers\"",
                         st->name);
  }
  if (opts.defaults_) {
    write_request req{{operation::replace_layer(std::string{defaults_layer},
                                                std::move(*opts.defaults_))},
                      opts.defaults_origin_, 0, {}};
    auto res = st->write(std::move(req), consistency::local, startup_timeout);
    if (!res.result.ok() && hooks && res.result.code == errc::unavailable)
      detail::log().warn("event=etcd_defaults_not_proposed node=\"{}\" "
                         "error=\"{}\"",
                         st->name, detail::escaped(res.result.describe()));
    else if (!res.result.ok())
      return make_error(res.result.code,
                        "defaults " + res.result.describe());
  }
  sources_options sopts;
  sopts.files.files = std::move(opts.files_);
  sopts.files.debounce = opts.file_debounce_;
  sopts.files.poll_interval = opts.file_poll_;
  if (opts.env_prefix_) {
    auto env = opts.env_options_.value_or(env_source_options{});
    env.prefix = *opts.env_prefix_;
    env.poll_interval = opts.env_poll_;
    env.schema = schema;
    sopts.env = std::move(env);
  }
  if (!opts.remote_.empty()) {
    http_source_options http;
    http.endpoint = opts.remote_;
    http.token = opts.remote_token_;
    http.interval = opts.remote_poll_;
    http.error_backoff = opts.remote_backoff_;
    http.max_backoff = opts.remote_max_backoff_;
    http.ca_file = opts.remote_ca_file_;
    http.cert_file = opts.remote_cert_file_;
    http.key_file = opts.remote_key_file_;
    if (auto why = options_error(http); !why.empty())
      return make_error(errc::invalid_argument, why);
    sopts.remote = std::move(http);
  }
  if (!opts.ws_.empty()) {
    ws_source_options ws;
    ws.endpoint = opts.ws_;
    ws.token = opts.ws_token_;
    ws.service = opts.ws_service_.empty() ? st->name : opts.ws_service_;
    ws.service_version = opts.ws_service_version_;
    ws.min_backoff = opts.ws_min_backoff_;
    ws.max_backoff = opts.ws_max_backoff_;
    ws.heartbeat = opts.ws_heartbeat_;
    ws.ca_file = opts.ws_ca_file_;
    ws.cert_file = opts.ws_cert_file_;
    ws.key_file = opts.ws_key_file_;
    if (auto why = options_error(ws); !why.empty())
      return make_error(errc::invalid_argument, why);
    sopts.ws = std::move(ws);
  }
  if (opts.remote_required_) {
    if (opts.remote_required_->count() <= 0)
      return make_error(errc::invalid_argument,
                        "remote_required: the timeout must be positive, got "
                          + std::to_string(opts.remote_required_->count())
                          + " ms");
    if (!sopts.remote && !sopts.ws)
      return make_error(errc::invalid_argument,
                        "remote_required: no remote (remote or ws) is set");
    sopts.remote_required = opts.remote_required_;
  }
  auto sources = spawn_sources(sys, st->pipeline.validator, st->store,
                               std::move(sopts));
  if (!sources)
    return std::move(sources.error());
  st->sources = std::move(*sources);
  auto current = detail::ask<snapshot_ptr>(sys, st->store, startup_timeout,
                                           get_atom::value);
  if (!current)
    return std::move(current.error());
  if (!st->cell->wait_for((*current)->version, startup_timeout))
    return make_error(errc::timeout, "version "
                                       + std::to_string((*current)->version)
                                       + " did not reach the node's readers");
  detail::log().info("event=node_started role=primary node=\"{}\" version={} "
                     "port={} sources={} cluster_id={} epoch={}",
                     st->name, (*current)->version, st->port,
                     st->sources.size(), prim.cluster_id, prim.epoch);
  auto cell = st->cell;
  return node{std::move(st), std::move(cell)};
}

caf::expected<node> node::replica(caf::actor_system& sys, std::string host,
                                  uint16_t port, node_options options) {
  auto& opts = options;
  if (!sys.has_middleman())
    return needs_middleman("a replica");
  // A replica takes its config from the primary only.
  auto refused = [&]() -> std::string {
    if (!opts.files_.empty())
      return "file";
    if (opts.env_prefix_)
      return "env";
    if (!opts.remote_.empty())
      return "remote";
    if (!opts.ws_.empty())
      return "ws";
    if (opts.defaults_)
      return "defaults";
    if (opts.schema_ || !opts.schema_path_.empty())
      return "schema";
    if (!opts.data_dir_.empty())
      return "data_dir";
    if (opts.contracts_) // vetoes are the primary's validator's job
      return "contracts";
    if (opts.cluster_port_)
      return "cluster_port";
    return {};
  }();
  if (!refused.empty())
    return make_error(errc::invalid_argument,
                      "a replica takes its configuration from the primary: "
                      "`" + refused + "` belongs on the primary");
  auto secret = secret_of(opts.cluster_secret_, opts.cluster_secret_file_);
  if (!secret)
    return std::move(secret.error());
  auto st = std::make_shared<detail::node_impl>(sys);
  st->name = opts.node_name_.empty() ? default_replica_name()
                                     : opts.node_name_;
  st->is_primary = false;
  st->write_timeout = opts.write_timeout_;
  replica_options ropts;
  ropts.node = st->name;
  ropts.history_size = opts.history_;
  ropts.host = host;
  ropts.port = port;
  ropts.min_backoff = opts.min_backoff_;
  ropts.max_backoff = opts.max_backoff_;
  ropts.ack_delay = opts.ack_delay_;
  ropts.secret = *secret;
  st->link = std::make_shared<detail::link_context>();
  ropts.dialer = std::make_shared<detail::link_dialer>(
    st->link, link_options_of(opts, std::move(*secret)));
  ropts.connect_timeout = opts.connect_timeout_;
  ropts.secrets = opts.cluster_secrets_;
  st->replica = spawn_replica(sys, std::move(ropts));
  st->store = st->replica;
  st->writer = st->replica;
  st->updater = detail::spawn_cell_updater(sys, st->cell, st->store);
  auto wait = opts.join_timeout_;
  if (wait.count() > 0) {
    // The replica connects on its own; poll its view until it is in sync.
    auto deadline = std::chrono::steady_clock::now() + wait;
    std::optional<replica_status> synced;
    do {
      auto status = detail::ask<replica_status>(sys, st->replica, wait,
                                                status_atom::value);
      if (status && status->connected) {
        synced = std::move(*status);
        break;
      }
      std::this_thread::sleep_for(10ms);
    } while (std::chrono::steady_clock::now() < deadline);
    if (!synced)
      return make_error(errc::unavailable,
                        "no primary at " + host + ":" + std::to_string(port)
                          + " within " + std::to_string(wait.count())
                          + " ms");
    if (!st->cell->wait_for(synced->version, wait))
      return make_error(errc::timeout,
                        "version " + std::to_string(synced->version)
                          + " did not reach the node's readers");
  }
  detail::log().info("event=node_started role=replica node=\"{}\" "
                     "primary={}:{} version={}",
                     st->name, host, port, st->cell->load()->version);
  auto cell = st->cell;
  return node{std::move(st), std::move(cell)};
}

bool node::is_primary() const noexcept {
  return state_->is_primary;
}

bool node::durable() const noexcept {
  // In etcd mode the history lives in etcd, whatever the local cache.
  return state_->is_primary
         && (state_->pipeline.durable || state_->etcd_follower);
}

const std::string& node::name() const noexcept {
  return state_->name;
}

uint16_t node::cluster_port() const noexcept {
  return state_->port;
}

const std::string& node::advertised() const noexcept {
  return state_->advertised;
}

bool node::in_etcd() const noexcept {
  return state_->etcd_counters != nullptr;
}

bool node::stale() const {
  if (in_etcd())
    return state_->etcd_counters->stale;
  if (state_->is_primary)
    return false;
  auto st = status();
  return !st || st->stale;
}

caf::expected<replica_status> node::status() const {
  return detail::await_callback<replica_status>(
    [this](auto done) { status(std::move(done)); });
}

void node::status(callback<replica_status> done) const {
  if (in_etcd())
    return async_request<replica_status>(state_->sys, state_->etcd_follower,
                                         admin_timeout, std::move(done),
                                         status_atom::value);
  if (state_->is_primary)
    return done(make_error(errc::invalid_argument,
                           "a primary has no replica status"));
  async_request<replica_status>(state_->sys, state_->replica, admin_timeout,
                                std::move(done), status_atom::value);
}

caf::expected<std::vector<replica_info>> node::replicas() const {
  return detail::await_callback<std::vector<replica_info>>(
    [this](auto done) { replicas(std::move(done)); });
}

caf::expected<replica_status> node::resync() const {
  return detail::await_callback<replica_status>(
    [this](auto done) { resync(std::move(done)); });
}

void node::resync(callback<replica_status> done) const {
  if (state_->is_primary)
    return done(make_error(errc::invalid_argument,
                           "a primary has no primary to resync from"));
  // The full snapshot comes from the primary: as long as a write may take.
  async_request<replica_status>(state_->sys, state_->replica,
                                state_->write_timeout, std::move(done),
                                resync_atom::value);
}

void node::replicas(callback<std::vector<replica_info>> done) const {
  if (in_etcd())
    return async_request<std::vector<replica_info>>(
      state_->sys, state_->etcd_follower, admin_timeout, std::move(done),
      replicas_atom::value);
  if (!state_->is_primary)
    return done(make_error(errc::invalid_argument,
                           "a replica does not know the other replicas"));
  async_request<std::vector<replica_info>>(state_->sys, state_->primary,
                                           admin_timeout, std::move(done),
                                           replicas_atom::value);
}

caf::expected<bool> node::forget(std::string replica) const {
  return detail::await_callback<bool>([this, &replica](auto done) {
    forget(std::move(replica), std::move(done));
  });
}

void node::forget(std::string replica, callback<bool> done) const {
  if (!state_->is_primary)
    return done(make_error(errc::invalid_argument,
                           "only the primary keeps a list of replicas"));
  async_request<bool>(state_->sys, state_->primary, admin_timeout,
                      std::move(done), forget_atom::value, std::move(replica));
}

const std::vector<source_actor>& node::sources() const noexcept {
  return state_->sources;
}

caf::expected<node_stats> node::stats() const {
  return detail::await_callback<node_stats>(
    [this](auto done) { stats(std::move(done)); });
}

void node::stats(callback<node_stats> done) const {
  auto& st = *state_;
  // The router's counters, and before them the validator's on a primary.
  auto with_router = [&sys = st.sys, done](const router_stats_source& router,
                                           node_stats out) {
    async_request<router_stats>(
      sys, router, admin_timeout,
      [done, out = std::move(out)](caf::expected<router_stats> r) mutable {
        if (!r)
          return done(std::move(r.error()));
        out.router = std::move(*r);
        done(std::move(out));
      },
      stats_atom::value);
  };
  if (!st.is_primary)
    return with_router(st.replica, {});
  // Then the primary's cluster counters, then the router's.
  auto with_cluster = [&sys = st.sys, with_router, primary = st.primary,
                       router = st.pipeline.router, gate = st.gate,
                       counters = st.etcd_counters, done](node_stats out) {
    async_request<cluster_stats>(
      sys, primary, admin_timeout,
      [with_router, router, done, gate, counters,
       out = std::move(out)](caf::expected<cluster_stats> c) mutable {
        if (!c)
          return done(std::move(c.error()));
        // What the gate refused before BASP saw a byte, beside what the
        // primary refused after.
        if (gate) {
          for (auto& [reason, n] : gate->refused())
            c->refused[reason] += n;
          c->pending += gate->pending();
        }
        out.cluster = std::move(*c);
        if (counters) {
          etcd_stats e;
          e.errors = counters->errors;
          e.cas_conflicts = counters->cas_conflicts;
          e.commits = counters->commits;
          e.commit_seconds = static_cast<double>(counters->commit_micros)
                             / 1e6;
          e.layer_conflicts = counters->layer_conflicts;
          e.resyncs = counters->resyncs;
          e.hash_mismatches = counters->hash_mismatches;
          e.stale = counters->stale;
          out.etcd = e;
        }
        with_router(router, std::move(out));
      },
      stats_atom::value);
  };
  async_request<validator_stats>(
    st.sys, st.pipeline.validator, admin_timeout,
    [with_cluster, done](caf::expected<validator_stats> v) {
      if (!v)
        return done(std::move(v.error()));
      node_stats out;
      out.validator = std::move(*v);
      with_cluster(std::move(out));
    },
    stats_atom::value);
}

caf::actor_system& node::system() const noexcept {
  return state_->sys;
}

store_actor node::store() const noexcept {
  return state_->store;
}

consistent_writer_actor node::writer() const noexcept {
  return state_->writer;
}

caf::expected<subscription>
node::subscribe(std::string prefix,
                std::function<void(const change&)> fn) const {
  return subscribe(std::move(prefix), std::move(fn), delivery::latest());
}

namespace {

caf::error check_delivery(const delivery& how) {
  if (how.mode == delivery_mode::every_version && how.max_pending == 0)
    return make_error(errc::invalid_argument,
                      "delivery::every_version needs max_pending >= 1");
  return {};
}

} // namespace

caf::expected<subscription>
node::subscribe(std::string prefix, std::function<void(const change&)> fn,
                delivery how) const {
  if (auto err = check_delivery(how))
    return err;
  auto worker = detail::spawn_callback_subscriber(state_->sys, std::move(fn));
  auto id = state_->attach(prefix, how, worker);
  if (!id)
    return std::move(id.error());
  return subscription{*id, std::move(worker)};
}

caf::expected<subscription> node::subscribe_actor(std::string prefix,
                                                  subscriber_actor who,
                                                  delivery how) const {
  if (auto err = check_delivery(how))
    return err;
  auto worker = detail::spawn_forwarder(state_->sys, std::move(who));
  auto id = state_->attach(prefix, how, worker);
  if (!id)
    return std::move(id.error());
  return subscription{*id, std::move(worker)};
}

bool node::unsubscribe(const subscription& sub) const {
  return sub && state_->detach(sub.id_, sub.worker_);
}

consistent_write_result node::set(std::string path, json value,
                                  consistency level,
                                  milliseconds timeout) const {
  return write({{operation::set(std::move(path), std::move(value))}, {}, 0, {}},
               level, timeout);
}

consistent_write_result node::unset(std::string path, consistency level,
                                    milliseconds timeout) const {
  return write({{operation::unset(std::move(path))}, {}, 0, {}}, level,
               timeout);
}

consistent_write_result node::flag(std::string name, bool enabled,
                                   consistency level,
                                   milliseconds timeout) const {
  return write({{operation::flag(std::move(name), enabled)}, {}, 0, {}},
               level, timeout);
}

consistent_write_result node::rollback(uint64_t version, consistency level,
                                       milliseconds timeout) const {
  return write({{operation::rollback(version)}, {}, 0, {}}, level, timeout);
}

consistent_write_result node::write(write_request req, consistency level,
                                    milliseconds timeout) const {
  return state_->write(std::move(req), level, timeout);
}

cfgactors::transaction node::transaction() const {
  return cfgactors::transaction{state_};
}

caf::expected<std::vector<version_info>>
node::history(uint32_t limit) const {
  return detail::ask<std::vector<version_info>>(
    state_->sys, state_->store, milliseconds{10s}, history_atom::value,
    uint64_t{0}, limit);
}

caf::expected<diff_result> node::diff(uint64_t from, uint64_t to) const {
  return detail::ask<diff_result>(state_->sys, state_->store,
                                  milliseconds{10s}, diff_atom::value, from,
                                  to);
}

} // namespace cfgactors

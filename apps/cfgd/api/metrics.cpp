// Metrics are read from the actors at scrape time, so they are as fresh as a
// GET /config and cost nothing between scrapes.
#include "api/metrics.hpp"

#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <caf/config.hpp>

#include "cfgactors/async_request.hpp"
#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/replica_state.hpp"
#include "cfgactors/stats.hpp"

#include "api/context.hpp"
#include "api/prometheus.hpp"
#include "api/request_metrics.hpp"
#include "api/ofrep_events.hpp"
#include "api/ws.hpp"

// Set by CMake for cfgd; a build without them (the fuzz targets) says so.
#ifndef CFGD_VERSION
#  define CFGD_VERSION "unknown"
#endif
#ifndef CFGD_COMMIT
#  define CFGD_COMMIT "unknown"
#endif

namespace cfgd {

namespace {

std::string caf_version() {
  return std::to_string(CAF_MAJOR_VERSION) + "."
         + std::to_string(CAF_MINOR_VERSION) + "."
         + std::to_string(CAF_PATCH_VERSION);
}

/// What every node's page starts with: which build this is.
void write_build_info(prometheus::writer& w) {
  w.family("cfg_build_info", "gauge",
           "Always 1; the labels name cfgd's version, the commit it was "
           "configured from and the CAF version it runs on.");
  w.sample("cfg_build_info",
           {{"version", CFGD_VERSION},
            {"commit", CFGD_COMMIT},
            {"caf", caf_version()}},
           1);
}

/// A replica has no validator or router of its own: its version and
/// whether it is stale.
http::response replica_metrics(const http::request_context& rc,
                               const cfgactors::replica_status& st,
                               const request_metrics& requests) {
  prometheus::writer w;
  write_build_info(w);
  requests.write(w);
  w.family("cfg_version", "gauge", "The current config version.");
  w.sample("cfg_version", static_cast<double>(st.version));
  w.family("cfg_stale", "gauge",
           "1 while this replica has no connection to its primary.");
  w.sample("cfg_stale", st.stale ? 1.0 : 0.0);
  w.family("cfg_replica_resyncs_total", "counter",
           "Full snapshots asked for after a gap or a hash mismatch.");
  w.sample("cfg_replica_resyncs_total", static_cast<double>(st.resyncs));
  http::response res{http::status::ok, rc.req.version()};
  res.set(boost::beast::http::field::server, "cfgd");
  res.set(boost::beast::http::field::content_type,
          "text/plain; version=0.0.4; charset=utf-8");
  res.body() = w.text();
  return res;
}

/// What a primary's scrape gathers from its actors, asked all at once; the
/// last answer to arrive renders the page.
struct scrape {
  std::mutex mtx;
  int pending = 0;
  caf::error error; ///< the first failure: the scrape answers with it
  cfgactors::node_stats stats;
  cfgactors::snapshot_ptr snap;
  std::vector<std::optional<cfgactors::source_status>> sources;
  /// The commit time of each source's last version (0 = not known).
  std::vector<int64_t> source_changed_ms;
  std::vector<cfgactors::replica_info> replicas;
  std::size_t ws_clients = 0;
  std::size_t ofrep_streams = 0;
  uint64_t ofrep_refused = 0;
  uint64_t ofrep_dropped = 0;
};

/// Each source's reads, failures and accepted proposals, and when it last
/// succeeded and last changed the config, labelled by its layer and kind.
void write_source_counters(prometheus::writer& w, const scrape& sc) {
  auto each = [&](const char* name, const char* type, const char* help,
                  auto value) {
    w.family(name, type, help);
    for (std::size_t i = 0; i < sc.sources.size(); ++i)
      if (auto& st = sc.sources[i])
        w.sample(name, {{"source", st->layer}, {"kind", st->kind}},
                 value(*st, i));
  };
  using status = cfgactors::source_status;
  each("cfg_source_reads_total", "counter",
       "Reads, polls or messages a source handled.",
       [](const status& st, std::size_t) {
         return static_cast<double>(st.reads);
       });
  each("cfg_source_errors_total", "counter",
       "A source's failures: reads that failed and proposals the validator "
       "refused (the last good layer stayed).",
       [](const status& st, std::size_t) {
         return static_cast<double>(st.errors + st.rejected);
       });
  each("cfg_source_successes_total", "counter",
       "A source's proposals the validator accepted (a new version or no "
       "change).",
       [](const status& st, std::size_t) {
         return static_cast<double>(st.committed + st.unchanged);
       });
  each("cfg_source_last_success_timestamp_seconds", "gauge",
       "Unix time of a source's last good read; 0 = never.",
       [](const status& st, std::size_t) {
         return static_cast<double>(st.last_success_ms) / 1000.0;
       });
  each("cfg_source_last_error_timestamp_seconds", "gauge",
       "Unix time of a source's last failure; 0 = never.",
       [](const status& st, std::size_t) {
         return static_cast<double>(st.last_error_ms) / 1000.0;
       });
  each("cfg_source_last_change_timestamp_seconds", "gauge",
       "Unix time of the commit of the last version a source made; 0 = "
       "none (or no longer in the history).",
       [&sc](const status&, std::size_t i) {
         return static_cast<double>(sc.source_changed_ms[i]) / 1000.0;
       });
}

http::response primary_metrics(const http::request_context& rc,
                               const scrape& sc, bool durable,
                               const request_metrics& requests) {
  auto& vstats = sc.stats.validator; // always there on a primary
  auto& rstats = sc.stats.router;
  auto& snap = sc.snap;
  prometheus::writer w;
  write_build_info(w);
  requests.write(w);
  w.family("cfg_history_durable", "gauge",
           "1 when every version is journaled (a data dir, or etcd); 0 when "
           "the history lives in memory and a restart starts a new one.");
  w.sample("cfg_history_durable", durable ? 1.0 : 0.0);
  w.family("cfg_updates_total", "counter",
           "Writes answered by the validator, by outcome.");
  w.sample("cfg_updates_total", {{"status", "committed"}},
           static_cast<double>(vstats->committed));
  w.sample("cfg_updates_total", {{"status", "unchanged"}},
           static_cast<double>(vstats->unchanged));
  w.sample("cfg_updates_total", {{"status", "rejected"}},
           static_cast<double>(vstats->rejected));
  w.family("cfg_validation_failures_total", "counter",
           "Reasons writes were refused, by rule.");
  for (auto& [rule, n] : vstats->failures_by_rule)
    w.sample("cfg_validation_failures_total", {{"reason", rule}},
             static_cast<double>(n));
  w.family("cfg_tree_copies_total", "counter",
           "Writes whose merged tree was built whole rather than along "
           "their change (a change at the root); 0 in normal operation.");
  w.sample("cfg_tree_copies_total", static_cast<double>(vstats->tree_copies));
  w.family("cfg_version", "gauge", "The current config version.");
  w.sample("cfg_version", static_cast<double>(snap->version));
  std::vector<double> bounds{cfgactors::commit_latency_bounds.begin(),
                             cfgactors::commit_latency_bounds.end()};
  w.family("cfg_commit_duration_seconds", "histogram",
           "Time from a write's arrival at the validator to its commit "
           "(durable in the journal when there is one).");
  w.histogram("cfg_commit_duration_seconds", {}, bounds,
              vstats->commit_latency_counts, vstats->commit_latency_sum);
  // The seed's name, kept while dashboards move to the one above.
  w.family("cfg_reload_duration_seconds", "histogram",
           "Deprecated: the same as cfg_commit_duration_seconds.");
  w.histogram("cfg_reload_duration_seconds", {}, bounds,
              vstats->commit_latency_counts, vstats->commit_latency_sum);
  w.family("cfg_subscribers", "gauge",
           "Local subscriber actors, WebSocket clients included.");
  w.sample("cfg_subscribers", static_cast<double>(rstats.subscribers));
  w.family("cfg_websocket_clients", "gauge",
           "Clients connected to GET /ws.");
  w.sample("cfg_websocket_clients", static_cast<double>(sc.ws_clients));
  w.family("cfg_ofrep_streams", "gauge",
           "Clients connected to GET /ofrep/v1/events.");
  w.sample("cfg_ofrep_streams", static_cast<double>(sc.ofrep_streams));
  w.family("cfg_ofrep_streams_refused_total", "counter",
           "Event stream clients refused past --ofrep-max-streams (503).");
  w.sample("cfg_ofrep_streams_refused_total",
           static_cast<double>(sc.ofrep_refused));
  w.family("cfg_ofrep_streams_dropped_total", "counter",
           "Event stream clients dropped for falling behind.");
  w.sample("cfg_ofrep_streams_dropped_total",
           static_cast<double>(sc.ofrep_dropped));
  w.family("cfg_sources", "gauge",
           "Each source's state: 1 for the state it is in.");
  for (auto& st : sc.sources) {
    auto layer = st ? st->layer : std::string{"unknown"};
    for (auto state : {cfgactors::source_state::starting,
                       cfgactors::source_state::ok,
                       cfgactors::source_state::degraded,
                       cfgactors::source_state::stopped})
      w.sample("cfg_sources",
               {{"source", layer}, {"state", to_string(state)}},
               st && st->state == state ? 1.0 : 0.0);
  }
  write_source_counters(w, sc);
  auto& replicas = sc.replicas;
  // Every state a primary sets, listed even when no replica is in it.
  using cfgactors::replica_state;
  std::map<std::string_view, int> by_state;
  for (auto x : {replica_state::syncing, replica_state::connected,
                 replica_state::disconnected})
    by_state[to_string(x)] = 0;
  for (auto& r : replicas)
    ++by_state[to_string(r.state)];
  w.family("cfg_replicas", "gauge", "Replicas known to this primary, by state.");
  for (auto& [state, n] : by_state)
    w.sample("cfg_replicas", {{"state", std::string{state}}}, n);
  // What the cluster link refused, by reason: listed once the primary
  // refused anything (a reason appears with its first refusal).
  w.family("cfg_cluster_refused_total", "counter",
           "Cluster link messages refused (unauthenticated peers, names "
           "taken, replays, caps), by reason.");
  if (sc.stats.cluster)
    for (auto& [reason, n] : sc.stats.cluster->refused)
      w.sample("cfg_cluster_refused_total", {{"reason", reason}},
               static_cast<double>(n));
  w.family("cfg_cluster_peers", "gauge",
           "Cluster peers that proved the cluster secret and are connected.");
  w.sample("cfg_cluster_peers",
           sc.stats.cluster ? static_cast<double>(sc.stats.cluster->peers)
                            : 0.0);
  w.family("cfg_replica_lag_versions", "gauge",
           "Versions a replica has not acknowledged yet.");
  for (auto& r : replicas)
    w.sample("cfg_replica_lag_versions", {{"node", r.node}},
             static_cast<double>(r.lag));
  w.family("cfg_stale", "gauge", "1 while this node serves a stale config.");
  auto& etcd = sc.stats.etcd;
  w.sample("cfg_stale", etcd && etcd->stale ? 1.0 : 0.0);
  if (etcd) {
    w.family("cfg_etcd_errors_total", "counter",
             "Calls to etcd that failed, and records that did not read.");
    w.sample("cfg_etcd_errors_total", static_cast<double>(etcd->errors));
    w.family("cfg_cas_conflicts_total", "counter",
             "Commits that found etcd's head moved and were validated "
             "again.");
    w.sample("cfg_cas_conflicts_total",
             static_cast<double>(etcd->cas_conflicts));
    w.family("cfg_etcd_commit_seconds", "summary",
             "Time of this node's commit transactions in etcd.");
    w.sample("cfg_etcd_commit_seconds_sum", etcd->commit_seconds);
    w.sample("cfg_etcd_commit_seconds_count",
             static_cast<double>(etcd->commits));
    w.family("cfg_layer_conflicts_total", "counter",
             "Source layers another node proposed with other content.");
    w.sample("cfg_layer_conflicts_total",
             static_cast<double>(etcd->layer_conflicts));
    w.family("cfg_etcd_resyncs_total", "counter",
             "Syncs from etcd's head after a compaction or a revision that "
             "went backwards.");
    w.sample("cfg_etcd_resyncs_total", static_cast<double>(etcd->resyncs));
  }
  http::response res{http::status::ok, rc.req.version()};
  res.set(boost::beast::http::field::server, "cfgd");
  res.set(boost::beast::http::field::content_type,
          "text/plain; version=0.0.4; charset=utf-8");
  res.body() = w.text();
  return res;
}

void get_metrics(const api_context_ptr& ctx, const ws_hub* hub,
                 const ofrep_events* events,
                 std::shared_ptr<const request_metrics> requests,
                 const http::request_context& rc, http::responder respond) {
  auto& node = ctx->node;
  if (!node.is_primary()) {
    node.status([ctx, &rc, respond, requests](
                  caf::expected<cfgactors::replica_status> st) {
      if (!st)
        return respond(actor_error(*ctx, rc.req, st.error()));
      respond(replica_metrics(rc, *st, *requests));
    });
    return;
  }
  auto sources = node.sources();
  auto sc = std::make_shared<scrape>();
  sc->pending = 3 + static_cast<int>(sources.size());
  sc->sources.resize(sources.size());
  sc->source_changed_ms.resize(sources.size());
  sc->ws_clients = hub ? hub->clients() : 0;
  if (events) {
    sc->ofrep_streams = events->clients();
    sc->ofrep_refused = events->refused();
    sc->ofrep_dropped = events->dropped();
  }
  // Each answer fills its part; the last one renders. `fill` runs under the
  // scrape's lock.
  auto arrived = [ctx, &rc, respond, sc, requests,
                  durable = node.durable()](auto fill) {
    std::unique_lock<std::mutex> guard{sc->mtx};
    fill(*sc);
    if (--sc->pending > 0)
      return;
    guard.unlock();
    if (sc->error)
      return respond(actor_error(*ctx, rc.req, sc->error));
    respond(primary_metrics(rc, *sc, durable, *requests));
  };
  auto failed = [](scrape& x, caf::error& err) {
    if (!x.error)
      x.error = std::move(err);
  };
  node.stats([arrived, failed](caf::expected<cfgactors::node_stats> x) {
    arrived([&](scrape& sc) {
      x ? void(sc.stats = std::move(*x)) : failed(sc, x.error());
    });
  });
  node.replicas(
    [arrived, failed](caf::expected<std::vector<cfgactors::replica_info>> x) {
      arrived([&](scrape& sc) {
        x ? void(sc.replicas = std::move(*x)) : failed(sc, x.error());
      });
    });
  cfgactors::async_request<cfgactors::snapshot_ptr>(
    ctx->sys, node.store(), ctx->timeout,
    [arrived, failed](caf::expected<cfgactors::snapshot_ptr> x) {
      arrived([&](scrape& sc) {
        x ? void(sc.snap = std::move(*x)) : failed(sc, x.error());
      });
    },
    cfgactors::get_atom::value);
  // A source that does not answer is shown in no state, not an error. One
  // that made a version is asked about once more: when that commit was.
  auto store = node.store();
  for (std::size_t i = 0; i < sources.size(); ++i)
    cfgactors::async_request<cfgactors::source_status>(
      ctx->sys, sources[i], ctx->timeout,
      [ctx, arrived, i, store](caf::expected<cfgactors::source_status> x) {
        arrived([&](scrape& sc) {
          if (!x)
            return;
          sc.sources[i] = std::move(*x);
          if (sc.sources[i]->version == 0)
            return;
          ++sc.pending; // under the lock; this answer has not counted yet
          cfgactors::async_request<cfgactors::snapshot_ptr>(
            ctx->sys, store, ctx->timeout,
            [arrived, i](caf::expected<cfgactors::snapshot_ptr> snap) {
              arrived([&](scrape& sc) {
                if (snap && *snap)
                  sc.source_changed_ms[i] = (*snap)->timestamp_ms;
              });
            },
            cfgactors::get_atom::value, sc.sources[i]->version);
        });
      },
      cfgactors::status_atom::value);
}

} // namespace

void add_metrics_route(http::router& routes, api_context_ptr ctx,
                       std::shared_ptr<const authorizer> auth,
                       std::shared_ptr<const ws_hub> hub,
                       std::shared_ptr<const ofrep_events> events) {
  auto requests = std::make_shared<request_metrics>();
  routes.set_observer([requests](const http::request& req,
                                 const std::string& route, unsigned code,
                                 double seconds) {
    requests->record(std::string{req.method_string()}, route, code, seconds);
  });
  routes.add(
    http::verb::get, "/metrics",
    [ctx, hub, events, requests](const http::request_context& rc,
                                 http::responder respond) {
      get_metrics(ctx, hub.get(), events.get(), requests, rc,
                  std::move(respond));
    },
    token_gate(auth, access::read));
}

} // namespace cfgd

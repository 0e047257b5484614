// Metrics are read from the actors at scrape time, so they are as fresh as a
// GET /config and cost nothing between scrapes.
#include "api/metrics.hpp"

#include <map>
#include <string>
#include <string_view>

#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/replica_state.hpp"
#include "cfgactors/stats.hpp"

#include "api/context.hpp"
#include "api/prometheus.hpp"
#include "api/ws.hpp"

namespace cfgd {

namespace {

/// A replica has no validator or router of its own: its version and
/// whether it is stale.
http::response replica_metrics(const api_context& ctx,
                               const http::request_context& rc) {
  auto st = ctx.node.status();
  if (!st)
    return actor_error(ctx, rc.req, st.error());
  prometheus::writer w;
  w.family("cfg_version", "gauge", "The current config version.");
  w.sample("cfg_version", static_cast<double>(st->version));
  w.family("cfg_stale", "gauge",
           "1 while this replica has no connection to its primary.");
  w.sample("cfg_stale", st->stale ? 1.0 : 0.0);
  w.family("cfg_replica_resyncs_total", "counter",
           "Full snapshots asked for after a gap or a hash mismatch.");
  w.sample("cfg_replica_resyncs_total", static_cast<double>(st->resyncs));
  http::response res{http::status::ok, rc.req.version()};
  res.set(boost::beast::http::field::server, "cfgd");
  res.set(boost::beast::http::field::content_type,
          "text/plain; version=0.0.4; charset=utf-8");
  res.body() = w.text();
  return res;
}

http::response get_metrics(const api_context& ctx, const ws_hub* hub,
                           const http::request_context& rc) {
  if (!ctx.node.is_primary())
    return replica_metrics(ctx, rc);
  auto stats = ctx.node.stats();
  if (!stats)
    return actor_error(ctx, rc.req, stats.error());
  auto& vstats = stats->validator; // always there on a primary
  auto& rstats = stats->router;
  auto snap = current_snapshot(ctx);
  if (!snap)
    return actor_error(ctx, rc.req, snap.error());
  prometheus::writer w;
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
  w.family("cfg_version", "gauge", "The current config version.");
  w.sample("cfg_version", static_cast<double>((*snap)->version));
  w.family("cfg_reload_duration_seconds", "histogram",
           "Time from a write's arrival at the validator to its commit.");
  uint64_t cumulative = 0;
  auto& bounds = cfgactors::commit_latency_bounds;
  for (std::size_t i = 0; i < bounds.size(); ++i) {
    cumulative += vstats->commit_latency_counts[i];
    char le[32];
    std::snprintf(le, sizeof(le), "%g", bounds[i]);
    w.sample("cfg_reload_duration_seconds_bucket", {{"le", le}},
             static_cast<double>(cumulative));
  }
  cumulative += vstats->commit_latency_counts.back();
  w.sample("cfg_reload_duration_seconds_bucket", {{"le", "+Inf"}},
           static_cast<double>(cumulative));
  w.sample("cfg_reload_duration_seconds_sum", vstats->commit_latency_sum);
  w.sample("cfg_reload_duration_seconds_count",
           static_cast<double>(cumulative));
  w.family("cfg_subscribers", "gauge",
           "Local subscriber actors, WebSocket clients included.");
  w.sample("cfg_subscribers", static_cast<double>(rstats.subscribers));
  w.family("cfg_websocket_clients", "gauge",
           "Clients connected to GET /ws.");
  w.sample("cfg_websocket_clients",
           static_cast<double>(hub ? hub->clients() : 0));
  w.family("cfg_sources", "gauge",
           "Each source's state: 1 for the state it is in.");
  for (auto& src : ctx.node.sources()) {
    auto st = ask<cfgactors::source_status>(ctx, src,
                                            cfgactors::status_atom::value);
    auto layer = st ? st->layer : std::string{"unknown"};
    for (auto state : {cfgactors::source_state::starting,
                       cfgactors::source_state::ok,
                       cfgactors::source_state::degraded,
                       cfgactors::source_state::stopped})
      w.sample("cfg_sources",
               {{"source", layer}, {"state", to_string(state)}},
               st && st->state == state ? 1.0 : 0.0);
  }
  auto replicas = ctx.node.replicas();
  if (!replicas)
    return actor_error(ctx, rc.req, replicas.error());
  // Every state a primary sets, listed even when no replica is in it.
  using cfgactors::replica_state;
  std::map<std::string_view, int> by_state;
  for (auto x : {replica_state::syncing, replica_state::connected,
                 replica_state::disconnected})
    by_state[to_string(x)] = 0;
  for (auto& r : *replicas)
    ++by_state[to_string(r.state)];
  w.family("cfg_replicas", "gauge", "Replicas known to this primary, by state.");
  for (auto& [state, n] : by_state)
    w.sample("cfg_replicas", {{"state", std::string{state}}}, n);
  w.family("cfg_replica_lag_versions", "gauge",
           "Versions a replica has not acknowledged yet.");
  for (auto& r : *replicas)
    w.sample("cfg_replica_lag_versions", {{"node", r.node}},
             static_cast<double>(r.lag));
  w.family("cfg_stale", "gauge", "1 while this node serves a stale config.");
  w.sample("cfg_stale", 0);
  http::response res{http::status::ok, rc.req.version()};
  res.set(boost::beast::http::field::server, "cfgd");
  res.set(boost::beast::http::field::content_type,
          "text/plain; version=0.0.4; charset=utf-8");
  res.body() = w.text();
  return res;
}

} // namespace

void add_metrics_route(http::router& routes, std::shared_ptr<api_context> ctx,
                       std::shared_ptr<const authorizer> auth,
                       std::shared_ptr<const ws_hub> hub) {
  routes.add(http::verb::get, "/metrics",
             [ctx, auth, hub](const http::request_context& rc) {
               if (auto refusal = auth->check(rc.req, access::read))
                 return std::move(*refusal);
               return get_metrics(*ctx, hub.get(), rc);
             });
}

} // namespace cfgd

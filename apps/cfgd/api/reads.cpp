// Read-only routes. Each handler asks an actor of the node (api/context.hpp)
// and turns the answer or the error into JSON.
#include "api/reads.hpp"

#include <chrono>
#include <functional>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "cfgactors/async_request.hpp"
#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/replica_state.hpp"
#include "cfgactors/secrets.hpp"
#include "cfgactors/snapshot.hpp"

#include "api/context.hpp"
#include "api/auth.hpp"

namespace cfgd {

using cfgactors::json;
using http::status;

namespace {

/// `ETag` and `X-Config-Version` of a snapshot. What is shown depends on
/// the token (secrets masked or not): `Vary` says so to caches.
void tag(http::response& res, const cfgactors::snapshot& snap) {
  res.set(boost::beast::http::field::etag, "\"" + snap.hash + "\"");
  res.set("X-Config-Version", std::to_string(snap.version));
  res.set(boost::beast::http::field::cache_control, "no-cache");
  res.set(boost::beast::http::field::vary, "Authorization");
}

/// True if the caller's token may see secret values unmasked.
bool with_secrets(const api_context& ctx, const http::request& req) {
  return ctx.auth->may_read_secrets(req);
}

/// True if `If-None-Match` lists the snapshot's ETag (weak or strong) or `*`.
bool not_modified(const http::request& req, const cfgactors::snapshot& snap) {
  return http::if_none_match(req, "\"" + snap.hash + "\"");
}

http::response not_modified_response(const http::request& req,
                                     const cfgactors::snapshot& snap) {
  http::response res{status::not_modified, req.version()};
  res.set(boost::beast::http::field::server, "cfgd");
  tag(res, snap);
  return res;
}

/// Serves `value` of `snap` with the snapshot's tags, or 304.
http::response tagged_json(const http::request& req,
                           const cfgactors::snapshot& snap, const json& value) {
  if (not_modified(req, snap))
    return not_modified_response(req, snap);
  auto res = http::json_response(req, status::ok, value);
  tag(res, snap);
  return res;
}

void get_config(const api_context_ptr& ctx, const http::request_context& rc,
                http::responder respond) {
  auto secrets = with_secrets(*ctx, rc.req);
  with_snapshot(ctx, rc, std::move(respond),
                [&rc, secrets](const cfgactors::snapshot_ptr& snap) {
                  if (!snap->secrets || secrets)
                    return tagged_json(rc.req, *snap, *snap->effective);
                  return tagged_json(rc.req, *snap, snap->shown(false));
                });
}

void get_config_path(const api_context_ptr& ctx,
                     const http::request_context& rc,
                     http::responder respond) {
  std::string error;
  auto path = cfgactors::config_path::parse(rc.rest, &error);
  if (!path)
    return respond(http::error_response(rc.req, status::bad_request,
                                        "bad path", {rc.rest + ": " + error}));
  auto secrets = with_secrets(*ctx, rc.req);
  with_snapshot(ctx, rc, std::move(respond),
                [&rc, secrets, path = std::move(*path)](
                  const cfgactors::snapshot_ptr& snap) {
                  auto value = snap->effective.find(path);
                  if (!value)
                    return http::error_response(
                      rc.req, status::not_found, "not found",
                      {"no value at '" + rc.rest + "' in version "
                       + std::to_string(snap->version)});
                  if (!snap->secrets || secrets)
                    return tagged_json(rc.req, *snap, *value);
                  auto shown = *value;
                  snap->secrets->mask(shown, path);
                  return tagged_json(rc.req, *snap, shown);
                });
}

/// The name of a layer's kind, as GET /layers shows it.
const char* kind_name(cfgactors::layer_kind kind) {
  switch (kind) {
    case cfgactors::layer_kind::defaults:
      return "defaults";
    case cfgactors::layer_kind::file:
      return "file";
    case cfgactors::layer_kind::env:
      return "env";
    case cfgactors::layer_kind::remote:
      return "remote";
    case cfgactors::layer_kind::runtime:
      return "runtime";
  }
  return "remote";
}

/// GET /layers: the layers the current version was merged from, lowest
/// precedence first (a later layer wins), each with its data as it is
/// (`null` is a tombstone: the layer removes the key). What lets a client
/// tell which layer set a value and which it shadows. Secrets are masked
/// as GET /config masks them: a secret set in a lower layer and shadowed is
/// still a secret.
void get_layers(const api_context_ptr& ctx, const http::request_context& rc,
                http::responder respond) {
  auto secrets = with_secrets(*ctx, rc.req);
  with_snapshot(
    ctx, rc, std::move(respond),
    [&rc, secrets](const cfgactors::snapshot_ptr& snap) {
      auto list = json::array();
      int precedence = 0;
      for (auto& l : snap->layers) {
        auto data = l.data ? *l.data : json::object();
        if (snap->secrets && !secrets)
          snap->secrets->mask(data);
        list.push_back(json{{"name", l.name},
                            {"kind", kind_name(cfgactors::kind_of(l.name))},
                            {"precedence", precedence++},
                            {"data", std::move(data)}});
      }
      // No ETag: the layers may change while the merged config (whose hash
      // the ETag of /config is) does not.
      auto res = http::json_response(
        rc.req, status::ok, json{{"version", snap->version}, {"layers", list}});
      res.set("X-Config-Version", std::to_string(snap->version));
      res.set(boost::beast::http::field::cache_control, "no-cache");
      res.set(boost::beast::http::field::vary, "Authorization");
      return res;
    });
}

void get_history(const api_context_ptr& ctx, const http::request_context& rc,
                 http::responder respond) {
  uint64_t limit = ctx->max_history;
  uint64_t before = 0;
  if (auto text = rc.param("limit")) {
    auto n = to_u64(*text);
    if (!n || *n == 0)
      return respond(http::error_response(
        rc.req, status::bad_request, "bad parameter",
        {"limit must be a positive integer, got '" + *text + "'"}));
    limit = std::min<uint64_t>(*n, ctx->max_history);
  }
  if (auto text = rc.param("before")) {
    auto n = to_u64(*text);
    if (!n)
      return respond(http::error_response(
        rc.req, status::bad_request, "bad parameter",
        {"before must be a version number, got '" + *text + "'"}));
    before = *n;
  }
  ask<std::vector<cfgactors::version_info>>(
    ctx, rc, std::move(respond), ctx->store,
    [&rc](const std::vector<cfgactors::version_info>& rows) {
      auto out = json::array();
      for (auto& row : rows)
        out.push_back(json{{"version", row.version},
                           {"hash", row.hash},
                           {"timestamp_ms", row.timestamp_ms},
                           {"origin", row.origin},
                           {"author", row.author},
                           {"reason", row.reason}});
      return http::json_response(rc.req, status::ok, out);
    },
    cfgactors::history_atom::value, before, static_cast<uint32_t>(limit));
}

/// The diff of `from` → `to` as GET /diff answers it, secrets masked unless
/// the token may read them.
json diff_json(const cfgactors::diff_result& diff, bool secrets) {
  auto patch = diff.patch;
  auto view = diff.view;
  if (!secrets && !diff.secrets.empty()) {
    cfgactors::secret_paths masks{diff.secrets};
    masks.mask_patch(patch);
    masks.mask_view(view);
  }
  return json{{"from", diff.from},
              {"to", diff.to},
              {"patch", std::move(patch)},
              {"changes", std::move(view)}};
}

/// GET /diff?last=N: the last N changes as one diff, from the version N
/// before the newest to the newest (N=1: the last change). 404 when the
/// history holds fewer than N+1 versions, saying how many it holds.
void get_last_diff(const api_context_ptr& ctx, const http::request_context& rc,
                   http::responder respond, uint64_t n) {
  auto secrets = with_secrets(*ctx, rc.req);
  cfgactors::async_request<std::vector<cfgactors::version_info>>(
    ctx->sys, ctx->store, ctx->timeout,
    [ctx, &rc, respond, n,
     secrets](caf::expected<std::vector<cfgactors::version_info>> rows) {
      if (!rows)
        return respond(actor_error(*ctx, rc.req, rows.error()));
      if (rows->size() < n + 1) {
        auto held = rows->empty() ? std::string{"no version"}
                    : rows->size() == 1
                      ? "only version " + std::to_string(rows->front().version)
                      : std::to_string(rows->size()) + " versions ("
                          + std::to_string(rows->back().version) + " to "
                          + std::to_string(rows->front().version) + ")";
        return respond(http::error_response(
          rc.req, status::not_found, "no such change",
          {"last=" + std::to_string(n) + " needs " + std::to_string(n + 1)
           + " versions in the history; it holds " + held}));
      }
      // Newest first: the newest and the one N changes before it.
      ask<cfgactors::diff_result>(
        ctx, rc, respond, ctx->store,
        [&rc, secrets](const cfgactors::diff_result& diff) {
          return http::json_response(rc.req, status::ok,
                                     diff_json(diff, secrets));
        },
        cfgactors::diff_atom::value, rows->back().version,
        rows->front().version);
    },
    cfgactors::history_atom::value, uint64_t{0}, static_cast<uint32_t>(n + 1));
}

/// GET /diff?from=A&to=B, or ?last=N (see get_last_diff).
void get_diff(const api_context_ptr& ctx, const http::request_context& rc,
              http::responder respond) {
  std::vector<std::string> problems;
  if (auto last = rc.param("last")) {
    auto n = to_u64(*last);
    if (rc.param("from") || rc.param("to"))
      problems.emplace_back("last excludes from and to");
    // The history holds at most max_history versions: N+1 of them.
    else if (!n || *n == 0 || *n >= ctx->max_history)
      problems.push_back("last must be 1.."
                         + std::to_string(ctx->max_history - 1) + ", got '"
                         + *last + "'");
    if (!problems.empty())
      return respond(http::error_response(
        rc.req, status::bad_request, "bad parameter", std::move(problems)));
    return get_last_diff(ctx, rc, std::move(respond), *n);
  }
  auto version_param = [&](std::string_view key) -> std::optional<uint64_t> {
    auto text = rc.param(key);
    if (!text) {
      problems.push_back(std::string{key} + " is required (or last=N)");
      return std::nullopt;
    }
    auto n = to_u64(*text);
    if (!n)
      problems.push_back(std::string{key} + " must be a version number, got '"
                         + *text + "'");
    return n;
  };
  auto from = version_param("from");
  auto to = version_param("to");
  if (!problems.empty())
    return respond(http::error_response(rc.req, status::bad_request,
                                        "bad parameter", std::move(problems)));
  auto secrets = with_secrets(*ctx, rc.req);
  ask<cfgactors::diff_result>(
    ctx, rc, std::move(respond), ctx->store,
    [&rc, secrets](const cfgactors::diff_result& diff) {
      return http::json_response(rc.req, status::ok, diff_json(diff, secrets));
    },
    cfgactors::diff_atom::value, *from, *to);
}

void get_healthz(const api_context_ptr& ctx, const http::request_context& rc,
                 http::responder respond) {
  with_snapshot(ctx, rc, std::move(respond),
                [&rc, name = ctx->node.name(),
                 durable = ctx->node.durable()](
                  const cfgactors::snapshot_ptr& snap) {
                  // `durable`: false on a primary without a data dir (its
                  // history ends with the process) and on a replica.
                  return http::json_response(rc.req, status::ok,
                                             json{{"status", "ok"},
                                                  {"version", snap->version},
                                                  {"node", name},
                                                  {"durable", durable}});
                });
}

/// A node another node knows of: a primary's replica, or in etcd mode a
/// node as its record says (`role` tells which).
json known_node_json(const cfgactors::replica_info& r, const char* role) {
  return json{{"name", r.node},
              {"role", role},
              {"version", r.acked_version},
              {"hash", r.acked_hash},
              {"lag", r.lag},
              {"state", to_string(r.state)},
              {"stale", r.state != cfgactors::replica_state::connected},
              {"last_ack_ms", r.last_ack_ms}};
}

/// The nodes of the cluster as this node sees them: on a primary, itself and
/// every replica it knows (acked version, lag, state); on a replica, itself.
void get_nodes(const api_context_ptr& ctx, const http::request_context& rc,
               http::responder respond) {
  auto name = ctx->node.name();
  if (ctx->node.in_etcd()) {
    // Every node as its record in etcd says (the records live under
    // leases: a node gone longer than its lease is not listed).
    ctx->node.replicas(
      [ctx, &rc, respond](
        caf::expected<std::vector<cfgactors::replica_info>> nodes) {
        if (!nodes)
          return respond(actor_error(*ctx, rc.req, nodes.error()));
        auto list = json::array();
        for (auto& r : *nodes)
          list.push_back(known_node_json(r, "node"));
        respond(http::json_response(rc.req, status::ok,
                                    json{{"nodes", list}}));
      });
    return;
  }
  if (!ctx->node.is_primary()) {
    ctx->node.status([ctx, &rc, respond,
                      name](caf::expected<cfgactors::replica_status> st) {
      if (!st)
        return respond(actor_error(*ctx, rc.req, st.error()));
      respond(http::json_response(
        rc.req, status::ok,
        json{{"nodes", json::array({replica_json(name, *st)})}}));
    });
    return;
  }
  // What the primary knows of the replicas, then its own version.
  ctx->node.replicas([ctx, &rc, respond, name, store = ctx->store,
                      advertised = ctx->node.advertised()](
                       caf::expected<std::vector<cfgactors::replica_info>>
                         replicas) {
    if (!replicas)
      return respond(actor_error(*ctx, rc.req, replicas.error()));
    auto then = [&rc, name, advertised, replicas = std::move(*replicas)](
                  const cfgactors::snapshot_ptr& snap) {
      auto list = json::array();
      list.push_back(json{{"name", name},
                          {"role", "primary"},
                          {"address", advertised},
                          {"version", snap->version},
                          {"hash", snap->hash},
                          {"lag", 0},
                          {"state", to_string(
                                      cfgactors::replica_state::connected)},
                          {"stale", false}});
      for (auto& r : replicas)
        list.push_back(known_node_json(r, "replica"));
      return http::json_response(rc.req, status::ok, json{{"nodes", list}});
    };
    ask<cfgactors::snapshot_ptr>(ctx, rc, respond, store, std::move(then),
                                 cfgactors::get_atom::value);
  });
}

using source_answers = std::vector<caf::expected<cfgactors::source_status>>;

/// Asks `sources` one after the other (none of them can delay the others'
/// answers: each has the context's timeout); `done` gets every answer, in
/// order, on an actor thread.
void ask_sources(caf::actor_system& sys, std::chrono::milliseconds timeout,
                 std::vector<cfgactors::source_actor> sources,
                 source_answers answers,
                 std::function<void(source_answers)> done) {
  if (answers.size() == sources.size())
    return done(std::move(answers));
  auto next = sources[answers.size()];
  cfgactors::async_request<cfgactors::source_status>(
    sys, next, timeout,
    [&sys, timeout, sources = std::move(sources), answers = std::move(answers),
     done = std::move(done)](
      caf::expected<cfgactors::source_status> st) mutable {
      answers.push_back(std::move(st));
      ask_sources(sys, timeout, std::move(sources), std::move(answers),
                  std::move(done));
    },
    cfgactors::status_atom::value);
}

/// Every source's status, lowest precedence first. A source that does not
/// answer is reported as such instead of failing the whole listing.
void get_sources(const api_context_ptr& ctx, const http::request_context& rc,
                 http::responder respond) {
  ask_sources(ctx->sys, ctx->timeout, ctx->node.sources(), {},
              [ctx, &rc, respond](source_answers answers) {
                auto list = json::array();
                for (auto& st : answers)
                  if (st)
                    list.push_back(to_json(*st));
                  else
                    list.push_back(
                      json{{"state", "unavailable"},
                           {"last_error", ctx->sys.render(st.error())}});
                respond(http::json_response(rc.req, status::ok,
                                            json{{"sources", list}}));
              });
}

/// A replica that has not had a single version from its primary (its cell
/// still holds version 0; a primary always has its first version).
/// GET /readyz: 200 when this node should get traffic; else 503 with every
/// reason: a replica never synced or stale, a local source (file, env) not
/// ok. Remote sources may be down: the node serves what it has.
void get_readyz(const api_context_ptr& ctx, const http::request_context& rc,
                http::responder respond) {
  auto reply = [&rc, respond](std::vector<std::string> reasons) {
    if (reasons.empty())
      return respond(http::json_response(rc.req, status::ok,
                                         json{{"status", "ready"}}));
    respond(http::error_response(rc.req, status::service_unavailable,
                                 "not ready", std::move(reasons)));
  };
  if (!ctx->node.is_primary()) {
    auto synced = !never_synced(*ctx);
    ctx->node.status(
      [reply, synced](caf::expected<cfgactors::replica_status> st) {
        std::vector<std::string> reasons;
        if (!synced)
          reasons.emplace_back("never synced with its primary");
        else if (!st)
          reasons.emplace_back("stale: no answer from the replica");
        else if (st->stale)
          reasons.push_back("stale: " + st->reason);
        reply(std::move(reasons));
      });
    return;
  }
  // A source that does not answer in time (a remote one may be busy) is
  // left out: only what is known to be wrong holds traffic back.
  auto etcd_stale = ctx->node.in_etcd() && ctx->node.stale();
  ask_sources(ctx->sys, ctx->timeout, ctx->node.sources(), {},
              [reply, etcd_stale](source_answers answers) {
                std::vector<std::string> reasons;
                if (etcd_stale)
                  reasons.emplace_back("stale: no watch on etcd, or etcd "
                                       "does not answer (GET /nodes, the "
                                       "log's event=node_stale say why)");
                for (auto& st : answers) {
                  if (!st)
                    continue;
                  auto kind = cfgactors::kind_of(st->layer);
                  auto local = kind == cfgactors::layer_kind::file
                               || kind == cfgactors::layer_kind::env;
                  // /readyz needs no token: it names the kind of source,
                  // never its path (GET /sources does, to readers).
                  if (local && st->state != cfgactors::source_state::ok)
                    reasons.push_back(
                      std::string{kind == cfgactors::layer_kind::file
                                    ? "a file"
                                    : "the env"}
                      + " source is " + to_string(st->state)
                      + " (GET /sources says which and why)");
                }
                reply(std::move(reasons));
              });
}

} // namespace

void add_read_routes(http::router& routes, api_context_ptr ctx) {
  auto bind = [ctx](route_fn fn) { return bind_route(ctx, fn); };
  auto readers = readers_gate(ctx);
  routes.add(http::verb::get, "/config", bind(get_config), readers);
  routes.add_prefix(http::verb::get, "/config/", bind(get_config_path),
                    readers);
  routes.add(http::verb::get, "/layers", bind(get_layers), readers);
  routes.add(http::verb::get, "/history", bind(get_history), readers);
  routes.add(http::verb::get, "/diff", bind(get_diff), readers);
  routes.add(http::verb::get, "/sources", bind(get_sources), readers);
  routes.add(http::verb::get, "/nodes", bind(get_nodes), readers);
  routes.add(http::verb::get, "/readyz", bind(get_readyz));
  routes.add(http::verb::get, "/healthz",
             [ctx](const http::request_context& rc, http::responder respond) {
               get_healthz(ctx, rc, std::move(respond));
             });
}

} // namespace cfgd

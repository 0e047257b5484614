// Read-only routes. Each handler asks an actor of the node (api/context.hpp)
// and turns the answer or the error into JSON.
#include "api/reads.hpp"

#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include "cfgactors/path.hpp"
#include "cfgactors/replica_state.hpp"
#include "cfgactors/snapshot.hpp"

#include "api/context.hpp"
#include "api/auth.hpp"

namespace cfgd {

using cfgactors::json;
using http::status;

namespace {

/// `ETag` and `X-Config-Version` of a snapshot.
void tag(http::response& res, const cfgactors::snapshot& snap) {
  res.set(boost::beast::http::field::etag, "\"" + snap.hash + "\"");
  res.set("X-Config-Version", std::to_string(snap.version));
  res.set(boost::beast::http::field::cache_control, "no-cache");
}

/// True if `If-None-Match` lists the snapshot's ETag (weak or strong) or `*`.
bool not_modified(const http::request& req, const cfgactors::snapshot& snap) {
  auto header = req[boost::beast::http::field::if_none_match];
  std::string_view list{header.data(), header.size()};
  auto want = "\"" + snap.hash + "\"";
  while (!list.empty()) {
    auto comma = list.find(',');
    auto item = list.substr(0, comma);
    list = comma == std::string_view::npos ? std::string_view{}
                                           : list.substr(comma + 1);
    while (!item.empty() && (item.front() == ' ' || item.front() == '\t'))
      item.remove_prefix(1);
    while (!item.empty() && (item.back() == ' ' || item.back() == '\t'))
      item.remove_suffix(1);
    if (item.substr(0, 2) == "W/")
      item.remove_prefix(2);
    if (item == "*" || item == want)
      return true;
  }
  return false;
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

http::response get_config(const api_context& ctx,
                          const http::request_context& rc) {
  auto snap = current_snapshot(ctx);
  if (!snap)
    return actor_error(ctx, rc.req, snap.error());
  return tagged_json(rc.req, **snap, (*snap)->effective);
}

http::response get_config_path(const api_context& ctx,
                               const http::request_context& rc) {
  std::string error;
  auto path = cfgactors::config_path::parse(rc.rest, &error);
  if (!path)
    return http::error_response(rc.req, status::bad_request, "bad path",
                                {rc.rest + ": " + error});
  auto snap = current_snapshot(ctx);
  if (!snap)
    return actor_error(ctx, rc.req, snap.error());
  auto value = cfgactors::find((*snap)->effective, *path);
  if (!value)
    return http::error_response(rc.req, status::not_found, "not found",
                                {"no value at '" + rc.rest + "' in version "
                                 + std::to_string((*snap)->version)});
  return tagged_json(rc.req, **snap, *value);
}

http::response get_history(const api_context& ctx,
                           const http::request_context& rc) {
  uint64_t limit = ctx.max_history;
  uint64_t before = 0;
  if (auto text = rc.param("limit")) {
    auto n = to_u64(*text);
    if (!n || *n == 0)
      return http::error_response(rc.req, status::bad_request,
                                  "bad parameter",
                                  {"limit must be a positive integer, got '"
                                   + *text + "'"});
    limit = std::min<uint64_t>(*n, ctx.max_history);
  }
  if (auto text = rc.param("before")) {
    auto n = to_u64(*text);
    if (!n)
      return http::error_response(rc.req, status::bad_request,
                                  "bad parameter",
                                  {"before must be a version number, got '"
                                   + *text + "'"});
    before = *n;
  }
  auto rows = ask<std::vector<cfgactors::version_info>>(
    ctx, ctx.node.store(), cfgactors::history_atom::value, before,
    static_cast<uint32_t>(limit));
  if (!rows)
    return actor_error(ctx, rc.req, rows.error());
  auto out = json::array();
  for (auto& row : *rows)
    out.push_back(json{{"version", row.version},
                       {"hash", row.hash},
                       {"timestamp_ms", row.timestamp_ms},
                       {"origin", row.origin}});
  return http::json_response(rc.req, status::ok, out);
}

http::response get_diff(const api_context& ctx,
                        const http::request_context& rc) {
  std::vector<std::string> problems;
  auto version_param = [&](std::string_view key) -> std::optional<uint64_t> {
    auto text = rc.param(key);
    if (!text) {
      problems.push_back(std::string{key} + " is required");
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
    return http::error_response(rc.req, status::bad_request, "bad parameter",
                                std::move(problems));
  auto diff = ask<cfgactors::diff_result>(ctx, ctx.node.store(),
                                          cfgactors::diff_atom::value, *from,
                                          *to);
  if (!diff)
    return actor_error(ctx, rc.req, diff.error());
  return http::json_response(rc.req, status::ok,
                             json{{"from", diff->from},
                                  {"to", diff->to},
                                  {"patch", diff->patch},
                                  {"changes", diff->view}});
}

http::response get_healthz(const api_context& ctx,
                           const http::request_context& rc) {
  auto snap = current_snapshot(ctx);
  if (!snap)
    return actor_error(ctx, rc.req, snap.error());
  return http::json_response(rc.req, status::ok,
                             json{{"status", "ok"},
                                  {"version", (*snap)->version},
                                  {"node", ctx.node.name()}});
}

/// The nodes of the cluster as this node sees them: on a primary, itself and
/// every replica it knows (acked version, lag, state); on a replica, itself.
http::response get_nodes(const api_context& ctx,
                         const http::request_context& rc) {
  auto snap = current_snapshot(ctx);
  if (!snap)
    return actor_error(ctx, rc.req, snap.error());
  auto list = json::array();
  if (!ctx.node.is_primary()) {
    auto st = ctx.node.status();
    if (!st)
      return actor_error(ctx, rc.req, st.error());
    list.push_back(json{{"name", ctx.node.name()},
                        {"role", "replica"},
                        {"version", st->version},
                        {"hash", st->hash},
                        {"state", to_string(st->state())},
                        {"stale", st->stale},
                        {"resyncs", st->resyncs},
                        {"reconnects", st->reconnects}});
    return http::json_response(rc.req, status::ok, json{{"nodes", list}});
  }
  list.push_back(json{{"name", ctx.node.name()},
                      {"role", "primary"},
                      {"version", (*snap)->version},
                      {"hash", (*snap)->hash},
                      {"lag", 0},
                      {"state", to_string(cfgactors::replica_state::connected)},
                      {"stale", false}});
  auto replicas = ctx.node.replicas();
  if (!replicas)
    return actor_error(ctx, rc.req, replicas.error());
  for (auto& r : *replicas)
    list.push_back(json{{"name", r.node},
                        {"role", "replica"},
                        {"version", r.acked_version},
                        {"hash", r.acked_hash},
                        {"lag", r.lag},
                        {"state", to_string(r.state)},
                        {"stale", r.state != cfgactors::replica_state::connected},
                        {"last_ack_ms", r.last_ack_ms}});
  return http::json_response(rc.req, status::ok, json{{"nodes", list}});
}

/// Every source's status, lowest precedence first. A source that does not
/// answer is reported as such instead of failing the whole listing.
http::response get_sources(const api_context& ctx,
                           const http::request_context& rc) {
  auto list = json::array();
  for (auto& src : ctx.node.sources()) {
    auto st = ask<cfgactors::source_status>(ctx, src,
                                            cfgactors::status_atom::value);
    if (st)
      list.push_back(to_json(*st));
    else
      list.push_back(json{{"state", "unavailable"},
                          {"last_error", ctx.sys().render(st.error())}});
  }
  return http::json_response(rc.req, status::ok, json{{"sources", list}});
}

} // namespace

void add_read_routes(http::router& routes, std::shared_ptr<api_context> ctx,
                     std::shared_ptr<const authorizer> auth) {
  using fn_ptr = http::response (*)(const api_context&,
                                    const http::request_context&);
  auto bind = [ctx, auth](fn_ptr fn) {
    return [ctx, auth, fn](const http::request_context& rc) {
      if (auto refusal = auth->check(rc.req, access::read))
        return std::move(*refusal);
      return fn(*ctx, rc);
    };
  };
  routes.add(http::verb::get, "/config", bind(get_config));
  routes.add_prefix(http::verb::get, "/config/", bind(get_config_path));
  routes.add(http::verb::get, "/history", bind(get_history));
  routes.add(http::verb::get, "/diff", bind(get_diff));
  routes.add(http::verb::get, "/sources", bind(get_sources));
  routes.add(http::verb::get, "/nodes", bind(get_nodes));
  routes.add(http::verb::get, "/healthz",
             [ctx](const http::request_context& rc) {
               return get_healthz(*ctx, rc);
             });
}

} // namespace cfgd

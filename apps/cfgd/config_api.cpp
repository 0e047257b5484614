// Read-only routes. Each handler asks an actor with a blocking request from
// the io thread (a scoped_actor per request, so a late answer to a request
// that timed out can never be mistaken for the next one) and turns the answer
// or the error into JSON.
#include "config_api.hpp"

#include <charconv>
#include <optional>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "cfgactors/errc.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgd {

using cfgactors::json;
using http::status;

namespace {

/// Asks `dest` and waits up to the context's timeout.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(const api_context& ctx, const Handle& dest,
                     const Ts&... xs) {
  caf::scoped_actor self{ctx.sys};
  caf::expected<T> result{caf::make_error(caf::sec::request_timeout)};
  self->request(dest, ctx.timeout, xs...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

/// The store's current snapshot.
caf::expected<cfgactors::snapshot_ptr> current_snapshot(const api_context& ctx) {
  return ask<cfgactors::snapshot_ptr>(ctx, ctx.nodes.store,
                                      cfgactors::get_atom::value);
}

bool is_sec(const caf::error& err, caf::sec code) {
  return err.category() == caf::atom("system")
         && err.code() == static_cast<uint8_t>(code);
}

/// An actor's error as an HTTP error: unknown versions are 404, an actor
/// that is gone or too slow is 503.
http::response actor_error(const api_context& ctx, const http::request& req,
                           const caf::error& err) {
  auto text = ctx.sys.render(err);
  if (err.category() == cfgactors::errc_category
      && err.code() == static_cast<uint8_t>(cfgactors::errc::not_found))
    return http::error_response(req, status::not_found, "not found", {text});
  if (is_sec(err, caf::sec::request_timeout))
    return http::error_response(req, status::service_unavailable,
                                "unavailable",
                                {"the config store did not answer within "
                                 + std::to_string(ctx.timeout.count())
                                 + " ms"});
  if (is_sec(err, caf::sec::request_receiver_down))
    return http::error_response(req, status::service_unavailable,
                                "unavailable", {text});
  return http::error_response(req, status::internal_server_error,
                              "internal error", {text});
}

std::optional<uint64_t> to_u64(std::string_view text) {
  uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(text.data(), text.data() + text.size(),
                                   value);
  if (text.empty() || ec != std::errc{} || ptr != text.data() + text.size())
    return std::nullopt;
  return value;
}

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
    ctx, ctx.nodes.store, cfgactors::history_atom::value, before,
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
  auto diff = ask<cfgactors::diff_result>(ctx, ctx.nodes.store,
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
                                  {"node", ctx.node_name}});
}

} // namespace

void add_read_routes(http::router& routes, std::shared_ptr<api_context> ctx) {
  auto bind = [ctx](http::response (*fn)(const api_context&,
                                         const http::request_context&)) {
    return [ctx, fn](const http::request_context& rc) { return fn(*ctx, rc); };
  };
  routes.add(http::verb::get, "/config", bind(get_config));
  routes.add_prefix(http::verb::get, "/config/", bind(get_config_path));
  routes.add(http::verb::get, "/history", bind(get_history));
  routes.add(http::verb::get, "/diff", bind(get_diff));
  routes.add(http::verb::get, "/healthz", bind(get_healthz));
}

} // namespace cfgd

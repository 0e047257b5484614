// Write routes. The body of a write is parsed with the same limits as a
// config file (depth, size) and errors name line and column; the write
// itself is one request to the validator, which orders it with every other
// change.
#include "api/writes.hpp"

#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <chrono>

#include <caf/scoped_actor.hpp>

#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/write_result.hpp"

#include "api/context.hpp"

namespace cfgd {

using cfgactors::json;
using cfgactors::operation;
using cfgactors::write_request;
using cfgactors::write_result;
using http::status;

namespace {

/// The body as JSON, or the 400 naming where it is malformed.
std::variant<json, http::response> body_json(const http::request_context& rc) {
  auto doc = cfgactors::parse_document(rc.req.body(),
                                       cfgactors::document_format::json,
                                       "body");
  if (!doc)
    return http::error_response(rc.req, status::bad_request, "malformed JSON",
                                {doc.error->str()});
  return std::move(doc.value);
}

/// Who made the change, for the history: `api` or `api:<X-Config-Origin>`
/// (printable ASCII, at most 64 characters, e.g. `cfgctl:alice`).
std::string origin_of(const http::request& req) {
  auto it = req.find("X-Config-Origin");
  if (it == req.end())
    return "api";
  std::string out = "api:";
  for (auto c : it->value())
    if (c > ' ' && c < 127 && out.size() < 68)
      out += c;
  return out;
}

/// `If-Match: "<hash>"` → the version that hash is current at, so the
/// validator can compare-and-set; a stale hash is a conflict at once.
std::variant<uint64_t, http::response>
expected_version(const api_context& ctx, const http::request& req) {
  auto it = req.find(boost::beast::http::field::if_match);
  if (it == req.end())
    return uint64_t{0};
  std::string want{it->value().data(), it->value().size()};
  if (want.size() >= 2 && want.front() == '"' && want.back() == '"')
    want = want.substr(1, want.size() - 2);
  auto snap = current_snapshot(ctx);
  if (!snap)
    return actor_error(ctx, req, snap.error());
  if ((*snap)->hash != want)
    return http::error_response(
      req, status::conflict, "version conflict",
      {"If-Match names " + want.substr(0, 12) + ", but version "
       + std::to_string((*snap)->version) + " (" + (*snap)->hash.substr(0, 12)
       + ") is current"});
  return (*snap)->version;
}

/// Sends `ops` to the validator and answers with its result.
http::response submit(const api_context& ctx, const http::request_context& rc,
                      std::vector<operation> ops) {
  auto level = cfgactors::consistency::local;
  if (auto c = rc.param("consistency")) {
    auto parsed = cfgactors::parse_consistency(*c);
    if (!parsed)
      return http::error_response(rc.req, status::bad_request,
                                  "bad parameter",
                                  {"consistency must be local, majority or "
                                   "all, got '" + *c + "'"});
    level = *parsed;
  }
  uint32_t timeout_ms = 0; // the primary's default
  if (auto t = rc.param("timeout_ms")) {
    auto parsed = to_u64(*t);
    if (!parsed || *parsed == 0 || *parsed > 600000)
      return http::error_response(rc.req, status::bad_request,
                                  "bad parameter",
                                  {"timeout_ms must be 1..600000, got '" + *t
                                   + "'"});
    timeout_ms = static_cast<uint32_t>(*parsed);
  }
  auto expected = expected_version(ctx, rc.req);
  if (auto res = std::get_if<http::response>(&expected))
    return std::move(*res);
  write_request req{std::move(ops), origin_of(rc.req),
                    std::get<uint64_t>(expected), {}};
  // Through the node's writer: the primary, which waits for the replicas'
  // acks as the level asks, or a replica, which forwards to the primary.
  caf::scoped_actor self{ctx.sys()};
  caf::expected<cfgactors::consistent_write_result> result{
    caf::make_error(caf::sec::request_timeout)};
  // Waiting for acks takes up to the write's timeout (the primary's default,
  // at most 30 s, when none is given).
  auto acks = level == cfgactors::consistency::local ? 0u
              : timeout_ms != 0                       ? timeout_ms
                                                      : 30000u;
  auto wait = ctx.timeout + std::chrono::milliseconds{acks};
  self->request(ctx.node.writer(), wait, cfgactors::write_atom::value,
                std::move(req), level, timeout_ms)
    .receive([&](cfgactors::consistent_write_result& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  if (!result) {
    // A replica without a primary says so with an errc (503).
    auto& err = result.error();
    if (err.category() == cfgactors::errc_category)
      return http::error_response(
        rc.req, status_of(static_cast<cfgactors::errc>(err.code())),
        to_string(static_cast<cfgactors::errc>(err.code())),
        {ctx.sys().render(err)});
    return actor_error(ctx, rc.req, err);
  }
  return write_response(rc.req, *result);
}

/// The body as a JSON object, or the 400 that says what `what` takes.
std::variant<json, http::response>
object_body(const http::request_context& rc, const char* what) {
  auto body = body_json(rc);
  if (auto value = std::get_if<json>(&body); value && !value->is_object())
    return http::error_response(rc.req, status::bad_request, "bad request",
                                {what});
  return body;
}

http::response put_config(const api_context& ctx,
                          const http::request_context& rc) {
  auto body = object_body(rc, "PUT /config takes a JSON object: the whole "
                              "runtime layer");
  if (auto res = std::get_if<http::response>(&body))
    return std::move(*res);
  return submit(ctx, rc, {operation::set("", std::move(std::get<json>(body)))});
}

http::response patch_config(const api_context& ctx,
                            const http::request_context& rc) {
  auto body = object_body(rc, "PATCH /config takes a JSON merge patch "
                              "(RFC 7386): an object");
  if (auto res = std::get_if<http::response>(&body))
    return std::move(*res);
  return submit(ctx, rc,
                {operation::merge_patch(std::move(std::get<json>(body)))});
}

http::response put_config_path(const api_context& ctx,
                               const http::request_context& rc) {
  auto body = body_json(rc);
  if (auto res = std::get_if<http::response>(&body))
    return std::move(*res);
  return submit(ctx, rc,
                {operation::set(rc.rest, std::move(std::get<json>(body)))});
}

http::response delete_config_path(const api_context& ctx,
                                  const http::request_context& rc) {
  return submit(ctx, rc, {operation::unset(rc.rest)});
}

http::response post_feature(const api_context& ctx,
                            const http::request_context& rc) {
  auto body = body_json(rc);
  if (auto res = std::get_if<http::response>(&body))
    return std::move(*res);
  auto& value = std::get<json>(body);
  auto enabled = value.is_object() ? value.find("enabled") : value.end();
  if (!value.is_object() || enabled == value.end() || !enabled->is_boolean())
    return http::error_response(rc.req, status::bad_request, "bad request",
                                {"POST /features/<name> takes "
                                 "{\"enabled\": true|false}"});
  return submit(ctx, rc, {operation::flag(rc.rest, enabled->get<bool>())});
}

http::response post_rollback(const api_context& ctx,
                             const http::request_context& rc) {
  auto version = to_u64(rc.rest);
  if (!version || *version == 0)
    return http::error_response(rc.req, status::bad_request, "bad request",
                                {"POST /rollback/<version> takes a version "
                                 "number, got '" + rc.rest + "'"});
  return submit(ctx, rc, {operation::rollback(*version)});
}

/// Forgets a replica that is gone for good (the primary refuses while it is
/// connected), so `all` writes stop waiting for it.
http::response delete_node(const api_context& ctx,
                           const http::request_context& rc) {
  if (!ctx.node.is_primary())
    return http::error_response(rc.req, status::bad_request, "bad request",
                                {"only the primary keeps a list of replicas"});
  auto done = ctx.node.forget(rc.rest);
  if (!done)
    return actor_error(ctx, rc.req, done.error());
  return http::json_response(rc.req, status::ok,
                             json{{"forgotten", rc.rest}});
}

} // namespace

http::status status_of(cfgactors::errc code) {
  using cfgactors::errc;
  switch (code) {
    case errc::validation_failed:
      return status::unprocessable_entity;
    case errc::version_conflict:
      return status::conflict;
    case errc::not_found:
      return status::not_found;
    case errc::too_large:
      return status::payload_too_large;
    case errc::invalid_argument:
    case errc::parse_failed:
    case errc::too_deep:
      return status::bad_request;
    case errc::store_failed:
    case errc::unavailable:
    case errc::timeout:
      return status::service_unavailable;
    case errc::none:
      break;
  }
  return status::internal_server_error;
}

http::response write_response(const http::request& req,
                              const write_result& result) {
  if (!result.ok()) {
    std::vector<std::string> details;
    for (auto& err : result.errors)
      details.push_back(err.str());
    auto res = http::error_response(req, status_of(result.code),
                                    to_string(result.code), std::move(details));
    res.set("X-Config-Version", std::to_string(result.version));
    return res;
  }
  auto res = http::json_response(req, status::ok,
                                 json{{"status", to_string(result.status)},
                                      {"version", result.version},
                                      {"hash", result.hash}});
  res.set(boost::beast::http::field::etag, "\"" + result.hash + "\"");
  res.set("X-Config-Version", std::to_string(result.version));
  return res;
}

http::response write_response(const http::request& req,
                              const cfgactors::consistent_write_result& x) {
  if (!x.result.ok())
    return write_response(req, x.result);
  auto res = http::json_response(req, status::ok,
                                 json{{"status", to_string(x.result.status)},
                                      {"version", x.result.version},
                                      {"hash", x.result.hash},
                                      {"consistency", to_string(x.level)},
                                      {"satisfied", x.satisfied},
                                      {"acked", x.acked},
                                      {"missing", x.missing}});
  res.set(boost::beast::http::field::etag, "\"" + x.result.hash + "\"");
  res.set("X-Config-Version", std::to_string(x.result.version));
  return res;
}

void add_write_routes(http::router& routes, std::shared_ptr<api_context> ctx,
                      std::shared_ptr<const authorizer> auth) {
  using fn_ptr = http::response (*)(const api_context&,
                                    const http::request_context&);
  // Authorization first: a refused request reaches no actor.
  auto guarded = [ctx, auth](fn_ptr fn) {
    return [ctx, auth, fn](const http::request_context& rc) {
      if (auto refusal = auth->check(rc.req, access::write))
        return std::move(*refusal);
      return fn(*ctx, rc);
    };
  };
  routes.add(http::verb::put, "/config", guarded(put_config));
  routes.add(http::verb::patch, "/config", guarded(patch_config));
  routes.add_prefix(http::verb::put, "/config/", guarded(put_config_path));
  routes.add_prefix(http::verb::delete_, "/config/",
                    guarded(delete_config_path));
  routes.add_prefix(http::verb::post, "/features/", guarded(post_feature));
  routes.add_prefix(http::verb::post, "/rollback/", guarded(post_rollback));
  routes.add_prefix(http::verb::delete_, "/nodes/", guarded(delete_node));
}

} // namespace cfgd

// Write routes. The body of a write is parsed with the same limits as a
// config file (depth, size) and errors name line and column; the write
// itself is one request to the validator, which orders it with every other
// change.
#include "api/writes.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <chrono>


#include "cfgactors/async_request.hpp"
#include "cfgactors/change_reason.hpp"
#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/secrets.hpp"
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

/// Who made the change, for the history: `api:<name>` for a named token
/// (the name cannot be claimed otherwise), else `api` or
/// `api:<X-Config-Origin>` (printable ASCII, at most 64 characters, e.g.
/// `cfgctl:alice`).
std::string origin_of(const api_context& ctx, const http::request& req) {
  if (auto who = ctx.auth->identify(req); who && !who->name.empty())
    return "api:" + who->name;
  auto it = req.find("X-Config-Origin");
  if (it == req.end())
    return "api";
  std::string out = "api:";
  for (auto c : it->value())
    if (c > ' ' && c < 127 && out.size() < 68)
      out += c;
  return out;
}

/// Who made the change, apart from the channel: a named token's name (the
/// only name a client cannot claim); empty for an unnamed token.
std::string author_of(const api_context& ctx, const http::request& req) {
  auto who = ctx.auth->identify(req);
  return who ? who->name : std::string{};
}

/// `?dry_run=`: 1/true asks for a dry run, 0/false (or none) for a write;
/// anything else is refused rather than guessed.
std::variant<bool, http::response> dry_run_param(const http::request_context& rc) {
  auto d = rc.param("dry_run");
  if (!d || *d == "0" || *d == "false")
    return false;
  if (*d == "1" || *d == "true")
    return true;
  return http::error_response(rc.req, status::bad_request, "bad parameter",
                              {"dry_run must be 1, true, 0 or false, got '"
                               + *d + "'"});
}

/// A dry run that passed admission (or would change nothing): the
/// difference it would make, masked as GET /diff masks it.
http::response dry_run_response(const api_context& ctx,
                                const http::request& req,
                                const write_result& result) {
  auto patch = result.diff.patch.is_null() ? json::array() : result.diff.patch;
  auto view = result.diff.view.is_null() ? json::object() : result.diff.view;
  if (!result.diff.secrets.empty() && !ctx.auth->may_read_secrets(req)) {
    cfgactors::secret_paths masks{result.diff.secrets};
    masks.mask_patch(patch);
    masks.mask_view(view);
  }
  auto res = http::json_response(req, status::ok,
                                 json{{"status", to_string(result.status)},
                                      {"dry_run", true},
                                      {"version", result.version},
                                      {"hash", result.hash},
                                      {"changes", std::move(view)},
                                      {"patch", std::move(patch)}});
  res.set("X-Config-Version", std::to_string(result.version));
  return res;
}

/// Sends `req` to the node's writer — the primary, which waits for the
/// replicas' acks as the level asks, or a replica, which forwards to the
/// primary — and answers with its result.
void send_write(const api_context_ptr& ctx, const http::request_context& rc,
                http::responder respond, write_request req,
                cfgactors::consistency level, uint32_t timeout_ms) {
  // Waiting for acks takes up to the write's timeout (the primary's default,
  // at most 30 s, when none is given).
  auto acks = level == cfgactors::consistency::local ? 0u
              : timeout_ms != 0                       ? timeout_ms
                                                      : 30000u;
  auto wait = ctx->timeout + std::chrono::milliseconds{acks};
  cfgactors::async_request<cfgactors::consistent_write_result>(
    ctx->sys, ctx->writer, wait,
    [ctx, &rc, respond, dry = req.dry_run](
      caf::expected<cfgactors::consistent_write_result> x) {
      if (x && dry && x->result.ok())
        return respond(dry_run_response(*ctx, rc.req, x->result));
      if (x)
        return respond(write_response(rc.req, *x));
      // A replica without a primary says so with an errc (503).
      auto& err = x.error();
      if (err.category() == cfgactors::errc_category)
        return respond(http::error_response(
          rc.req, status_of(static_cast<cfgactors::errc>(err.code())),
          to_string(static_cast<cfgactors::errc>(err.code())),
          {ctx->sys.render(err)}));
      respond(actor_error(*ctx, rc.req, err));
    },
    cfgactors::write_atom::value, std::move(req), level, timeout_ms);
}

/// Sends `ops` as one write: `?consistency=`, `?timeout_ms=` and `If-Match`
/// (the version whose hash it names, for compare-and-set; a stale hash is a
/// conflict at once) shape the request.
void submit(const api_context_ptr& ctx, const http::request_context& rc,
            http::responder respond, std::vector<operation> ops) {
  auto level = cfgactors::consistency::local;
  if (auto c = rc.param("consistency")) {
    auto parsed = cfgactors::parse_consistency(*c);
    if (!parsed)
      return respond(http::error_response(
        rc.req, status::bad_request, "bad parameter",
        {"consistency must be local, majority or all, got '" + *c + "'"}));
    level = *parsed;
  }
  uint32_t timeout_ms = 0; // the primary's default
  if (auto t = rc.param("timeout_ms")) {
    auto parsed = to_u64(*t);
    if (!parsed || *parsed == 0 || *parsed > ctx->max_timeout_ms)
      return respond(http::error_response(
        rc.req, status::bad_request, "bad parameter",
        {"timeout_ms must be 1.." + std::to_string(ctx->max_timeout_ms)
         + " (--max-timeout-ms), got '" + *t + "'"}));
    timeout_ms = static_cast<uint32_t>(*parsed);
  }
  write_request req{std::move(ops), origin_of(*ctx, rc.req), 0, {}};
  auto dry = dry_run_param(rc);
  if (auto res = std::get_if<http::response>(&dry))
    return respond(std::move(*res));
  req.dry_run = std::get<bool>(dry);
  req.author = author_of(*ctx, rc.req);
  if (auto why = rc.req.find(change_reason_header); why != rc.req.end()) {
    std::string text{why->value().data(), why->value().size()};
    if (auto problem = cfgactors::reason_problem(text))
      return respond(http::error_response(
        rc.req, status::bad_request, "bad header",
        {std::string{change_reason_header} + " is " + *problem
         + ": it takes printable UTF-8 text of at most "
         + std::to_string(cfgactors::max_reason_bytes) + " bytes"}));
    req.reason = std::move(text);
  }
  if (auto key = rc.req.find("Idempotency-Key"); key != rc.req.end()) {
    std::string text{key->value().data(), key->value().size()};
    // Printable ASCII, as the IETF draft's examples: a key is logged and
    // hashed, never interpreted.
    auto printable = std::all_of(text.begin(), text.end(), [](char c) {
      return c > 0x20 && c < 0x7f;
    });
    if (text.empty() || text.size() > 255 || !printable)
      return respond(http::error_response(
        rc.req, status::bad_request, "bad header",
        {"Idempotency-Key must be 1-255 printable ASCII characters without "
         "spaces"}));
    req.idempotency_key = std::move(text);
  }
  auto it = rc.req.find(boost::beast::http::field::if_match);
  if (it == rc.req.end())
    return send_write(ctx, rc, std::move(respond), std::move(req), level,
                      timeout_ms);
  std::string want{it->value().data(), it->value().size()};
  if (want.size() >= 2 && want.front() == '"' && want.back() == '"')
    want = want.substr(1, want.size() - 2);
  cfgactors::async_request<cfgactors::snapshot_ptr>(
    ctx->sys, ctx->store, ctx->timeout,
    [ctx, &rc, respond, req = std::move(req), level, timeout_ms,
     want](caf::expected<cfgactors::snapshot_ptr> snap) mutable {
      if (!snap)
        return respond(actor_error(*ctx, rc.req, snap.error()));
      if ((*snap)->hash != want)
        return respond(http::error_response(
          rc.req, status::conflict, "version conflict",
          {"If-Match names " + want.substr(0, 12) + ", but version "
           + std::to_string((*snap)->version) + " ("
           + (*snap)->hash.substr(0, 12) + ") is current"}));
      req.expected_version = (*snap)->version;
      send_write(ctx, rc, std::move(respond), std::move(req), level,
                 timeout_ms);
    },
    cfgactors::get_atom::value);
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

void put_config(const api_context_ptr& ctx, const http::request_context& rc,
                http::responder respond) {
  auto body = object_body(rc, "PUT /config takes a JSON object: the whole "
                              "runtime layer");
  if (auto res = std::get_if<http::response>(&body))
    return respond(std::move(*res));
  submit(ctx, rc, std::move(respond),
         {operation::set("", std::move(std::get<json>(body)))});
}

void patch_config(const api_context_ptr& ctx, const http::request_context& rc,
                  http::responder respond) {
  auto body = object_body(rc, "PATCH /config takes a JSON merge patch "
                              "(RFC 7386): an object");
  if (auto res = std::get_if<http::response>(&body))
    return respond(std::move(*res));
  submit(ctx, rc, std::move(respond),
         {operation::merge_patch(std::move(std::get<json>(body)))});
}

void put_config_path(const api_context_ptr& ctx,
                     const http::request_context& rc,
                     http::responder respond) {
  auto body = body_json(rc);
  if (auto res = std::get_if<http::response>(&body))
    return respond(std::move(*res));
  submit(ctx, rc, std::move(respond),
         {operation::set(rc.rest, std::move(std::get<json>(body)))});
}

void delete_config_path(const api_context_ptr& ctx,
                        const http::request_context& rc,
                        http::responder respond) {
  submit(ctx, rc, std::move(respond), {operation::unset(rc.rest)});
}

/// POST /features/<name>: `{"enabled": bool}` flips a flag (a flag with a
/// rollout or rules keeps them); any other object is the whole flag, checked
/// like every write (unknown fields and malformed rules are refused with
/// their path). A flag that does not exist yet is refused (404) unless the
/// request says `?create=true`: a typo must not create a flag.
void post_feature(const api_context_ptr& ctx, const http::request_context& rc,
                  http::responder respond) {
  auto& name = rc.rest;
  if (name.empty() || name.find_first_of(".[]") != std::string::npos)
    return respond(http::error_response(
      rc.req, status::bad_request, "bad request",
      {"POST /features/<name> takes a flag name without '.', '[' or ']', "
       "got '" + name + "'"}));
  auto body = object_body(rc, "POST /features/<name> takes {\"enabled\": "
                              "true|false} or a whole flag object");
  if (auto res = std::get_if<http::response>(&body))
    return respond(std::move(*res));
  auto& value = std::get<json>(body);
  operation op;
  if (value.size() == 1 && value.contains("enabled")) {
    if (!value["enabled"].is_boolean())
      return respond(http::error_response(
        rc.req, status::bad_request, "bad request",
        {"enabled: expected true or false, got " + value["enabled"].dump()}));
    op = operation::flag(name, value["enabled"].get<bool>());
  } else {
    op = operation::set("features." + name, std::move(value));
  }
  auto create = rc.param("create");
  if (create && *create != "true" && *create != "false")
    return respond(http::error_response(
      rc.req, status::bad_request, "bad parameter",
      {"create must be true or false, got '" + *create + "'"}));
  if (create && *create == "true")
    return submit(ctx, rc, std::move(respond), {std::move(op)});
  cfgactors::async_request<cfgactors::snapshot_ptr>(
    ctx->sys, ctx->store, ctx->timeout,
    [ctx, &rc, respond,
     op = std::move(op)](caf::expected<cfgactors::snapshot_ptr> snap) mutable {
      if (!snap)
        return respond(actor_error(*ctx, rc.req, snap.error()));
      auto features
        = (*snap)->effective.find(std::string_view{"features"});
      if (features == nullptr || !features->is_object()
          || !features->contains(rc.rest))
        return respond(http::error_response(
          rc.req, status::not_found, "unknown flag",
          {"no flag '" + rc.rest + "' in version "
           + std::to_string((*snap)->version) + "; POST /features/" + rc.rest
           + "?create=true creates it"}));
      submit(ctx, rc, std::move(respond), {std::move(op)});
    },
    cfgactors::get_atom::value);
}

void post_rollback(const api_context_ptr& ctx, const http::request_context& rc,
                   http::responder respond) {
  auto version = to_u64(rc.rest);
  if (!version || *version == 0)
    return respond(http::error_response(
      rc.req, status::bad_request, "bad request",
      {"POST /rollback/<version> takes a version number, got '" + rc.rest
       + "'"}));
  submit(ctx, rc, std::move(respond), {operation::rollback(*version)});
}

/// The node's own actions change no config and have no dry run: asked for
/// one, they refuse rather than act.
std::optional<http::response> no_dry_run(const http::request_context& rc,
                                         const char* route) {
  if (!rc.param("dry_run"))
    return std::nullopt;
  return http::error_response(rc.req, status::bad_request, "bad parameter",
                              {std::string{route}
                               + " changes no configuration and has no dry "
                                 "run"});
}

/// Forgets a replica that is gone for good (the primary refuses while it is
/// connected), so `all` writes stop waiting for it.
void delete_node(const api_context_ptr& ctx, const http::request_context& rc,
                 http::responder respond) {
  if (auto res = no_dry_run(rc, "DELETE /nodes/<name>"))
    return respond(std::move(*res));
  if (!ctx->node.is_primary())
    return respond(http::error_response(
      rc.req, status::bad_request, "bad request",
      {"only the primary keeps a list of replicas"}));
  ctx->node.forget(rc.rest, [ctx, &rc, respond](caf::expected<bool> done) {
    if (!done)
      return respond(actor_error(*ctx, rc.req, done.error()));
    respond(http::json_response(rc.req, status::ok,
                                json{{"forgotten", rc.rest}}));
  });
}

/// An operator makes a replica follow its primary's history whatever it is
/// (another cluster's, or behind the replica's): answered with the status
/// once the primary's snapshot is installed.
void post_resync(const api_context_ptr& ctx, const http::request_context& rc,
                 http::responder respond) {
  if (auto res = no_dry_run(rc, "POST /cluster/resync"))
    return respond(std::move(*res));
  if (ctx->node.is_primary())
    return respond(http::error_response(
      rc.req, status::bad_request, "bad request",
      {"a primary has no primary to resync from"}));
  auto name = ctx->node.name();
  ctx->node.resync([ctx, &rc, respond, name](
                     caf::expected<cfgactors::replica_status> st) {
    if (!st)
      return respond(actor_error(*ctx, rc.req, st.error()));
    respond(http::json_response(rc.req, status::ok, replica_json(name, *st)));
  });
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
    case errc::unauthenticated: // this node's link to its primary
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
    // etcd without quorum, a node cut off from it: worth a retry soon.
    if (result.code == cfgactors::errc::unavailable)
      res.set(boost::beast::http::field::retry_after, "1");
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

void add_write_routes(http::router& routes, api_context_ptr ctx,
                      std::shared_ptr<const authorizer> auth) {
  auto bind = [ctx](route_fn fn) { return bind_route(ctx, fn); };
  // A refused write has its body never read and reaches no actor.
  auto writers = token_gate(auth, access::write);
  using http::verb;
  routes.add(verb::put, "/config", bind(put_config), writers);
  routes.add(verb::patch, "/config", bind(patch_config), writers);
  routes.add_prefix(verb::put, "/config/", bind(put_config_path), writers);
  routes.add_prefix(verb::delete_, "/config/", bind(delete_config_path),
                    writers);
  routes.add_prefix(verb::post, "/features/", bind(post_feature), writers);
  routes.add_prefix(verb::post, "/rollback/", bind(post_rollback), writers);
  routes.add_prefix(verb::delete_, "/nodes/", bind(delete_node), writers);
  routes.add(verb::post, "/cluster/resync", bind(post_resync), writers);
}

} // namespace cfgd

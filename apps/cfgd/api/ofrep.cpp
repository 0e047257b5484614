// The OFREP routes: parse the request, evaluate over the current snapshot,
// answer with the protocol's bodies. The bulk answer carries an ETag of the
// configuration and the context, and the event stream it may listen to.
#include "api/ofrep.hpp"

#include <string>
#include <string_view>
#include <utility>
#include <variant>

#include <boost/beast/http/field.hpp>

#include "cfgactors/flags.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/ofrep.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/secrets.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgd {

using cfgactors::json;
using http::status;
namespace bhttp = boost::beast::http;

namespace {

/// Clients hold an event stream open this long while inactive (a hidden
/// browser tab) before they close it; the protocol's default.
constexpr int inactivity_delay_sec = 120;

/// Whether a secret value lies under `features`. Without one, a caller
/// that may not see secrets evaluates the snapshot's own flags, compiled
/// once for every request on that version.
bool secret_in_features(const cfgactors::snapshot& snap) {
  static const auto at = *cfgactors::config_path::parse("features");
  auto features = snap.effective.find(at);
  if (features == nullptr)
    return false;
  bool found = false;
  snap.secrets->for_each(
    *features, at,
    [&found](const cfgactors::config_path&, const json&) { found = true; });
  return found;
}

/// Evaluates with `fn` over `snap` as the caller may see it: a flag whose
/// values are secret shows them only to a token with the `secrets` scope.
template <class Fn>
cfgactors::ofrep_answer over(const cfgactors::snapshot_ptr& snap,
                             bool secrets, Fn fn) {
  if (!snap->secrets || secrets || !secret_in_features(*snap))
    return fn(cfgactors::feature_flags{snap});
  // Evaluation reads `features` only: mask a copy of that subtree, not of
  // the whole configuration. Its flags are compiled for this request alone.
  static const auto at = *cfgactors::config_path::parse("features");
  auto shown = json::object();
  if (auto it = snap->effective.find(at); it != nullptr) {
    auto features = *it;
    snap->secrets->mask(features, at);
    shown["features"] = std::move(features);
  }
  return fn(cfgactors::feature_flags{shown});
}

http::response answer(const http::request& req,
                      const cfgactors::ofrep_answer& a,
                      const cfgactors::snapshot& snap) {
  auto res = http::json_response(req, static_cast<status>(a.status), a.body);
  res.set("X-Config-Version", std::to_string(snap.version));
  res.set(bhttp::field::cache_control, "no-cache");
  return res;
}

/// The bulk ETag: the configuration's hash, the context and whether
/// secrets were shown, so that two contexts never share a tag.
std::string bulk_etag(const cfgactors::snapshot& snap, const json& context,
                      bool secrets) {
  auto digest = cfgactors::sha256_hex(snap.hash + (secrets ? "\ns\n" : "\nm\n")
                                      + context.dump());
  return "\"" + digest.substr(0, 32) + "\"";
}

void post_flag(const api_context_ptr& ctx, const http::request_context& rc,
               http::responder respond) {
  cfgactors::ofrep_answer refused;
  auto context = cfgactors::ofrep_request_context(rc.req.body(), rc.rest,
                                                  refused);
  if (!context) {
    auto res = http::json_response(rc.req,
                                   static_cast<status>(refused.status),
                                   refused.body);
    return respond(std::move(res));
  }
  auto secrets = ctx->auth->may_read_secrets(
    rc.req, credentials::bearer_or_api_key);
  with_snapshot(ctx, rc, std::move(respond),
                [&rc, secrets, context = std::move(*context)](
                  const cfgactors::snapshot_ptr& snap) {
                  auto a = over(snap, secrets, [&](auto&& flags) {
                    return cfgactors::ofrep_evaluate(flags, rc.rest, context);
                  });
                  return answer(rc.req, a, *snap);
                });
}

void post_flags(const api_context_ptr& ctx, const http::request_context& rc,
                http::responder respond) {
  cfgactors::ofrep_answer refused;
  auto context = cfgactors::ofrep_request_context(rc.req.body(), {}, refused);
  if (!context)
    return respond(http::json_response(
      rc.req, static_cast<status>(refused.status), refused.body));
  auto secrets = ctx->auth->may_read_secrets(
    rc.req, credentials::bearer_or_api_key);
  // flagConfigEtag / flagConfigLastModified (sent after an event) need no
  // handling: every answer is evaluated on the newest snapshot anyway.
  with_snapshot(
    ctx, rc, std::move(respond),
    [&rc, secrets, context = std::move(*context)](
      const cfgactors::snapshot_ptr& snap) {
      auto etag = bulk_etag(*snap, context, secrets);
      if (http::if_none_match(rc.req, etag)) {
        http::response res{status::not_modified, rc.req.version()};
        res.set(bhttp::field::server, "cfgd");
        res.set(bhttp::field::etag, etag);
        res.set(bhttp::field::cache_control, "no-cache");
        res.set("X-Config-Version", std::to_string(snap->version));
        return res;
      }
      auto a = over(snap, secrets, [&](auto&& flags) {
        return cfgactors::ofrep_evaluate_all(flags, context);
      });
      if (a.status == 200) {
        a.body["eventStreams"] = json::array(
          {json{{"type", "sse"},
                {"endpoint", {{"requestUri", ofrep_events_path}}},
                {"inactivityDelaySec", inactivity_delay_sec}}});
        a.body["metadata"] = json{{"version", snap->version}};
      }
      auto res = answer(rc.req, a, *snap);
      if (a.status == 200)
        res.set(bhttp::field::etag, etag);
      return res;
    });
}

} // namespace

void add_ofrep_routes(http::router& routes, api_context_ptr ctx,
                      std::shared_ptr<ofrep_events> events) {
  auto bind = [ctx](route_fn fn) { return bind_route(ctx, fn); };
  // The reads' gate, with the protocol's X-API-Key as a second way to
  // present the token.
  auto readers = readers_gate(ctx, credentials::bearer_or_api_key);
  routes.add(http::verb::post, "/ofrep/v1/evaluate/flags", bind(post_flags),
             readers);
  routes.add_prefix(http::verb::post, "/ofrep/v1/evaluate/flags/",
                    bind(post_flag), readers);
  routes.add_stream(
    ofrep_events_path,
    [events](boost::beast::tcp_stream& stream, http::request& req,
             http::connection_ticket ticket) {
      return events->open(stream, req, std::move(ticket));
    },
    readers);
}

} // namespace cfgd

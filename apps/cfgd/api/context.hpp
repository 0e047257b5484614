// What every route of cfgd's API works with: the node it serves, and how to
// ask the node's actors without ever blocking the io thread, turning their
// answers and errors into HTTP responses.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "cfgactors/async_request.hpp"
#include "cfgactors/node.hpp"
#include "cfgactors/snapshot.hpp"

#include "api/auth.hpp"
#include "http/message.hpp"
#include "http/router.hpp"
#include "http/responder.hpp"

namespace cfgd {

/// The node cfgd runs (a primary, or a replica with --join) and how long a
/// route waits for one of its actors before answering 503. Handlers use
/// `node` on the io thread only; answers arrive on actor threads, where only
/// `sys` (it outlives every request) and the node's actor handles are used.
struct api_context {
  api_context(cfgactors::node& n, caf::actor_system& sys,
              std::shared_ptr<const authorizer> auth,
              std::chrono::milliseconds timeout, uint32_t max_history,
              uint32_t max_timeout_ms)
    : node(n), sys(sys), store(n.store()), writer(n.writer()),
      auth(std::move(auth)), timeout(timeout), max_history(max_history),
      max_timeout_ms(max_timeout_ms) {
    // nop
  }

  cfgactors::node& node;
  caf::actor_system& sys;
  cfgactors::store_actor store;             ///< the node's, for reads
  cfgactors::consistent_writer_actor writer; ///< the node's, for writes
  std::shared_ptr<const authorizer> auth;    ///< who may do what
  std::chrono::milliseconds timeout{5000}; ///< per actor request; then 503
  uint32_t max_history = 100;              ///< default and cap of ?limit=
  uint32_t max_timeout_ms = 60000;         ///< cap of a write's ?timeout_ms=
};

using api_context_ptr = std::shared_ptr<const api_context>;

/// An actor's error as an HTTP error: unknown versions are 404, an actor
/// that is gone or too slow is 503.
http::response actor_error(const api_context& ctx, const http::request& req,
                           const caf::error& err);

/// Asks `dest` without blocking and answers `respond` with `then(answer)`,
/// or with the actor's error (actor_error). `then` runs on an actor thread.
/// `rc` stays valid until `respond` answered.
template <class T, class Handle, class Then, class... Ts>
void ask(const api_context_ptr& ctx, const http::request_context& rc,
         http::responder respond, const Handle& dest, Then then,
         Ts... xs) {
  cfgactors::async_request<T>(
    ctx->sys, dest, ctx->timeout,
    [ctx, &rc, respond = std::move(respond),
     then = std::move(then)](caf::expected<T> x) {
      if (!x)
        return respond(actor_error(*ctx, rc.req, x.error()));
      respond(then(*x));
    },
    std::move(xs)...);
}

/// The current snapshot of the node's store, then `then(snapshot)`.
template <class Then>
void with_snapshot(const api_context_ptr& ctx, const http::request_context& rc,
                   http::responder respond, Then then) {
  ask<cfgactors::snapshot_ptr>(ctx, rc, std::move(respond), ctx->store,
                               std::move(then), cfgactors::get_atom::value);
}

/// A replica that has never synced with its primary: no config to serve.
bool never_synced(const api_context& ctx);

/// The gate of every read route: the reads' token rule (the token presented
/// as `from` allows), then 503 on a replica that never synced (no config to
/// serve: 503, not `{}`).
http::gate readers_gate(api_context_ptr ctx,
                        credentials from = credentials::bearer);

/// A route over the API context: answers through its responder.
using route_fn = void (*)(const api_context_ptr&, const http::request_context&,
                          http::responder);

/// The router's handler for `fn`.
inline http::handler bind_route(api_context_ptr ctx, route_fn fn) {
  return [ctx = std::move(ctx), fn](const http::request_context& rc,
                                    http::responder respond) {
    fn(ctx, rc, std::move(respond));
  };
}

/// A replica as it reports itself (GET /nodes, POST /cluster/resync).
cfgactors::json replica_json(const std::string& name,
                             const cfgactors::replica_status& st);

/// A whole decimal number, nothing else.
std::optional<uint64_t> to_u64(std::string_view text);

} // namespace cfgd

// Maps method + path to handlers: exact and prefix routes, WebSocket
// upgrades, and the 404/405 answers for everything else.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include <boost/beast/core/tcp_stream.hpp>

#include "http/message.hpp"
#include "http/responder.hpp"

namespace cfgd::http {

/// Answers a request through its responder, at once or later. The request
/// context (and the request it refers to) stays valid until it answered.
using handler = std::function<void(const request_context&, responder)>;

/// Judges a request on its headers alone, before its body is read: nullopt
/// admits it, a response refuses it (and the body is never read).
using gate = std::function<std::optional<response>(const request&)>;

/// Keeps a connection counted against the server's limits while held: the
/// WebSocket session a connection became holds it for its lifetime.
using connection_ticket = std::shared_ptr<const void>;

/// Takes over a connection whose request asks for a WebSocket upgrade: either
/// moves the stream (and keeps the ticket) and returns nullopt, or leaves
/// both and returns the response that refuses the upgrade (401, ...).
using upgrade_handler = std::function<std::optional<response>(
  boost::beast::tcp_stream& stream, request& req, connection_ticket ticket)>;

/// Told of every answered request (on the io thread): its route label (see
/// router::route_label), its status and how long it took from its headers.
using request_observer
  = std::function<void(const request&, const std::string& route,
                       unsigned status, double seconds)>;

/// Maps (method, path) to handlers. Exact routes win over prefix routes; a
/// path served under another method yields 405 with `Allow`, anything else
/// 404.
class router {
public:
  /// Serves `method path` exactly (`/config`); `admit` judges the headers
  /// first (e.g. the bearer token).
  void add(verb method, std::string path, handler fn, gate admit = {});

  /// Serves every path that starts with `prefix` (`/config/`); the handler
  /// finds the decoded remainder in `request_context::rest`.
  void add_prefix(verb method, std::string prefix, handler fn,
                  gate admit = {});

  /// Runs before every route's own gate (e.g. `Host` and `Origin` checks).
  void set_gate(gate admit);

  /// The answer to `req` on its headers alone: nullopt when its body may be
  /// read and the request dispatched; else the refusal (400 for a bad
  /// target, 404, 405, or a gate's answer).
  std::optional<response> admit(const request& req) const;

  /// Serves WebSocket upgrades of `path` (`/ws`).
  void add_upgrade(std::string path, upgrade_handler fn);

  /// Serves `GET path` with a response that never ends (Server-Sent
  /// Events): `admit` judges the headers like any route's gate, then `fn`
  /// takes the connection over, as an upgrade handler does.
  void add_stream(std::string path, upgrade_handler fn, gate admit = {});

  /// The stream handler for `req` (a GET of a stream route's path), if any.
  const upgrade_handler* stream_for(const request& req) const;

  /// Decodes `rc.req`'s target into `rc` (path, rest, query) and runs the
  /// matching handler, which answers through `respond`. `rc` must live until
  /// `respond` answered (the session that owns it is kept alive by the
  /// responder). Never throws: a handler that throws yields 500.
  void dispatch(request_context& rc, responder respond) const;

  /// The pattern of the route serving `req`'s path, whatever its method:
  /// `/config`, `/config/*` for a prefix route, `/ws` for an upgrade or an
  /// event stream; `other` for a path no route serves. A metrics label that
  /// only takes as many values as there are routes.
  std::string route_label(const request& req) const;

  /// Tells `fn` about every answered request (one observer; cfgd's metrics).
  void set_observer(request_observer fn);

  /// Tells the observer, if any, that `req` was answered with `status`.
  void observe(const request& req, unsigned status, double seconds) const;

  /// The upgrade handler for `req`'s path, if any.
  const upgrade_handler* upgrade_for(const request& req) const;

private:
  struct route {
    verb method;
    std::string path;
    bool prefix;
    handler fn;
    gate admit;
  };

  /// The route serving `req`, or the response refusing it.
  std::variant<const route*, response> match(const request& req) const;

  gate gate_;
  request_observer observer_;
  std::vector<route> routes_;
  std::vector<std::pair<std::string, upgrade_handler>> upgrades_;
  std::vector<std::pair<std::string, upgrade_handler>> streams_;
};

} // namespace cfgd::http

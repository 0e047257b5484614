#include "http/router.hpp"

#include <algorithm>
#include <exception>
#include <string_view>

#include <boost/beast/http/field.hpp>

#include <spdlog/spdlog.h>

namespace cfgd::http {

namespace bhttp = boost::beast::http;

namespace {

/// Splits `a=1&b=x%20y` into decoded pairs; the last of repeated keys wins.
bool parse_query(std::string_view text,
                 std::map<std::string, std::string, std::less<>>& out) {
  while (!text.empty()) {
    auto amp = text.find('&');
    auto pair = text.substr(0, amp);
    text = amp == std::string_view::npos ? std::string_view{}
                                         : text.substr(amp + 1);
    if (pair.empty())
      continue;
    auto eq = pair.find('=');
    auto key = url_decode(pair.substr(0, eq), true);
    auto value = url_decode(eq == std::string_view::npos ? std::string_view{}
                                                         : pair.substr(eq + 1),
                            true);
    if (!key || !value)
      return false;
    out[std::move(*key)] = std::move(*value);
  }
  return true;
}

} // namespace

void router::add(verb method, std::string path, handler fn, gate admit) {
  routes_.push_back(
    route{method, std::move(path), false, std::move(fn), std::move(admit)});
}

void router::add_prefix(verb method, std::string prefix, handler fn,
                        gate admit) {
  routes_.push_back(
    route{method, std::move(prefix), true, std::move(fn), std::move(admit)});
}

void router::set_gate(gate admit) {
  gate_ = std::move(admit);
}

std::optional<response> router::admit(const request& req) const {
  auto found = match(req);
  if (auto refusal = std::get_if<response>(&found))
    return std::move(*refusal);
  if (gate_)
    if (auto refusal = gate_(req))
      return refusal;
  auto& r = *std::get<const route*>(found);
  if (r.admit)
    return r.admit(req);
  return std::nullopt;
}

void router::add_upgrade(std::string path, upgrade_handler fn) {
  upgrades_.emplace_back(std::move(path), std::move(fn));
}

const upgrade_handler* router::upgrade_for(const request& req) const {
  std::string_view target{req.target().data(), req.target().size()};
  auto path = target.substr(0, target.find('?'));
  for (auto& [p, fn] : upgrades_)
    if (p == path)
      return &fn;
  return nullptr;
}

void router::add_stream(std::string path, upgrade_handler fn, gate admit) {
  // Listed with the routes too, so that admit() judges it (Host, token) and
  // other methods get 405. Its handler only runs when a request reaches
  // dispatch() without the session (a test harness).
  routes_.push_back(route{
    verb::get, path, false,
    [](const request_context& rc, responder respond) {
      respond(error_response(rc.req, status::bad_request, "bad request",
                             {"this path streams events; the server's "
                              "sessions serve it"}));
    },
    std::move(admit)});
  streams_.emplace_back(std::move(path), std::move(fn));
}

const upgrade_handler* router::stream_for(const request& req) const {
  if (req.method() != verb::get)
    return nullptr;
  std::string_view target{req.target().data(), req.target().size()};
  auto path = target.substr(0, target.find('?'));
  for (auto& [p, fn] : streams_)
    if (p == path)
      return &fn;
  return nullptr;
}

std::string router::route_label(const request& req) const {
  std::string_view target{req.target().data(), req.target().size()};
  auto raw_path = target.substr(0, target.find('?'));
  if (raw_path.empty() || raw_path.front() != '/')
    return "other";
  const route* longest_prefix = nullptr;
  for (auto& r : routes_) {
    if (!r.prefix && raw_path == r.path)
      return r.path;
    if (r.prefix && raw_path.substr(0, r.path.size()) == r.path
        && (!longest_prefix || r.path.size() > longest_prefix->path.size()))
      longest_prefix = &r;
  }
  for (auto* named : {&upgrades_, &streams_})
    for (auto& entry : *named)
      if (entry.first == raw_path)
        return entry.first;
  if (longest_prefix)
    return longest_prefix->path + "*";
  return "other";
}

void router::set_observer(request_observer fn) {
  observer_ = std::move(fn);
}

void router::observe(const request& req, unsigned status,
                     double seconds) const {
  if (observer_)
    observer_(req, route_label(req), status, seconds);
}

std::variant<const router::route*, response>
router::match(const request& req) const {
  std::string_view target{req.target().data(), req.target().size()};
  if (target.empty() || target.front() != '/')
    return error_response(req, status::bad_request, "bad request",
                          {"the request target must be an absolute path"});
  auto qmark = target.find('?');
  auto raw_path = target.substr(0, qmark);
  // Routes match the raw path: an escaped `/` in a config key must not
  // change which route serves it.
  const route* exact = nullptr;
  const route* longest_prefix = nullptr;
  std::vector<verb> allowed;
  auto consider = [&](const route& r) {
    bool matches = r.prefix ? raw_path.substr(0, r.path.size()) == r.path
                            : raw_path == r.path;
    if (!matches)
      return;
    // HEAD is served by GET routes; the session sends the headers only.
    bool same = r.method == req.method()
                || (req.method() == verb::head && r.method == verb::get);
    if (!same) {
      allowed.push_back(r.method);
      return;
    }
    if (!r.prefix)
      exact = &r;
    else if (!longest_prefix || r.path.size() > longest_prefix->path.size())
      longest_prefix = &r;
  };
  for (auto& r : routes_)
    consider(r);
  auto chosen = exact ? exact : longest_prefix;
  if (!chosen) {
    if (allowed.empty())
      return error_response(req, status::not_found, "not found");
    std::string allow;
    std::sort(allowed.begin(), allowed.end());
    allowed.erase(std::unique(allowed.begin(), allowed.end()), allowed.end());
    if (std::find(allowed.begin(), allowed.end(), verb::get) != allowed.end())
      allowed.push_back(verb::head);
    for (auto m : allowed) {
      if (!allow.empty())
        allow += ", ";
      allow += std::string{bhttp::to_string(m)};
    }
    auto res = error_response(req, status::method_not_allowed,
                              "method not allowed",
                              {std::string{req.method_string()} + " "
                               + std::string{raw_path}});
    res.set(bhttp::field::allow, allow);
    return res;
  }
  return chosen;
}

void router::dispatch(request_context& rc, responder respond) const {
  auto& req = rc.req;
  // The session judged the headers before reading the body; judging them
  // again keeps a dispatch without that step (a test harness) just as safe.
  if (auto refusal = admit(req))
    return respond(std::move(*refusal));
  auto chosen = std::get<const route*>(match(req));
  std::string_view target{req.target().data(), req.target().size()};
  auto qmark = target.find('?');
  auto raw_path = target.substr(0, qmark);
  auto path = url_decode(raw_path);
  auto rest = chosen->prefix ? url_decode(raw_path.substr(chosen->path.size()))
                             : std::optional<std::string>{std::string{}};
  if (!path || !rest
      || (qmark != std::string_view::npos
          && !parse_query(target.substr(qmark + 1), rc.query)))
    return respond(error_response(
      req, status::bad_request, "bad request",
      {"malformed percent-encoding in the request target"}));
  rc.path = std::move(*path);
  rc.rest = std::move(*rest);
  try {
    chosen->fn(rc, respond);
  } catch (const std::exception& e) {
    spdlog::error("event=http_handler_failed target=\"{}\" what=\"{}\"",
                  target, e.what());
    respond(error_response(req, status::internal_server_error,
                           "internal error", {e.what()}));
  }
}

} // namespace cfgd::http

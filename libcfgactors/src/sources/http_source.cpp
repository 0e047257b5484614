#include "cfgactors/http_source.hpp"

#include <algorithm>
#include <memory>
#include <optional>
#include <utility>
#include <vector>

#include <caf/scoped_actor.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "cfgactors/errc.hpp"
#include "cfgactors/parse.hpp"
#include "sources/backoff.hpp"
#include "sources/first_poll.hpp"
#include "sources/positive_interval.hpp"
#include "sources/http_client.hpp"
#include "core/log.hpp"
#include "sources/propose.hpp"
#include "sources/url.hpp"

namespace cfgactors {

namespace {

using detail::first_poll_atom;

/// The public interface plus the poll timer. A tick carries the number of
/// the poll it was scheduled for, so a tick that a reload overtook is void.
using http_source_actor
  = source_actor::extend<caf::reacts_to<tick_atom, uint64_t>,
                         caf::replies_to<first_poll_atom>::with<source_status>>;

using status_promise = caf::typed_response_promise<source_status>;

struct http_source_state {
  static inline const char* name = "cfgactors.http_source";

  http_source_options options;
  validator_actor validator;
  std::optional<detail::url> endpoint; ///< empty if the URL is unusable
  std::string endpoint_error;          ///< why it is unusable
  std::string config_url;              ///< `{endpoint}/config`, for messages
  std::unique_ptr<detail::http_client> client;
  std::optional<detail::backoff> retry;
  source_status status;
  std::string etag; ///< of the last body the validator accepted
  uint64_t tick = 0;
  bool busy = false; ///< a poll waits for the validator's answer
  std::vector<status_promise> waiting; ///< reloads the current poll answers
  std::vector<status_promise> queued;  ///< reloads that want another poll
  bool for_good = false; ///< the current poll failed in a way retries cannot fix
  /// Answered once a poll succeeded or failed for good.
  detail::first_poll_waiters first;
};

using http_source_ptr = http_source_actor::stateful_pointer<http_source_state>;

void poll(http_source_ptr self);

/// Ends a poll: schedules the next one, answers the reloads that waited.
void done(http_source_ptr self, bool ok) {
  auto& st = self->state;
  std::chrono::milliseconds delay;
  if (ok) {
    if (st.retry->failures() > 0)
      detail::log().info("event=http_source_recovered endpoint=\"{}\" "
                         "failures={} version={}",
                         st.options.endpoint, st.retry->failures(),
                         st.status.version);
    st.retry->reset();
    delay = st.options.interval;
    detail::log().debug("event=http_source_polled endpoint=\"{}\" "
                        "next_in_ms={}",
                        st.options.endpoint, delay.count());
  } else {
    delay = st.retry->next();
    // One line per event: a validator's answer lists its reasons on lines.
    auto error = st.status.last_error;
    std::replace(error.begin(), error.end(), '\n', ' ');
    detail::log().warn("event=http_source_failed endpoint=\"{}\" error=\"{}\" "
                       "retry_in_ms={}",
                       st.options.endpoint, error, delay.count());
  }
  // An unusable endpoint never heals: only a reload tries it again.
  if (st.endpoint)
    self->delayed_send(self, delay, tick_atom::value, st.tick);
  if (ok || st.for_good)
    st.first.settle(ok ? caf::error{}
                       : make_error(errc::unavailable, st.status.last_error),
                    st.status);
  for (auto& rp : st.waiting)
    rp.deliver(st.status);
  st.waiting.clear();
  st.busy = false;
  if (!st.queued.empty())
    poll(self);
}

/// A failure before any proposal: the last good layer stays.
void read_failed(http_source_ptr self, std::string why) {
  auto& st = self->state;
  ++st.status.errors;
  st.status.fail(std::move(why));
  done(self, false);
}

std::string snippet(const std::string& body) {
  constexpr std::size_t max_len = 160;
  auto out = body.substr(0, max_len);
  for (auto& c : out)
    if (static_cast<unsigned char>(c) < 0x20)
      c = ' ';
  if (body.size() > max_len)
    out += "...";
  return out;
}

std::string status_failure(const http_source_state& st,
                           const detail::http_reply& reply) {
  auto out = "GET " + st.config_url + " answered "
             + std::to_string(reply.status) + " " + reply.reason;
  if (reply.status == 401)
    return out
           + (st.options.token.empty()
                ? ": unauthorized (the server wants a token; none is set)"
                : ": unauthorized (the server refused the token)");
  if (reply.status == 403)
    return out + ": forbidden (the token lacks the permission)";
  if (!reply.body.empty())
    out += ": " + snippet(reply.body);
  return out;
}

void handle_body(http_source_ptr self, detail::http_reply reply) {
  auto& st = self->state;
  // parse_error::str() names the URL, line and column.
  auto doc = parse_document(reply.body, document_format::json, st.config_url);
  if (!doc) {
    read_failed(self, doc.error->str());
    return;
  }
  if (!doc.value.is_object()) {
    read_failed(self, st.config_url + ": the body is a JSON "
                        + std::string{doc.value.type_name()}
                        + ", not an object");
    return;
  }
  auto layer = st.status.layer;
  write_request req{{operation::replace_layer(layer, std::move(doc.value))},
                    layer,
                    0,
                    {}};
  detail::propose(self, st.validator, std::move(req), st.status,
                  [self, etag = std::move(reply.etag)](const write_result& r) {
                    // The validator has the body now: only then may the
                    // server answer 304 for it.
                    if (r.ok())
                      self->state.etag = etag;
                    done(self, r.ok());
                  });
}

void poll(http_source_ptr self) {
  auto& st = self->state;
  st.busy = true;
  st.for_good = false;
  ++st.tick;
  st.waiting = std::move(st.queued);
  st.queued.clear();
  ++st.status.reads;
  if (!st.endpoint) {
    st.for_good = true;
    read_failed(self, st.endpoint_error);
    return;
  }
  detail::http_headers headers;
  if (!st.options.token.empty())
    headers.emplace_back("Authorization", "Bearer " + st.options.token);
  if (!st.etag.empty())
    headers.emplace_back("If-None-Match", st.etag);
  std::string error;
  // Blocks this (detached) actor's thread for at most the two timeouts.
  auto reply = st.client->get(*st.endpoint, st.endpoint->target("/config"),
                              headers, error);
  if (!reply) {
    st.for_good = st.client->failed_for_good();
    read_failed(self, "GET " + st.config_url + ": " + error);
    return;
  }
  switch (reply->status) {
    case 200:
      handle_body(self, std::move(*reply));
      return;
    case 304:
      st.status.succeed();
      done(self, true);
      return;
    default:
      // No token, a refused one, no such config: a person must act.
      st.for_good = reply->status == 401 || reply->status == 403
                    || reply->status == 404;
      read_failed(self, status_failure(st, *reply));
  }
}

http_source_actor::behavior_type
http_source(http_source_ptr self, validator_actor validator,
            http_source_options options) {
  auto& st = self->state;
  st.status.kind = "http";
  st.status.layer = "http:" + options.endpoint;
  st.endpoint = detail::parse_url(options.endpoint, st.endpoint_error);
  if (st.endpoint && st.endpoint->scheme != "http"
      && st.endpoint->scheme != "https") {
    st.endpoint_error = "invalid endpoint '" + options.endpoint
                        + "': the scheme must be http or https";
    st.endpoint.reset();
  }
  if (st.endpoint
      && options.token.find_first_of("\r\n") != std::string::npos) {
    // It would end the header early (and must not appear in the message).
    st.endpoint_error = "the token for '" + options.endpoint
                        + "' contains a line break";
    st.endpoint.reset();
  }
  st.config_url = options.endpoint;
  while (!st.config_url.empty() && st.config_url.back() == '/')
    st.config_url.pop_back();
  st.config_url += "/config";
  if (st.endpoint) {
    if (auto why = options_error(options); !why.empty()) {
      st.endpoint_error = why;
      st.endpoint.reset();
    }
  }
  st.client = std::make_unique<detail::http_client>(
    detail::http_limits{options.connect_timeout, options.read_timeout,
                        options.max_body},
    detail::tls_files{options.ca_file, options.cert_file, options.key_file});
  st.retry.emplace(options.error_backoff.value_or(2 * options.interval),
                   options.max_backoff);
  st.validator = std::move(validator);
  st.options = std::move(options);
  self->send(self, tick_atom::value, st.tick);
  return {
    [self](status_atom) { return self->state.status; },
    [self](reload_atom) -> caf::result<source_status> {
      auto& st = self->state;
      auto rp = self->make_response_promise<source_status>();
      st.queued.push_back(rp);
      if (!st.busy)
        poll(self);
      return rp;
    },
    [self](tick_atom, uint64_t tick) {
      auto& st = self->state;
      if (tick == st.tick && !st.busy)
        poll(self);
    },
    [self](first_poll_atom) -> caf::result<source_status> {
      auto& st = self->state;
      return st.first.await(self, st.status);
    },
  };
}

} // namespace

std::string options_error(const http_source_options& options) {
  auto why = detail::positive_interval("interval", options.interval);
  if (why.empty() && options.error_backoff)
    why = detail::positive_interval("error_backoff", *options.error_backoff);
  if (why.empty())
    why = detail::positive_interval("max_backoff", options.max_backoff);
  if (why.empty())
    why = detail::positive_interval("connect_timeout", options.connect_timeout);
  if (why.empty())
    why = detail::positive_interval("read_timeout", options.read_timeout);
  if (!why.empty())
    return "remote '" + options.endpoint + "': " + why;
  if (options.key_file.size() > 0 && options.cert_file.empty())
    return "remote '" + options.endpoint + "': a key_file needs its cert_file";
  return {};
}

caf::error await_first_poll(caf::actor_system& sys, const source_actor& src,
                            std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  caf::error result;
  auto timed_out = false;
  // The source's typed interface does not name first_poll; it is private.
  self->request(caf::actor_cast<caf::actor>(src), timeout,
                first_poll_atom::value)
    .receive([](source_status&) {},
             [&](caf::error& err) {
               timed_out = err == caf::sec::request_timeout;
               result = std::move(err);
             });
  if (!timed_out)
    return result;
  std::string last = "no poll finished";
  self->request(src, std::chrono::seconds{5}, status_atom::value)
    .receive(
      [&](source_status& st) {
        if (!st.last_error.empty())
          last = st.last_error;
      },
      [](caf::error&) {});
  return make_error(errc::timeout, "no answer from the remote within "
                                     + std::to_string(timeout.count())
                                     + " ms; last failure: " + last);
}

source_actor spawn_http_source(caf::actor_system& sys,
                               validator_actor validator,
                               http_source_options options) {
  // Detached: HTTP calls block, and must not hold a scheduler thread.
  auto hdl = sys.spawn<caf::detached>(http_source, std::move(validator),
                                      std::move(options));
  return hdl;
}

} // namespace cfgactors

#include "cfgactors/ws_source.hpp"

#include <algorithm>
#include <deque>
#include <memory>
#include <optional>
#include <vector>
#include <utility>

#include <caf/send.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/typed_response_promise.hpp>

#include "cfgactors/parse.hpp"
#include "core/log.hpp"
#include "cfgactors/errc.hpp"
#include "sources/first_poll.hpp"
#include "sources/positive_interval.hpp"
#include "sources/propose.hpp"
#include "sources/url.hpp"
#include "sources/ws_client.hpp"

namespace cfgactors {

namespace {

// What the I/O thread tells the actor.
using ws_up_atom = caf::atom_constant<caf::atom("ws_up")>;
using ws_down_atom = caf::atom_constant<caf::atom("ws_down")>;
using ws_text_atom = caf::atom_constant<caf::atom("ws_text")>;

using ws_source_actor = source_actor::extend<
  caf::reacts_to<ws_up_atom>,
  caf::reacts_to<ws_down_atom, std::string, int64_t, bool>,
  caf::reacts_to<ws_text_atom, std::string>,
  caf::replies_to<detail::first_poll_atom>::with<source_status>>;

using status_promise = caf::typed_response_promise<source_status>;

/// How long a `reload` waits for each source it asks to re-read.
constexpr auto reload_timeout = std::chrono::seconds{30};

struct ws_source_state {
  static inline const char* name = "cfgactors.ws_source";

  ws_source_options options;
  validator_actor validator;
  source_status status;
  /// The layer as the validator last accepted it; every action edits a
  /// copy, which replaces this only once the validator agreed.
  json layer = json::object();
  /// Messages wait here while one is in progress, so that each action
  /// edits the layer its predecessor left.
  std::deque<std::string> inbox;
  bool busy = false;
  std::vector<status_promise> reloads; ///< answered once the inbox is empty
  std::unique_ptr<detail::ws_client> client;
  /// Answered at the first registration or the first failure for good.
  detail::first_poll_waiters first;
};


using ws_source_ptr = ws_source_actor::stateful_pointer<ws_source_state>;

void next(ws_source_ptr self);

/// The current message is done (its proposal answered, or skipped).
void finished(ws_source_ptr self) {
  self->state.busy = false;
  next(self);
}

void skip(ws_source_ptr self, const std::string& reason) {
  auto& st = self->state;
  ++st.status.errors;
  st.status.fail("skipped a message from " + st.options.endpoint + ": "
                 + reason);
  detail::log().warn("event=ws_message_skipped endpoint=\"{}\" reason=\"{}\"",
                     st.options.endpoint, reason);
}

/// Proposes `layer` as the ws layer; keeps it once the validator accepted.
void propose_layer(ws_source_ptr self, json layer, std::string action) {
  auto& st = self->state;
  st.busy = true;
  auto name = st.status.layer;
  write_request req{{operation::replace_layer(name, layer)}, name, 0, {}};
  detail::propose(self, st.validator, std::move(req), st.status,
                  [self, layer = std::move(layer),
                   action = std::move(action)](const write_result& r) mutable {
                    auto& st = self->state;
                    if (r.ok())
                      st.layer = std::move(layer);
                    detail::log().info("event=ws_action endpoint=\"{}\" "
                                       "action={} result={} version={}",
                                       st.options.endpoint, action,
                                       to_string(r.status), r.version);
                    finished(self);
                  });
}

/// The `features` of this source's own layer, or nullptr.
const json* features_of(const json& layer) {
  auto i = layer.find("features");
  return i != layer.end() ? &*i : nullptr;
}

/// `features.<name>` = `enabled`, or its `enabled` if the flag is an object
/// in `features_now`, the `features` in effect (rollout and rules stay).
void set_feature(ws_source_ptr self, const std::string& name, bool enabled,
                 const json* features_now) {
  auto& st = self->state;
  auto layer = st.layer;
  auto& features = layer["features"];
  if (!features.is_object())
    features = json::object();
  auto object_flag = false;
  if (features_now != nullptr && features_now->is_object())
    if (auto j = features_now->find(name); j != features_now->end())
      object_flag = j->is_object();
  if (object_flag) {
    auto& flag = features[name];
    if (!flag.is_object())
      flag = json::object();
    flag["enabled"] = enabled;
  } else {
    features[name] = enabled;
  }
  propose_layer(self, std::move(layer), "set_feature");
}

/// Asks every reload source to re-read, then makes `overrides` the runtime
/// layer.
void reload(ws_source_ptr self, json overrides) {
  auto& st = self->state;
  st.busy = true;
  auto finish = [self, overrides = std::move(overrides)]() mutable {
    auto& st = self->state;
    auto origin = st.status.layer;
    write_request req{{operation::replace_layer(std::string{runtime_layer},
                                                std::move(overrides))},
                      origin,
                      0,
                      {}};
    detail::propose(self, st.validator, std::move(req), st.status,
                    [self](const write_result& r) {
                      detail::log().info("event=ws_action endpoint=\"{}\" "
                                         "action=reload result={} version={}",
                                         self->state.options.endpoint,
                                         to_string(r.status), r.version);
                      finished(self);
                    });
  };
  std::vector<source_actor> targets;
  for (auto& src : st.options.reload)
    if (src && src.address() != self->address()) // never wait for ourselves
      targets.push_back(src);
  if (targets.empty()) {
    finish();
    return;
  }
  auto pending = std::make_shared<size_t>(targets.size());
  auto done = [pending, finish]() mutable {
    if (--*pending == 0)
      finish();
  };
  for (auto& src : targets)
    self->request(src, reload_timeout, reload_atom::value)
      .then([done](const source_status&) mutable { done(); },
            [self, done](caf::error& err) mutable {
              detail::log().warn("event=ws_reload_failed endpoint=\"{}\" "
                                 "error=\"{}\"",
                                 self->state.options.endpoint,
                                 self->system().render(err));
              done();
            });
}

/// Handles one pushed message; sets `busy` while it waits for an answer.
void handle(ws_source_ptr self, const std::string& text) {
  auto& st = self->state;
  auto doc = parse_document(text, document_format::json, "message");
  if (!doc) {
    skip(self, "malformed JSON: " + doc.error->str());
    return;
  }
  auto& msg = doc.value;
  if (!msg.is_object()) {
    skip(self, "a message must be a JSON object");
    return;
  }
  auto action = msg.find("action");
  if (action == msg.end() || !action->is_string()) {
    skip(self, "no \"action\" string");
    return;
  }
  auto name = action->get<std::string>();
  auto field = [&](const char* key) -> const json* {
    auto i = msg.find(key);
    return i != msg.end() ? &*i : nullptr;
  };
  if (name == "update_config") {
    auto config = field("config");
    if (!config || !config->is_object()) {
      skip(self, "update_config needs a \"config\" object");
      return;
    }
    propose_layer(self, *config, name);
  } else if (name == "set_feature") {
    auto feature = field("feature");
    auto enabled = field("enabled");
    if (!feature || !feature->is_string() || *feature == ""
        || !enabled || !enabled->is_boolean()) {
      skip(self, "set_feature needs a \"feature\" name and \"enabled\" "
                 "true or false");
      return;
    }
    auto flag = feature->get<std::string>();
    auto on = enabled->get<bool>();
    if (!st.options.store) {
      set_feature(self, flag, on, features_of(st.layer));
      return;
    }
    // Whether the flag is an object may depend on another layer.
    st.busy = true;
    self->request(st.options.store, reload_timeout, get_atom::value)
      .then(
        [self, flag, on](snapshot_ptr& snap) {
          set_feature(self, flag, on,
                      snap->effective.find(std::string_view{"features"}));
        },
        [self, flag, on](caf::error& err) {
          detail::log().warn("event=ws_store_unavailable endpoint=\"{}\" "
                             "error=\"{}\"",
                             self->state.options.endpoint,
                             self->system().render(err));
          set_feature(self, flag, on, features_of(self->state.layer));
        });
  } else if (name == "set_log_level") {
    auto level = field("level");
    if (!level || !level->is_string()) {
      skip(self, "set_log_level needs a \"level\" string");
      return;
    }
    auto layer = st.layer;
    auto& logging = layer["logging"];
    if (!logging.is_object())
      logging = json::object();
    logging["level"] = *level;
    propose_layer(self, std::move(layer), name);
  } else if (name == "reload") {
    auto overrides = field("overrides");
    if (overrides && !overrides->is_object() && !overrides->is_null()) {
      skip(self, "reload needs \"overrides\" to be an object");
      return;
    }
    reload(self, overrides && overrides->is_object() ? *overrides
                                                      : json::object());
  } else {
    skip(self, "unknown action '" + name + "'");
  }
}

/// Works through the inbox; answers waiting reloads once it is empty.
void next(ws_source_ptr self) {
  auto& st = self->state;
  while (!st.busy && !st.inbox.empty()) {
    auto text = std::move(st.inbox.front());
    st.inbox.pop_front();
    handle(self, text);
  }
  if (!st.busy && !st.reloads.empty()) {
    for (auto& rp : st.reloads)
      rp.deliver(st.status);
    st.reloads.clear();
  }
}

ws_source_actor::behavior_type ws_source(ws_source_ptr self,
                                         validator_actor validator,
                                         ws_source_options options) {
  auto& st = self->state;
  st.status.kind = "ws";
  st.status.layer = "ws:" + options.endpoint;
  st.validator = std::move(validator);
  std::string error;
  auto endpoint = detail::parse_url(options.endpoint, error);
  if (endpoint && endpoint->scheme != "ws" && endpoint->scheme != "wss")
    error = "invalid endpoint '" + options.endpoint
            + "': the scheme must be ws or wss";
  else if (auto why = options_error(options); endpoint && !why.empty())
    error = why;
  else if (endpoint
           && options.token.find_first_of("\r\n") != std::string::npos)
    error = "the token for '" + options.endpoint + "' contains a line break";
  if (!error.empty()) {
    ++st.status.errors;
    st.status.fail(error);
    detail::log().error("event=ws_source_failed endpoint=\"{}\" error=\"{}\"",
                        options.endpoint, error);
    st.first.settle(make_error(errc::unavailable, error), st.status);
  } else {
    detail::ws_client_options io;
    io.endpoint = *endpoint;
    io.target = endpoint->target("/ws");
    io.token = options.token;
    io.hello = json{{"action", "register"},
                    {"service", options.service},
                    {"version", options.service_version}}
                 .dump();
    io.min_backoff = options.min_backoff;
    io.max_backoff = options.max_backoff;
    io.connect_timeout = options.connect_timeout;
    io.heartbeat = options.heartbeat;
    io.tls = {options.ca_file, options.cert_file, options.key_file};
    // The I/O thread must not keep the actor alive: it holds a weak
    // reference and drops events once the actor is gone.
    caf::weak_actor_ptr weak{self->ctrl()};
    auto hdl = [weak] {
      return caf::actor_cast<ws_source_actor>(weak.lock());
    };
    detail::ws_client_events events;
    events.connected = [hdl] {
      if (auto dest = hdl())
        caf::anon_send(dest, ws_up_atom::value);
    };
    events.disconnected = [hdl](std::string why,
                                std::chrono::milliseconds retry_in,
                                bool for_good) {
      if (auto dest = hdl())
        caf::anon_send(dest, ws_down_atom::value, std::move(why),
                       static_cast<int64_t>(retry_in.count()), for_good);
    };
    events.message = [hdl](std::string text) {
      if (auto dest = hdl())
        caf::anon_send(dest, ws_text_atom::value, std::move(text));
    };
    st.client = std::make_unique<detail::ws_client>(std::move(io),
                                                    std::move(events));
  }
  st.options = std::move(options);
  return {
    [self](status_atom) { return self->state.status; },
    [self](reload_atom) -> caf::result<source_status> {
      // Pushes arrive on their own: a reload only waits for the messages
      // already received to be applied.
      auto& st = self->state;
      if (!st.busy)
        return st.status;
      auto rp = self->make_response_promise<source_status>();
      st.reloads.push_back(rp);
      return rp;
    },
    [self](ws_up_atom) {
      auto& st = self->state;
      st.status.succeed();
      detail::log().info("event=ws_source_connected endpoint=\"{}\"",
                         st.options.endpoint);
      st.first.settle(caf::error{}, st.status);
    },
    [self](ws_down_atom, std::string& why, int64_t retry_in_ms,
           bool for_good) {
      auto& st = self->state;
      ++st.status.errors;
      st.status.fail(st.options.endpoint + ": " + why);
      if (for_good)
        st.first.settle(make_error(errc::unavailable, st.status.last_error),
                        st.status);
      detail::log().warn("event=ws_source_disconnected endpoint=\"{}\" "
                         "error=\"{}\" retry_in_ms={}",
                         st.options.endpoint, why, retry_in_ms);
    },
    [self](detail::first_poll_atom) -> caf::result<source_status> {
      auto& st = self->state;
      return st.first.await(self, st.status);
    },
    [self](ws_text_atom, std::string& text) {
      auto& st = self->state;
      ++st.status.reads;
      st.inbox.push_back(std::move(text));
      next(self);
    },
  };
}

} // namespace

std::string options_error(const ws_source_options& options) {
  std::string why;
  for (auto [field, x] : {std::pair{"min_backoff", options.min_backoff},
                          std::pair{"max_backoff", options.max_backoff},
                          std::pair{"connect_timeout", options.connect_timeout},
                          std::pair{"heartbeat", options.heartbeat}})
    if (why.empty())
      why = detail::positive_interval(field, x);
  if (why.empty() && options.service_version.empty())
    why = "service_version must not be empty";
  if (why.empty() && !options.key_file.empty() && options.cert_file.empty())
    why = "a key_file needs its cert_file";
  return why.empty() ? why : "ws '" + options.endpoint + "': " + why;
}

source_actor spawn_ws_source(caf::actor_system& sys,
                             validator_actor validator,
                             ws_source_options options) {
  auto hdl = sys.spawn(ws_source, std::move(validator), std::move(options));
  return hdl;
}

} // namespace cfgactors

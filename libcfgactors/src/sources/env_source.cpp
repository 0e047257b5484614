// The env source: polls the prefixed and mapped variables of the process
// environment (and the secret files they name), proposes them as the layer
// `env` and hands each change set to the options' on_change. Only variable
// names are ever logged: values may be secrets.
#include "cfgactors/env_source.hpp"

#include <algorithm>
#include <exception>
#include <optional>
#include <string_view>
#include <utility>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/secrets.hpp"
#include "core/log.hpp"
#include "sources/env_layer.hpp"
#include "sources/propose.hpp"

namespace cfgactors {

namespace {

using env_source_impl = source_actor::extend<caf::reacts_to<tick_atom>>;

struct env_source_state {
  static inline const char* name = "cfgactors.env_source";

  env_source_options options;
  validator_actor validator;
  source_status status;
  /// The capture last proposed, and the digests of its secret files.
  std::map<std::string, std::string> vars;
  std::map<std::string, std::string> secret_digests;
  bool failing = false; ///< the last read failed: propose once it works again
  std::string warned;   ///< the failure last logged (not repeated every poll)
  /// The capture on_change last saw (whether or not it made a layer).
  std::optional<std::map<std::string, std::string>> seen;
  secret_paths secrets; ///< the schema's: masked for on_change
};

using env_source_ptr = env_source_impl::stateful_pointer<env_source_state>;
using status_promise = caf::typed_response_promise<source_status>;

std::string names(const std::vector<std::string>& xs) {
  std::string result = "[";
  for (auto& x : xs) {
    if (result.size() > 1)
      result += ',';
    result += x;
  }
  return result + "]";
}

/// The seed's change set between two captures, values masked where the
/// schema marks the path secret (unless the listener asked for secrets).
env_change_set change_set(const env_source_state& st,
                          const std::map<std::string, std::string>& before,
                          const std::map<std::string, std::string>& after) {
  env_change_set result;
  auto names = compare_env(before, after);
  auto shown = [&](const std::string& name, const std::string& value) {
    auto path = env_path(name, st.options);
    result.paths[name] = path ? path->str() : std::string{};
    if (path && !st.options.on_change_secrets && st.secrets.covers(*path))
      return std::string{masked_value};
    return value;
  };
  for (auto& name : names.added)
    result.added.emplace(name, shown(name, after.at(name)));
  for (auto& name : names.removed)
    result.removed.emplace(name, shown(name, before.at(name)));
  for (auto& name : names.modified)
    result.modified.emplace(name, std::make_pair(shown(name, before.at(name)),
                                                 shown(name, after.at(name))));
  return result;
}

void deliver(env_source_state& st, const env_change_set& changes) {
  // A throwing listener must not take the source down with it.
  try {
    st.options.on_change(changes);
  } catch (const std::exception& e) {
    detail::log().warn("event=env_listener_failed prefix={} error=\"{}\"",
                       st.options.prefix, e.what());
  } catch (...) {
    detail::log().warn("event=env_listener_failed prefix={}",
                       st.options.prefix);
  }
}

/// Reads the environment and proposes the layer if it changed (or always,
/// when `force`). Answers `rp`, if any, once the proposal has been answered.
void read(env_source_ptr self, bool force, std::optional<status_promise> rp) {
  auto& st = self->state;
  ++st.status.reads;
  auto vars = capture_env(st.options);
  auto build = detail::build_env_layer(vars, st.options);
  // What the listener hears about: a change since the capture it last saw.
  std::optional<env_change_set> heard;
  if (st.options.on_change) {
    if (st.seen && *st.seen != vars)
      heard = change_set(st, *st.seen, vars);
    st.seen = vars;
  }
  if (!build.ok()) {
    if (heard) {
      heard->error = build.error;
      deliver(st, *heard);
    }
    ++st.status.errors;
    st.status.fail(build.error);
    st.failing = true;
    if (build.error != st.warned) {
      st.warned = build.error;
      detail::log().warn("event=env_read_failed prefix={} error=\"{}\" "
                         "keeping=last_good_layer",
                         st.options.prefix, build.error);
    }
    if (rp)
      rp->deliver(st.status);
    return;
  }
  auto changes = compare_env(st.vars, vars);
  // A rotated secret: same variable, new file content.
  for (auto& [var, digest] : build.secret_digests) {
    auto before = st.vars.find(var);
    auto old = st.secret_digests.find(var);
    if (before != st.vars.end() && before->second == vars[var]
        && old != st.secret_digests.end() && old->second != digest)
      changes.modified.push_back(var);
  }
  std::sort(changes.modified.begin(), changes.modified.end());
  auto recovering = std::exchange(st.failing, false);
  st.warned.clear();
  if (changes.empty() && !force && !recovering) {
    // Not expected with `heard` (a change against what the listener last
    // saw is one against the last proposal, or that read failed), but the
    // listener hears of every change.
    if (heard) {
      heard->error = "the configuration did not change";
      deliver(st, *heard);
    }
    if (rp)
      rp->deliver(st.status);
    return;
  }
  if (!changes.empty())
    detail::log().info("event=env_changed prefix={} added={} removed={} "
                       "modified={}",
                       st.options.prefix, names(changes.added),
                       names(changes.removed), names(changes.modified));
  st.vars = std::move(vars);
  st.secret_digests = std::move(build.secret_digests);
  write_request req{{operation::replace_layer("env", std::move(build.layer))},
                    "env:" + st.options.prefix,
                    0,
                    std::move(build.secrets)};
  detail::propose(self, st.validator, std::move(req), st.status,
                  [self, rp, heard](const write_result& r) mutable {
                    if (heard) {
                      if (r.status == write_status::committed)
                        heard->version = r.version;
                      else if (r.status == write_status::unchanged)
                        heard->error = "the configuration did not change";
                      else
                        heard->error = r.describe();
                      deliver(self->state, *heard);
                    }
                    if (rp)
                      rp->deliver(self->state.status);
                  });
}

env_source_impl::behavior_type env_source(env_source_ptr self,
                                          validator_actor validator,
                                          env_source_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.validator = std::move(validator);
  st.status.kind = "env";
  st.status.layer = "env";
  if (st.options.schema && st.options.on_change
      && !st.options.on_change_secrets)
    st.secrets = secret_paths{
      schema_secret_paths(st.options.schema->document())};
  read(self, true, std::nullopt);
  if (st.options.poll_interval.count() > 0)
    self->delayed_send(self, st.options.poll_interval, tick_atom::value);
  return {
    [self](status_atom) { return self->state.status; },
    [self](reload_atom) -> caf::result<source_status> {
      auto rp = self->make_response_promise<source_status>();
      read(self, true, rp);
      return rp;
    },
    [self](tick_atom) {
      read(self, false, std::nullopt);
      self->delayed_send(self, self->state.options.poll_interval,
                         tick_atom::value);
    },
  };
}

} // namespace

env_changes compare_env(const std::map<std::string, std::string>& before,
                        const std::map<std::string, std::string>& after) {
  env_changes result;
  auto x = before.begin();
  auto y = after.begin();
  // Both maps are sorted by name: one merge pass yields sorted lists.
  while (x != before.end() || y != after.end()) {
    if (y == after.end() || (x != before.end() && x->first < y->first)) {
      result.removed.push_back(x->first);
      ++x;
    } else if (x == before.end() || y->first < x->first) {
      result.added.push_back(y->first);
      ++y;
    } else {
      if (x->second != y->second)
        result.modified.push_back(x->first);
      ++x;
      ++y;
    }
  }
  return result;
}

source_actor spawn_env_source(caf::actor_system& sys,
                              validator_actor validator,
                              env_source_options options) {
  auto impl = sys.spawn(env_source, std::move(validator), std::move(options));
  return impl;
}

} // namespace cfgactors

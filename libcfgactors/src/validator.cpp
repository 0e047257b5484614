#include "cfgactors/validator.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/contract_registry.hpp"
#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"
#include "log.hpp"
#include "tree_pool.hpp"

namespace cfgactors {

namespace {

using validator_ptr = validator_actor::stateful_pointer<validator_state>;
using promise = caf::typed_response_promise<write_result>;
using clock_type = std::chrono::steady_clock;

/// Copies the first array on `path` from the effective tree into the runtime
/// layer: overlays replace arrays whole, so editing one element needs the
/// whole array in the overlay.
void materialize_arrays(json& runtime, const json& effective,
                        const config_path& path) {
  config_path prefix;
  for (auto& seg : path.segments) {
    if (std::holds_alternative<std::size_t>(seg)) {
      auto existing = find(runtime, prefix);
      if (existing && existing->is_array())
        return;
      auto source = find(effective, prefix);
      if (source && source->is_array())
        assign(runtime, prefix, *source);
      return;
    }
    prefix.segments.push_back(seg);
  }
}

bool crosses_array(const config_path& path) {
  for (auto& seg : path.segments)
    if (std::holds_alternative<std::size_t>(seg))
      return true;
  return false;
}

/// Applies one operation; returns errc::none on success.
errc apply_one(layer_stack& layers, const operation& op,
               validation_errors& errors) {
  auto fail = [&](errc code, std::string path, std::string rule,
                  std::string msg) {
    errors.push_back({std::move(path), std::move(rule), std::move(msg)});
    return code;
  };
  auto runtime_data = [&]() -> json& {
    if (auto ptr = layers.get(runtime_layer))
      return *ptr;
    layers.put(std::string{runtime_layer}, json::object());
    return *layers.get(runtime_layer);
  };
  auto parse_path = [&](const std::string& text) -> std::optional<config_path> {
    std::string err;
    auto path = config_path::parse(text, &err);
    if (!path)
      fail(errc::invalid_argument, text, "path", err);
    return path;
  };
  switch (op.kind) {
    case op_kind::set:
    case op_kind::flag: {
      auto text = op.kind == op_kind::flag ? "features." + op.path : op.path;
      if (op.kind == op_kind::flag && (op.path.empty() || !op.value.is_boolean()))
        return fail(errc::invalid_argument, text, "flag",
                    op.path.empty() ? "a flag needs a name"
                                    : "a flag is switched with true or false");
      auto path = parse_path(text);
      if (!path)
        return errc::invalid_argument;
      if (path->empty()) {
        if (!op.value.is_object())
          return fail(errc::invalid_argument, "", "type",
                      "the root of the configuration must be an object");
        layers.put(std::string{runtime_layer}, op.value);
        return errc::none;
      }
      // Merging all layers costs; only flags and array edits need the view.
      auto is_flag = op.kind == op_kind::flag;
      auto effective = is_flag || crosses_array(*path) ? layers.effective()
                                                       : json{};
      if (is_flag) {
        // A flag with rollout or rules keeps them: only `enabled` flips.
        auto node = find(effective, *path);
        if (node && node->is_object())
          path->segments.emplace_back(std::string{"enabled"});
      }
      auto& runtime = runtime_data();
      if (!effective.is_null())
        materialize_arrays(runtime, effective, *path);
      std::string err;
      if (!assign(runtime, *path, op.value, &err))
        return fail(errc::invalid_argument, text, "path", err);
      return errc::none;
    }
    case op_kind::unset: {
      auto path = parse_path(op.path);
      if (!path)
        return errc::invalid_argument;
      auto effective = layers.effective();
      if (path->empty() || !find(effective, *path))
        return fail(errc::not_found, op.path, "path",
                    "no value at this path");
      auto& runtime = runtime_data();
      materialize_arrays(runtime, effective, *path);
      if (crosses_array(*path)) {
        erase(runtime, *path);
        return errc::none;
      }
      std::string err;
      if (!assign(runtime, *path, nullptr, &err))
        return fail(errc::invalid_argument, op.path, "path", err);
      return errc::none;
    }
    case op_kind::reset: {
      auto path = parse_path(op.path);
      if (!path)
        return errc::invalid_argument;
      if (path->empty()) {
        layers.remove(runtime_layer);
        return errc::none;
      }
      auto ptr = layers.get(runtime_layer);
      if (!ptr || !erase(*ptr, *path))
        return fail(errc::not_found, op.path, "path",
                    "no runtime override at this path");
      return errc::none;
    }
    case op_kind::merge_patch: {
      auto path = parse_path(op.path);
      if (!path)
        return errc::invalid_argument;
      auto& runtime = runtime_data();
      if (path->empty()) {
        if (!op.value.is_object())
          return fail(errc::invalid_argument, "", "type",
                      "a merge patch of the root must be an object");
        merge_overlays(runtime, op.value);
        return errc::none;
      }
      auto target = find(runtime, *path);
      if (!target) {
        std::string err;
        if (!assign(runtime, *path, json::object(), &err))
          return fail(errc::invalid_argument, op.path, "path", err);
        target = find(runtime, *path);
      }
      merge_overlays(*target, op.value);
      return errc::none;
    }
    case op_kind::replace_layer: {
      if (op.layer.empty())
        return fail(errc::invalid_argument, "", "layer",
                    "a layer needs a name");
      if (!op.value.is_object() && !op.value.is_null())
        return fail(errc::invalid_argument, "", "type",
                    "layer '" + op.layer
                      + "' must be an object (a mapping at the top level)");
      layers.put(op.layer, op.value.is_null() ? json::object() : op.value);
      return errc::none;
    }
    case op_kind::remove_layer:
      if (!layers.remove(op.layer))
        return fail(errc::not_found, "", "layer",
                    "no layer named '" + op.layer + "'");
      return errc::none;
    case op_kind::rollback:
      return fail(errc::invalid_argument, "", "rollback",
                  "a rollback cannot be part of a transaction");
  }
  return fail(errc::invalid_argument, "", "operation", "unknown operation");
}

void reject(validator_ptr self, promise& rp, write_result result,
            const std::string& origin) {
  auto& st = self->state;
  ++st.stats.rejected;
  for (auto& err : result.errors)
    ++st.stats.failures_by_rule[err.rule];
  result.version = st.version;
  result.hash = st.hash;
  auto first = result.errors.empty() ? std::string{} : result.errors[0].str();
  detail::log().warn("event=config_rejected origin=\"{}\" code={} errors={} "
                     "first=\"{}\" version={}",
                     origin, to_string(result.code), result.errors.size(),
                     first, st.version);
  // A component's veto is named on a line of its own, whatever came first.
  for (auto& err : result.errors) {
    std::string_view rule{err.rule};
    if (rule.substr(0, contract_rule_prefix.size()) == contract_rule_prefix)
      detail::log().warn("event=contract_veto contract={} path=\"{}\" "
                         "reason=\"{}\" version={}",
                         rule.substr(contract_rule_prefix.size()), err.path,
                         detail::escaped(err.message), st.version);
    else if (rule == schema_version_rule)
      detail::log().warn("event=schema_version_veto path=\"{}\" "
                         "reason=\"{}\" version={}",
                         err.path, detail::escaped(err.message),
                         st.version);
  }
  rp.deliver(std::move(result));
}

/// Validates `candidate` and commits it through the store. Waits for the
/// store before taking the next write: the validator is the ordering point.
void admit(validator_ptr self, layer_stack candidate, std::string origin,
           promise rp, clock_type::time_point started) {
  auto& st = self->state;
  if (candidate == st.layers) {
    ++st.stats.unchanged;
    rp.deliver(write_result{write_status::unchanged, st.version, st.hash,
                            errc::none, {}});
    return;
  }
  auto effective = st.merge_cache.effective(candidate);
  auto errors = check_candidate(effective, st.options);
  if (!errors.empty()) {
    redact_errors(errors, effective, st.secrets);
    reject(self, rp, write_result::reject(errc::validation_failed,
                                          std::move(errors)),
           origin);
    return;
  }
  commit_request req{candidate, std::move(effective), origin};
  self->request(st.store, caf::infinite, commit_atom::value, std::move(req))
    .await(
      [self, rp, started,
       candidate{std::move(candidate)}](snapshot_ptr& snap) mutable {
        auto& st = self->state;
        if (!st.trees)
          if (auto recycler = std::get_deleter<detail::snapshot_recycler>(snap))
            st.trees = recycler->pool;
        st.layers = std::move(candidate);
        st.version = snap->version;
        st.hash = snap->hash;
        ++st.stats.committed;
        st.stats.record_commit(std::chrono::duration<double>(
                                 clock_type::now() - started)
                                 .count());
        detail::log().info("event=config_committed version={} hash={} "
                           "origin=\"{}\"",
                           snap->version, snap->hash.substr(0, 12),
                           snap->origin);
        rp.deliver(write_result{write_status::committed, snap->version,
                                snap->hash, errc::none, {}});
      },
      [self, rp, origin](caf::error& err) mutable {
        reject(self, rp,
               write_result::reject(errc::store_failed, "", "store",
                                    self->system().render(err)),
               origin);
      });
  // The store is busy with the commit now; copy the base for the next write
  // meanwhile instead of after its answer, into a tree the store let go of.
  st.merge_cache.prepare(st.trees ? st.trees->take() : std::nullopt);
}

void handle_write(validator_ptr self, write_request req, promise rp) {
  auto started = clock_type::now();
  auto& st = self->state;
  if (req.expected_version != 0 && req.expected_version != st.version) {
    reject(self, rp,
           write_result::reject(errc::version_conflict, "", "version",
                                "expected version "
                                  + std::to_string(req.expected_version)
                                  + ", current is "
                                  + std::to_string(st.version)),
           req.origin);
    return;
  }
  if (req.ops.empty()) {
    reject(self, rp,
           write_result::reject(errc::invalid_argument, "", "operation",
                                "a write needs at least one operation"),
           req.origin);
    return;
  }
  if (req.ops.size() == 1 && req.ops[0].kind == op_kind::rollback) {
    auto target = req.ops[0].version;
    auto origin = req.origin.empty() ? "rollback:" + std::to_string(target)
                                     : req.origin;
    self->request(st.store, caf::infinite, get_atom::value, target)
      .await(
        [self, rp, origin, started](snapshot_ptr& snap) mutable {
          admit(self, snap->layers, origin, std::move(rp), started);
        },
        [self, rp, origin, target](caf::error&) mutable {
          reject(self, rp,
                 write_result::reject(errc::not_found, "", "rollback",
                                      "version " + std::to_string(target)
                                        + " is not in the history"),
                 origin);
        });
    return;
  }
  for (auto& path : req.redact)
    if (std::find(st.secrets.begin(), st.secrets.end(), path)
        == st.secrets.end())
      st.secrets.push_back(path);
  auto candidate = st.layers;
  validation_errors errors;
  auto code = apply_operations(candidate, req, st.options.max_depth, errors);
  if (code != errc::none) {
    reject(self, rp, write_result::reject(code, std::move(errors)),
           req.origin);
    return;
  }
  admit(self, std::move(candidate), std::move(req.origin), std::move(rp),
        started);
}

} // namespace

json base_merge_cache::effective(const layer_stack& layers) {
  const json* runtime = nullptr;
  auto same = true;
  std::size_t n = 0;
  for (auto& x : layers) {
    if (kind_of(x.name) == layer_kind::runtime) {
      runtime = x.data.get();
      continue;
    }
    same = same && n < inputs.size() && inputs[n] == x.data;
    ++n;
  }
  if (!same || n != inputs.size()) {
    inputs.clear();
    base = json::object();
    spare.reset();
    for (auto& x : layers) {
      if (kind_of(x.name) == layer_kind::runtime)
        continue;
      inputs.push_back(x.data);
      if (!x.data->is_null())
        merge_into(base, *x.data);
    }
  }
  // The spare, if any, is a copy of this very base: it is dropped whenever
  // the base is rebuilt.
  json result;
  if (spare) {
    result = std::move(*spare);
    spare.reset();
  } else {
    result = base;
  }
  if (runtime && !runtime->is_null())
    merge_into(result, *runtime);
  return result;
}

void base_merge_cache::prepare(std::optional<json> storage) {
  if (spare)
    return;
  if (storage) {
    assign_reusing(*storage, base);
    spare = std::move(storage);
  } else {
    spare = base;
  }
}

void redact_errors(validation_errors& errors, const json& effective,
                   const std::vector<std::string>& secret_paths) {
  // A message may quote a long value cut short ("got \"abcd..."), so a run
  // of the secret's first 16 or more characters is masked as well.
  auto mask = [&](const std::string& secret) {
    if (secret.empty())
      return;
    auto probe = secret.substr(0, 16);
    for (auto& err : errors) {
      auto& msg = err.message;
      for (auto pos = msg.find(probe); pos != std::string::npos;
           pos = msg.find(probe, pos + 3)) {
        auto n = probe.size();
        while (n < secret.size() && pos + n < msg.size()
               && msg[pos + n] == secret[n])
          ++n;
        msg.replace(pos, n, "***");
      }
    }
  };
  for (auto& text : secret_paths) {
    auto path = config_path::parse(text);
    if (!path)
      continue;
    auto value = find(effective, *path);
    if (!value)
      continue;
    if (value->is_string()) {
      // The dumped form first: it may escape characters of the raw one.
      mask(value->dump());
      mask(value->get<std::string>());
    } else if (auto text = value->dump(); text.size() >= 6) {
      mask(text); // shorter numbers would mask unrelated digits
    }
  }
}

errc apply_operations(layer_stack& layers, const write_request& req,
                      std::size_t max_depth, validation_errors& errors) {
  for (auto& op : req.ops) {
    // Reject hostile nesting before anything recursive touches the value.
    if (auto depth = nesting_depth(op.value); depth > max_depth) {
      errors.push_back({op.path, "limit.depth",
                        "value nests " + std::to_string(depth)
                          + " levels; the limit is "
                          + std::to_string(max_depth)});
      return errc::too_deep;
    }
    if (auto code = apply_one(layers, op, errors); code != errc::none)
      return code;
  }
  return errc::none;
}

validation_errors check_candidate(const json& effective,
                                  const validator_options& options) {
  validation_errors errors;
  if (options.schema)
    options.schema->validate(effective, errors);
  if (options.rules)
    options.rules->check(effective, errors);
  if (options.contracts)
    options.contracts->check(effective, errors);
  return errors;
}

validator_actor::behavior_type validator(validator_ptr self,
                                         validator_options options,
                                         store_actor store) {
  auto& st = self->state;
  st.options = std::move(options);
  st.store = std::move(store);
  // Start from what the store holds (it may have restored a journal); no write
  // is taken before that answer.
  self->request(st.store, caf::infinite, get_atom::value)
    .await([self](snapshot_ptr& snap) {
      auto& st = self->state;
      st.layers = snap->layers;
      st.version = snap->version;
      st.hash = snap->hash;
    });
  return {
    [self](write_atom, write_request& req) -> caf::result<write_result> {
      auto rp = self->make_response_promise<write_result>();
      handle_write(self, std::move(req), rp);
      return rp;
    },
    [self](stats_atom) { return self->state.stats; },
  };
}

} // namespace cfgactors

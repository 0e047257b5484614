#include "pipeline/validator_state.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/contract_registry.hpp"
#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"
#include "core/log.hpp"
#include "pipeline/tree_pool.hpp"
#include "write/apply.hpp"
#include "write/redact.hpp"

namespace cfgactors {

namespace {

using validator_ptr = validator_actor::stateful_pointer<validator_state>;
using promise = caf::typed_response_promise<write_result>;
using clock_type = std::chrono::steady_clock;

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
    if (st.secrets)
      detail::redact_errors(errors, effective, *st.secrets);
    reject(self, rp, write_result::reject(errc::validation_failed,
                                          std::move(errors)),
           origin);
    return;
  }
  commit_request req{candidate, std::move(effective), origin, st.secrets};
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
  if (!req.redact.empty())
    st.secrets = secret_paths::with(st.secrets, req.redact);
  auto candidate = st.layers;
  validation_errors errors;
  auto code = detail::apply_operations(candidate, req, st.options.max_depth, errors);
  if (code != errc::none) {
    reject(self, rp, write_result::reject(code, std::move(errors)),
           req.origin);
    return;
  }
  admit(self, std::move(candidate), std::move(req.origin), std::move(rp),
        started);
}

} // namespace

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
                                         store_backend_actor store) {
  auto& st = self->state;
  st.options = std::move(options);
  st.store = std::move(store);
  if (st.options.schema)
    st.secrets = secret_paths::with(
      nullptr, schema_secret_paths(st.options.schema->document()));
  // Start from what the store holds (it may have restored a journal); no write
  // is taken before that answer.
  self->request(st.store, caf::infinite, get_atom::value)
    .await([self](snapshot_ptr& snap) {
      auto& st = self->state;
      st.layers = snap->layers;
      st.version = snap->version;
      st.hash = snap->hash;
      if (snap->secrets)
        st.secrets = secret_paths::with(st.secrets, snap->secrets->patterns());
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

// Deterministic fixture for the actor suites: a validator → store → router
// pipeline on CAF's test coordinator, plus helpers to write and subscribe.
#pragma once

#include <memory>
#include <vector>

#include <caf/all.hpp>

#include "cfgactors_test.hpp"

#include "cfgactors/pipeline.hpp"
#include "cfgactors/system_config.hpp"
#include "pipeline/pipeline_core.hpp"
#include "pipeline/store_state.hpp"
#include "pipeline/topic_router.hpp"
#include "pipeline/validator_state.hpp"

namespace cfgactors::test {

using change_log = std::shared_ptr<std::vector<change>>;

/// A subscriber that records every change it gets.
inline caf::behavior recorder(caf::event_based_actor*, change_log log) {
  return {[log](const change& c) { log->push_back(c); }};
}

struct pipeline_fixture : test_coordinator_fixture<system_config> {
  detail::pipeline_core pipe; ///< with the store's commit interface

  explicit pipeline_fixture(pipeline_options opts = {}) {
    pipe = *detail::open_pipeline_core(sys, std::move(opts));
    run();
  }

  ~pipeline_fixture() {
    shutdown(pipe.handles());
    run();
  }

  write_result write(write_request req) {
    write_result result;
    auto f = self->request(pipe.validator, caf::infinite, write_atom::value,
                           std::move(req));
    run();
    f.receive([&](write_result& r) { result = std::move(r); },
              [&](caf::error& err) {
                CAF_FAIL("write failed: " << sys.render(err));
              });
    return result;
  }

  write_result write(operation op, std::string origin = "test") {
    return write(write_request{{std::move(op)}, std::move(origin), 0, {}});
  }

  write_result set(std::string path, json value) {
    return write(operation::set(std::move(path), std::move(value)));
  }

  snapshot_ptr current() {
    return store_st().versions.current();
  }

  /// Asks `dest` and runs the system until the answer is in; an error
  /// fails the test.
  template <class T, class Handle, class... Ts>
  T ask(const Handle& dest, Ts&&... xs) {
    T result{};
    auto f = self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    f.receive([&](T& x) { result = std::move(x); },
              [&](caf::error& err) {
                CAF_FAIL("request failed: " << sys.render(err));
              });
    return result;
  }

  /// Subscribes a recorder to `prefix` and returns its log.
  change_log subscribe(std::string prefix) {
    auto log = std::make_shared<std::vector<change>>();
    auto sub = caf::actor_cast<subscriber_actor>(sys.spawn(recorder, log));
    self->send(pipe.router, subscribe_atom::value, std::move(prefix), sub);
    run();
    return log;
  }

  template <class State, class Handle>
  State& state_of(const Handle& hdl) {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(hdl);
    return static_cast<typename Handle::template stateful_base<State>*>(ptr)
      ->state;
  }

  store_state& store_st() {
    return state_of<store_state>(pipe.store);
  }

  validator_state& validator_st() {
    return state_of<validator_state>(
      caf::actor_cast<validator_impl>(pipe.validator));
  }

  topic_router_state& router_st() {
    return state_of<topic_router_state>(pipe.router);
  }
};

} // namespace cfgactors::test

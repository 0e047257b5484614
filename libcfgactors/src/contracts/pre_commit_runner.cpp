#include "contracts/pre_commit_runner.hpp"

#include <exception>
#include <optional>
#include <utility>

#include <caf/typed_event_based_actor.hpp>

#include "contracts/threw.hpp"
#include "core/log.hpp"

namespace cfgactors::detail {

namespace {

/// Gives the component the running version again; a failure there is only
/// logged (the write is refused either way).
void restore(contract& c, const snapshot_ptr& running) {
  if (!running)
    return;
  if (auto err = threw("apply", [&] { c.apply(*running); }))
    log().error("event=pre_commit_restore_failed contract={} version={} "
                "error=\"{}\"",
                c.name(), running->version, escaped(*err));
}

} // namespace

pre_commit_runner_actor::behavior_type
pre_commit_runner(pre_commit_runner_actor::pointer,
                  std::shared_ptr<contract> c) {
  return {
    [c](pre_commit_atom, const snapshot_ptr& candidate,
        const snapshot_ptr& running) -> std::string {
      auto problem = threw("apply", [&] { c->apply(*candidate); });
      if (!problem) {
        std::optional<std::string> sick;
        problem = threw("health check", [&] { sick = c->health_check(); });
        if (!problem && sick)
          problem = sick->empty() ? std::string{"unhealthy"} : std::move(*sick);
      }
      if (!problem)
        return {};
      restore(*c, running);
      return std::move(*problem);
    },
    [c](restore_atom, const snapshot_ptr& running) { restore(*c, running); },
  };
}

} // namespace cfgactors::detail

#include "cfgactors/pipeline.hpp"

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/send.hpp>

#include "cfgactors/topic_router.hpp"

namespace cfgactors {

pipeline spawn_pipeline(caf::actor_system& sys, pipeline_options options) {
  pipeline result;
  result.router = sys.spawn(topic_router, snapshot::empty());
  result.store = sys.spawn(store, options.storage, result.router);
  result.validator = sys.spawn(validator, std::move(options.validation),
                               result.store);
  return result;
}

void shutdown(const pipeline& p) {
  caf::anon_send_exit(p.validator, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.store, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.router, caf::exit_reason::user_shutdown);
}

} // namespace cfgactors

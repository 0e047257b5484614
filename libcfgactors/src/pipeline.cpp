#include "cfgactors/pipeline.hpp"

#include <algorithm>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/send.hpp>

#include "cfgactors/topic_router.hpp"
#include "journal.hpp"

namespace cfgactors {

pipeline spawn_pipeline(caf::actor_system& sys, pipeline_options options) {
  if (!options.storage.data_dir.empty())
    throw std::invalid_argument("spawn_pipeline: a data dir needs "
                                "open_pipeline");
  pipeline result;
  result.router = sys.spawn(topic_router, snapshot::empty());
  result.store = sys.spawn(store, options.storage, result.router);
  result.validator = sys.spawn(validator, std::move(options.validation),
                               result.store);
  return result;
}

caf::expected<pipeline> open_pipeline(caf::actor_system& sys,
                                      pipeline_options options) {
  auto& storage = options.storage;
  if (storage.data_dir.empty())
    return spawn_pipeline(sys, std::move(options));
  auto db = detail::journal::open(storage.data_dir, storage.retention);
  if (!db)
    return std::move(db.error());
  auto restored = (*db)->newest(std::max<std::size_t>(storage.history_size,
                                                      1));
  if (!restored)
    return std::move(restored.error());
  // Subscribers start from the restored version, not from an empty one.
  auto current = restored->empty() ? snapshot::empty() : restored->back();
  pipeline result;
  result.router = sys.spawn(topic_router, current);
  result.store = sys.spawn<caf::detached>(detail::journaled_store, storage,
                                          result.router, std::move(*db),
                                          std::move(*restored));
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

#include "pipeline/pipeline_core.hpp"

#include <algorithm>
#include <stdexcept>

#include <caf/actor_system.hpp>
#include <caf/exit_reason.hpp>
#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>
#include <caf/send.hpp>

#include "core/random_id.hpp"
#include "pipeline/journal.hpp"
#include "pipeline/store_state.hpp"
#include "pipeline/topic_router.hpp"
#include "pipeline/validator_state.hpp"
#include "pipeline/version_history.hpp"

namespace cfgactors {

namespace detail {

caf::expected<pipeline_core>
open_pipeline_core(caf::actor_system& sys, pipeline_options options,
                   std::optional<etcd_hooks> etcd) {
  auto& storage = options.storage;
  pipeline_core result;
  if (storage.data_dir.empty()) {
    result.router = sys.spawn(topic_router, snapshot::empty());
    result.store = sys.spawn(store, storage, result.router);
    result.cluster_id = random_id();
    result.epoch = static_cast<uint64_t>(now_ms());
  } else {
    auto db = journal::open(storage.data_dir, storage.retention,
                            storage.secrets_key_file);
    if (!db)
      return std::move(db.error());
    // The ring would keep only the newest trees whole anyway; older versions
    // are read back from the journal when asked for.
    auto restored = (*db)->newest(std::clamp<std::size_t>(
      storage.history_size, 1, version_history::whole_trees));
    if (!restored)
      return std::move(restored.error());
    // Subscribers start from the restored version, not from an empty one.
    auto current = restored->empty() ? snapshot::empty() : restored->back();
    result.cluster_id = (*db)->cluster_id();
    result.epoch = (*db)->epoch();
    result.durable = true;
    result.router = sys.spawn(topic_router, current);
    result.store = sys.spawn<caf::detached>(journaled_store, storage,
                                            result.router, std::move(*db),
                                            std::move(*restored));
  }
  result.validator_ext = sys.spawn(validator, std::move(options.validation),
                                   result.store, std::move(etcd));
  result.validator = result.validator_ext;
  return result;
}

} // namespace detail

pipeline spawn_pipeline(caf::actor_system& sys, pipeline_options options) {
  if (!options.storage.data_dir.empty())
    throw std::invalid_argument("spawn_pipeline: a data dir needs "
                                "open_pipeline");
  // Without a journal nothing can fail.
  return detail::open_pipeline_core(sys, std::move(options))->handles();
}

caf::expected<pipeline> open_pipeline(caf::actor_system& sys,
                                      pipeline_options options) {
  auto core = detail::open_pipeline_core(sys, std::move(options));
  if (!core)
    return std::move(core.error());
  return core->handles();
}

void shutdown(const pipeline& p) {
  caf::anon_send_exit(p.validator, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.store, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(p.router, caf::exit_reason::user_shutdown);
}

} // namespace cfgactors

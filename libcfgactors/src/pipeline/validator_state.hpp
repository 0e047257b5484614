// Private: the validator's state and behavior (the interface is
// validator_actor; what it checks is cfgactors/validator.hpp).
#pragma once

#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "cfgactors/layer.hpp"
#include "cfgactors/secrets.hpp"
#include "cfgactors/stats.hpp"
#include "cfgactors/validator.hpp"
#include "core/internal_actor_types.hpp"
#include "write/merge_cache.hpp"

namespace cfgactors {

namespace detail {
class tree_pool;
} // namespace detail

struct validator_state {
  static inline const char* name = "cfgactors.validator";

  validator_options options;
  store_backend_actor store;
  layer_stack layers;   ///< the layers of the current version
  uint64_t version = 0; ///< the current version
  std::string hash;
  validator_stats stats;
  detail::base_merge_cache merge_cache;
  /// Paths the schema or any source marked secret: every version carries
  /// them, and their values are masked in every error the validator reports
  /// or logs. A path once secret stays secret.
  secret_paths_ptr secrets;
  /// Trees of snapshots the store let go of, to build candidates in; found
  /// on the first snapshot the store commits (see pipeline/tree_pool.hpp).
  std::shared_ptr<detail::tree_pool> trees;
};

validator_actor::behavior_type
validator(validator_actor::stateful_pointer<validator_state> self,
          validator_options options, store_backend_actor store);

} // namespace cfgactors

// What a cfgactors worker holds and how it reports: the config of `--keys`
// integers every cfgactors system starts from, and the subscriber actor
// whose receipt of a flip counts.
#pragma once

#include <string>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/fwd.hpp"

#include <nlohmann/json.hpp>

namespace bench {

/// `keys` integers in sections of 100, so hashing and patching work on a
/// config of a realistic size.
inline cfgactors::json base_config(int keys) {
  cfgactors::json cfg = cfgactors::json::object();
  for (int i = 0; i < keys; ++i)
    cfg["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  return cfg;
}

/// Subscribed to `bench`: reports `now - stamp` for every `bench.flip`.
cfgactors::subscriber_actor::behavior_type
flip_subscriber(cfgactors::subscriber_actor::pointer, int id);

} // namespace bench

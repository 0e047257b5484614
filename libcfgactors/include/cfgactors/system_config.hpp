// Actor system configuration that knows every cfgactors message type.
#pragma once

#include <cstddef>

#include <caf/actor_system_config.hpp>

namespace cfgactors {

/// Registers the message types and the errc error category with `cfg`.
void add_message_types(caf::actor_system_config& cfg);

/// The messages an actor handles before it lets others run on its thread
/// (CAF's `scheduler.max-throughput`; CAF's own default has no bound).
inline constexpr std::size_t fair_throughput = 100;

/// An actor_system_config with cfgactors' types already registered and a
/// bounded throughput (fair_throughput): set the same on a config of your
/// own (`cfg.set("scheduler.max-throughput", fair_throughput)`).
class system_config : public caf::actor_system_config {
public:
  system_config();
};

} // namespace cfgactors

// Actor system configuration that knows every cfgactors message type.
#pragma once

#include <caf/actor_system_config.hpp>

namespace cfgactors {

/// Registers the message types and the errc error category with `cfg`.
void add_message_types(caf::actor_system_config& cfg);

/// An actor_system_config with cfgactors' types already registered.
class system_config : public caf::actor_system_config {
public:
  system_config();
};

} // namespace cfgactors

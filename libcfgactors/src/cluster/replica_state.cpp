// The names of the replica states, which are also their wire format.
#include "cfgactors/replica_state.hpp"

#include <string>

#include <caf/detail/stringification_inspector.hpp>

namespace cfgactors {

std::string_view to_string(replica_state x) noexcept {
  switch (x) {
    case replica_state::syncing:
      return "syncing";
    case replica_state::connected:
      return "connected";
    case replica_state::stale:
      return "stale";
    case replica_state::disconnected:
      return "disconnected";
  }
  return "unknown"; // not a state: from_string refuses it on the other side
}

bool from_string(std::string_view text, replica_state& x) noexcept {
  for (auto state : {replica_state::syncing, replica_state::connected,
                     replica_state::stale, replica_state::disconnected}) {
    if (text == to_string(state)) {
      x = state;
      return true;
    }
  }
  return false;
}

void inspect(caf::detail::stringification_inspector& f, replica_state& x) {
  f(std::string{to_string(x)});
}

} // namespace cfgactors

#include "cfgactors/source_status.hpp"

#include <nlohmann/json.hpp>

#include "cfgactors/snapshot.hpp"

namespace cfgactors {

std::string to_string(source_state x) {
  switch (x) {
    case source_state::starting:
      return "starting";
    case source_state::ok:
      return "ok";
    case source_state::degraded:
      return "degraded";
    case source_state::stopped:
      return "stopped";
  }
  return "unknown";
}

void source_status::fail(std::string why) {
  state = source_state::degraded;
  last_error_ms = now_ms();
  last_error = std::move(why);
}

void source_status::succeed() {
  state = source_state::ok;
  last_success_ms = now_ms();
}

json to_json(const source_status& x) {
  return json{{"kind", x.kind},
              {"layer", x.layer},
              {"state", to_string(x.state)},
              {"last_success_ms", x.last_success_ms},
              {"last_error_ms", x.last_error_ms},
              {"last_error", x.last_error},
              {"reads", x.reads},
              {"errors", x.errors},
              {"proposals", x.proposals},
              {"committed", x.committed},
              {"unchanged", x.unchanged},
              {"rejected", x.rejected},
              {"version", x.version}};
}

} // namespace cfgactors

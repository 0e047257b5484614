#include "cfgactors/lazy.hpp"

#include "core/log.hpp"

namespace cfgactors::detail {

void log_lazy_event(const char* event, uint64_t loads) {
  log().debug("event={} loads={}", event, loads);
}

} // namespace cfgactors::detail

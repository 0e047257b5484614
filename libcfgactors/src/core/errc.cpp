#include "cfgactors/errc.hpp"

#include <caf/make_message.hpp>

namespace cfgactors {

std::string to_string(errc x) {
  switch (x) {
    case errc::none: return "none";
    case errc::validation_failed: return "validation_failed";
    case errc::version_conflict: return "version_conflict";
    case errc::not_found: return "not_found";
    case errc::invalid_argument: return "invalid_argument";
    case errc::parse_failed: return "parse_failed";
    case errc::too_large: return "too_large";
    case errc::too_deep: return "too_deep";
    case errc::store_failed: return "store_failed";
    case errc::unavailable: return "unavailable";
    case errc::timeout: return "timeout";
    case errc::unauthenticated: return "unauthenticated";
  }
  return "errc(" + std::to_string(static_cast<int>(x)) + ")";
}

caf::error make_error(errc x) {
  return {static_cast<uint8_t>(x), errc_category};
}

caf::error make_error(errc x, std::string context) {
  return {static_cast<uint8_t>(x), errc_category,
          caf::make_message(std::move(context))};
}

} // namespace cfgactors

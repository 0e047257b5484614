// Private: the check the remote sources make of their intervals and
// backoffs, with the message their options_error() returns.
#pragma once

#include <chrono>
#include <string>

namespace cfgactors::detail {

/// Empty when `x` is positive, else why not, naming `field`.
inline std::string positive_interval(const char* field,
                                     std::chrono::milliseconds x) {
  if (x.count() > 0)
    return {};
  return std::string{field} + " must be positive, got "
         + std::to_string(x.count()) + " ms";
}

} // namespace cfgactors::detail

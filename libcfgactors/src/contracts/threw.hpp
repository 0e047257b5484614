// Private helper of the contract actors: a component's code (apply, health
// check) runs on our actors, and what it throws must become a reason, not
// take the actor down.
#pragma once

#include <exception>
#include <optional>
#include <string>

namespace cfgactors::detail {

/// Runs `fn`; why it threw (`what` named), if it did.
template <class F>
std::optional<std::string> threw(const char* what, F&& fn) {
  try {
    fn();
    return std::nullopt;
  } catch (const std::exception& e) {
    return std::string{what} + " threw: " + e.what();
  } catch (...) {
    return std::string{what} + " threw an exception of unknown type";
  }
}

} // namespace cfgactors::detail

// Shared by the suites that check what an error says: its message, and
// whether a text holds a part.
#pragma once

#include <string>

#include <caf/error.hpp>

namespace cfgactors::test {

/// The message of `err` (its context's one string), or "".
inline std::string message_of(const caf::error& err) {
  auto& ctx = err.context();
  return ctx.match_elements<std::string>() ? ctx.get_as<std::string>(0)
                                           : std::string{};
}

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace cfgactors::test

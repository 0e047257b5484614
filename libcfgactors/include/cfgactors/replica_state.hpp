// Where a replica stands with its primary, one word per state. The primary
// lists its replicas with it (replica_info); a replica reports its own.
#pragma once

#include <cstdint>
#include <string_view>

namespace caf::detail {
class stringification_inspector;
} // namespace caf::detail

namespace cfgactors {

enum class replica_state : uint8_t {
  syncing,      ///< linked, the answer to its hello not yet sent or applied
  connected,    ///< in the primary's stream
  stale,        ///< (its own view) no primary: serving the last good snapshot
  disconnected, ///< (the primary's view) its link went down
};

/// `syncing`, `connected`, `stale` or `disconnected`: the word that travels
/// in replica_info and that APIs show.
std::string_view to_string(replica_state x) noexcept;

/// Parses what to_string prints; false (and `x` unchanged) for anything else.
bool from_string(std::string_view text, replica_state& x) noexcept;

/// Prints the state by name in CAF's deep_to_string (test failures, logs):
/// CAF 0.17 only picks up a `to_string` that returns a std::string.
void inspect(caf::detail::stringification_inspector& f, replica_state& x);

} // namespace cfgactors

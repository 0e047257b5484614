// Error codes of cfgactors, registered with CAF as an error category.
#pragma once

#include <cstdint>
#include <string>

#include <caf/atom.hpp>
#include <caf/error.hpp>

namespace cfgactors {

enum class errc : uint8_t {
  none = 0,
  validation_failed, ///< the candidate broke the schema, a rule or a contract
  version_conflict,  ///< compare-and-set saw another version
  not_found,         ///< no such version, path or layer
  invalid_argument,  ///< a malformed request (bad path, bad operation)
  parse_failed,      ///< a document could not be parsed
  too_large,         ///< a document or value over the configured limit
  too_deep,          ///< nesting over the configured limit
  store_failed,      ///< the store could not commit (durability)
  unavailable,       ///< a peer or backend is gone
  timeout,           ///< no answer in time
  unauthenticated,   ///< a cluster peer that did not prove the secret
};

std::string to_string(errc x);

/// The CAF error category atom of errc.
inline constexpr caf::atom_value errc_category = caf::atom("cfgactors");

caf::error make_error(errc x);
caf::error make_error(errc x, std::string context);

} // namespace cfgactors

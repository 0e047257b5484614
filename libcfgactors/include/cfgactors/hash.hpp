// Canonical content hashes: SHA-256 of the canonical JSON text.
#pragma once

#include <string>
#include <string_view>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

/// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

/// Hash of the canonical form of `value`: keys sorted (nlohmann's default
/// object type), no whitespace, UTF-8. Equal trees always hash equally.
std::string canonical_hash(const json& value);

} // namespace cfgactors

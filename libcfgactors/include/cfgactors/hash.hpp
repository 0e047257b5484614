// Content hashes: SHA-256, and the hash of a configuration tree.
#pragma once

#include <string>
#include <string_view>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

/// Lower-case hex SHA-256 of `text`.
std::string sha256_hex(std::string_view text);

/// The content hash of `value`, a Merkle hash (docs/HASH.md): a container's
/// hash is the SHA-256 of its compact JSON text with every member or item
/// that is itself a container written as `#` and that container's hash in
/// hex; keys sorted by their UTF-8 bytes; a container of more than 32
/// members written in hashed pieces of 32; a scalar's hash is the SHA-256
/// of its compact JSON text. Equal trees always hash equally, and a
/// version's hash is recomputed along the paths it changed only.
std::string canonical_hash(const json& value);

} // namespace cfgactors

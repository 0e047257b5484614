// Private: a version's snapshot with its hash tree computed along what it
// changed from the version it was built on (store and replica alike).
#pragma once

#include <cstdint>
#include <string>

#include "cfgactors/snapshot.hpp"

namespace cfgactors::detail {

/// A snapshot of `effective`. With `base` and `changes` (the paths where
/// `effective` differs from base's tree), the hash tree is base's rehashed
/// along them; otherwise it is computed whole and `changes` dropped. An
/// empty `hash` is the hash tree's.
snapshot_ptr make_snapshot(uint64_t version, std::string origin,
                           layer_stack layers, layer_data effective,
                           int64_t timestamp_ms, secret_paths_ptr secrets,
                           std::string hash, std::string author,
                           std::string reason, const snapshot* base,
                           paths_ptr changes);

} // namespace cfgactors::detail

// Deep merge of configuration layers (JSON Merge Patch semantics, RFC 7386).
#pragma once

#include "cfgactors/fwd.hpp"

#include <nlohmann/json.hpp>

namespace cfgactors {

/// Merges `overlay` into `target`: objects merge key by key, a `null` in the
/// overlay deletes the key, anything else (arrays included) replaces.
void merge_into(json& target, const json& overlay);

/// Returns `base` with `overlay` merged over it.
json merged(json base, const json& overlay);

/// Like merge_into, but keeps `null` values in the result: used to combine
/// two overlays into one (a runtime merge-patch onto the runtime layer)
/// without losing the deletions they carry.
void merge_overlays(json& target, const json& overlay);

/// Makes `target` equal to `source`, reusing the storage of `target` where
/// both have the same keys (and arrays and strings in place): cheaper than a
/// copy when `target` is an older version of the same configuration.
void assign_reusing(json& target, const json& source);

} // namespace cfgactors

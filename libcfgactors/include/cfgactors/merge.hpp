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

/// Combines two merge patches into one: afterwards `target` does to `base`
/// what applying `target` and then `overlay` did. Nulls stay as tombstones
/// (a runtime merge-patch onto the runtime layer, a request's overlay over a
/// tenant's). Where `target` holds a value or a deletion and `overlay` an
/// object, the object replaces whatever `base` holds there; a merge patch
/// cannot say "replace", so the combination deletes `base`'s other members
/// there one by one, which is why it needs `base`.
void merge_overlays(json& target, const json& overlay, const json& base);

/// Makes `target` equal to `source`, reusing the storage of `target` where
/// both have the same keys (and arrays and strings in place): cheaper than a
/// copy when `target` is an older version of the same configuration.
void assign_reusing(json& target, const json& source);

} // namespace cfgactors

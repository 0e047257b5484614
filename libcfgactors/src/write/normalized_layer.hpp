// Private: a layer a write edited, with the schema's x-normalize rules
// applied where the write changed it. The layer it came from was normalized
// when it was stored, and a rule is found by a value's path alone
// (schema_normalize.hpp), so the rest cannot need it: normalizing the whole
// layer per write read a runtime layer of 100,000 keys whole.
#pragma once

#include <optional>

#include "cfgactors/layer.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors::detail {

/// `after` normalized at the paths where it differs from `before` (both
/// trees, `before` normalized), or nullopt when no rule changes anything.
/// Equals schema.normalized(*after) where that is not nullopt.
std::optional<layer_data> normalized_layer(const json_schema& schema,
                                           const layer_data& before,
                                           const layer_data& after);

/// Applies the schema's x-normalize rules to the layers of `candidate` that
/// are not `running`'s own data: where the write changed them when
/// `running` was normalized by this schema (`running_normalized`) and both
/// are trees, else whole (a layer a source replaced, or layers restored or
/// adopted, perhaps under another schema).
void normalize_written(const json_schema& schema, const layer_stack& running,
                       bool running_normalized, layer_stack& candidate);

} // namespace cfgactors::detail

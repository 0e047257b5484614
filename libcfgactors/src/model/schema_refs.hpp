// Private: a schema's `$ref`s resolved before valijson sees them. valijson
// 1.0 resolves `$id` scopes only partly and would fetch remote documents
// through a callback; here every reference becomes a local JSON pointer into
// one bundled document, so valijson only ever follows "#/..." references.
#pragma once

#include <string>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors::detail {

/// `root` with every `$ref` rewritten as a pointer into the result and every
/// `$id` removed; documents it refers to (the embedded draft 7 meta-schema,
/// files under `options.ref_dirs`) are copied under the root's
/// `bundle_key`. On failure, false and a message naming the `$ref`.
bool bundle_refs(const json& root, const schema_options& options,
                 json& result, std::string& error);

/// Where bundle_refs puts the documents a schema refers to.
inline constexpr const char* bundle_key = "x-cfgactors-referenced";

/// `ref` resolved against the absolute URI `base` (RFC 3986, section 5.2).
std::string resolve_uri(const std::string& base, const std::string& ref);

} // namespace cfgactors::detail

// Private: the draft 7 meta-schema, embedded.
#pragma once

namespace cfgactors::detail {

/// The URI the meta-schema names itself by, without its empty fragment.
inline constexpr const char* draft7_meta_schema_uri
  = "http://json-schema.org/draft-07/schema";

/// The meta-schema's JSON text.
const char* draft7_meta_schema_text();

} // namespace cfgactors::detail

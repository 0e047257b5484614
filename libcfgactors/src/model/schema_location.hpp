// Private: locations in the documents a schema talks about: valijson's
// error contexts as dotted config paths, and `$ref` fragments decoded.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors::detail {

/// A location as valijson names it, without its decoration: {"logging",
/// "level"} for {"<root>", "[logging]", "[level]"}.
using schema_context = std::vector<std::string>;

schema_context strip_context(const std::vector<std::string>& raw);

/// `text` as an array index, if it is one.
std::optional<std::size_t> as_index(const std::string& text);

/// The config path of `ctx` in `root`: a segment is an index only where
/// `root` has an array (keys and indexes look alike in a context), followed
/// by `extra_key` if given.
config_path to_path(const json& root, const schema_context& ctx,
                    const std::string* extra_key = nullptr);

/// A URI fragment with its %XX escapes decoded (a `$ref`'s JSON pointer).
std::string percent_decode(const std::string& text);

} // namespace cfgactors::detail

// Forward declarations and the aliases every other header shares.
#pragma once

#include <cstdint>
#include <memory>

#include <nlohmann/json_fwd.hpp>

namespace cfgactors {

/// Every configuration tree is a JSON value; objects keep their keys sorted,
/// which makes `dump()` canonical.
using json = nlohmann::json;

struct snapshot;
using snapshot_ptr = std::shared_ptr<const snapshot>;

struct change;
struct operation;
struct write_request;
struct write_result;
struct validation_error;
class layer_data;
class layer_stack;
class rule_set;
class json_schema;

} // namespace cfgactors

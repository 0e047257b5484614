// Private: a node's record in etcd (`nodes/<name>`, under its lease): what
// the others count for majority/all writes and list in /nodes.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "etcd/etcd_actor_types.hpp"

namespace cfgactors::detail {

std::string encode(const etcd_node& x);

/// The record's fields; nothing for text that is not a JSON object with a
/// name (a record is advisory: a bad one is skipped, not fatal).
std::optional<etcd_node> decode_node_record(std::string_view text);

} // namespace cfgactors::detail

// Private to the etcd client: the JSON gateway's encoding (keys and values in
// base64, int64 as strings) and builders for txn compares and ops.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

namespace cfgactors::detail {

struct etcd_kv {
  std::string key, value;
  int64_t create_revision = 0, mod_revision = 0, version = 0, lease = 0;
};

std::string base64_encode(std::string_view raw);

/// Strict: only the one canonical encoding (standard alphabet, padded, no
/// whitespace) decodes; anything else is nothing. "" decodes to "".
std::optional<std::string> base64_decode(std::string_view text);

/// The range_end that selects every key starting with `prefix`: its last
/// byte below 0xff plus one, after dropping trailing 0xff bytes. "\0" (all
/// keys) for an empty prefix or one of only 0xff bytes.
std::string prefix_end(std::string_view prefix);

/// An int64 field as the gateway sends it: a string, a number, or absent
/// (it omits zero). Anything unparsable reads as 0.
int64_t int64_of(const nlohmann::json& obj, const char* field);

/// A gateway `kv` object; a key or value that is not base64 decodes as "".
etcd_kv kv_of(const nlohmann::json& kv);

/// Txn compares, all EQUAL.
nlohmann::json compare_value(std::string_view key, std::string_view value);
/// `create_revision` 0 means: the key does not exist.
nlohmann::json compare_created(std::string_view key, int64_t create_revision);
nlohmann::json compare_mod(std::string_view key, int64_t mod_revision);

/// Txn ops. An empty `range_end` means the one key.
nlohmann::json op_put(std::string_view key, std::string_view value,
                      int64_t lease = 0);
nlohmann::json op_range(std::string_view key, std::string_view range_end = {});
nlohmann::json op_delete(std::string_view key,
                         std::string_view range_end = {});

} // namespace cfgactors::detail

#include "etcd/node_record.hpp"

#include <nlohmann/json.hpp>

namespace cfgactors::detail {

std::string encode(const etcd_node& x) {
  return nlohmann::json{{"name", x.name},
                        {"address", x.address},
                        {"applied", x.applied},
                        {"hash", x.hash},
                        {"state", x.state},
                        {"updated_ms", x.updated_ms}}
    .dump();
}

std::optional<etcd_node> decode_node_record(std::string_view text) {
  auto doc = nlohmann::json::parse(text, nullptr, false);
  if (!doc.is_object())
    return std::nullopt;
  etcd_node n;
  try {
    n.name = doc.value("name", std::string{});
    n.address = doc.value("address", std::string{});
    n.applied = doc.value("applied", uint64_t{0});
    n.hash = doc.value("hash", std::string{});
    n.state = doc.value("state", std::string{});
    n.updated_ms = doc.value("updated_ms", int64_t{0});
  } catch (const nlohmann::json::exception&) {
    return std::nullopt; // a field of another type
  }
  if (n.name.empty())
    return std::nullopt;
  return n;
}

} // namespace cfgactors::detail

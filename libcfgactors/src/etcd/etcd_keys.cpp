#include "etcd/etcd_keys.hpp"

#include <cstdio>

#include "cfgactors/hash.hpp"

namespace cfgactors::detail {

etcd_keys::etcd_keys(std::string_view cluster)
  : root_("/cfgactors/" + std::string{cluster} + "/") {
  // nop
}

std::string etcd_keys::head() const {
  return root_ + "head";
}

std::string etcd_keys::versions() const {
  return root_ + "versions/";
}

std::string etcd_keys::version(uint64_t v) const {
  char digits[21];
  std::snprintf(digits, sizeof(digits), "%020llu",
                static_cast<unsigned long long>(v));
  return versions() + digits;
}

std::string etcd_keys::nodes() const {
  return root_ + "nodes/";
}

std::string etcd_keys::node(std::string_view name) const {
  return nodes() + std::string{name};
}

std::string etcd_keys::acks() const {
  return root_ + "acks";
}

std::string etcd_keys::idempotency(std::string_view client_key) const {
  return root_ + "idempotency/" + sha256_hex(client_key);
}

uint64_t etcd_keys::version_of(std::string_view key) const {
  auto prefix = versions();
  if (key.size() != prefix.size() + 20 || key.substr(0, prefix.size()) != prefix)
    return 0;
  uint64_t out = 0;
  for (auto c : key.substr(prefix.size())) {
    if (c < '0' || c > '9')
      return 0;
    out = out * 10 + static_cast<uint64_t>(c - '0');
  }
  return out;
}

bool valid_cluster_name(std::string_view name) noexcept {
  if (name.empty() || name.size() > 64)
    return false;
  for (auto c : name)
    if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z')
          || (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
      return false;
  return name != "." && name != "..";
}

} // namespace cfgactors::detail

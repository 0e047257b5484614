// Private: where a cluster lives in etcd. Everything of cluster NAME is
// under `/cfgactors/NAME/`:
//
//   head                     the current version, decimal
//   versions/<20 digits>     a version_record (zero-padded: keys sort as
//                            numbers, a range is a span of versions)
//   nodes/<node>             a node's record, under its lease
//   acks                     the newest version a majority/all write waits
//                            for: nodes that applied it rewrite their record
//                            at once (else only on their lease's tick)
//   idempotency/<sha256>     {version, hash} of a keyed write, under a lease
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

namespace cfgactors::detail {

class etcd_keys {
public:
  explicit etcd_keys(std::string_view cluster);

  const std::string& root() const noexcept {
    return root_;
  }

  std::string head() const;
  std::string versions() const; ///< the prefix of every version
  std::string version(uint64_t v) const;
  std::string nodes() const; ///< the prefix of every node record
  std::string node(std::string_view name) const;
  std::string acks() const;
  /// The client's key is hashed: any text, one key length, nothing of it
  /// readable in etcd.
  std::string idempotency(std::string_view client_key) const;

  /// The version a `versions/` key names; 0 for any other key.
  uint64_t version_of(std::string_view key) const;

private:
  std::string root_;
};

/// Whether `name` may name a cluster (a key segment): 1-64 of
/// `[A-Za-z0-9._-]`.
bool valid_cluster_name(std::string_view name) noexcept;

} // namespace cfgactors::detail

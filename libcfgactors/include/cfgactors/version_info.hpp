// One row of the history: a version without its content.
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

namespace cfgactors {

struct version_info {
  uint64_t version = 0;
  std::string hash;
  int64_t timestamp_ms = 0;
  std::string origin; ///< the channel: "api:alice", "file:...", "rollback:3"
  std::string author; ///< who (a token's name); empty: unknown
  std::string reason; ///< why, as the writer said; empty: not said

  friend bool operator==(const version_info& x, const version_info& y) {
    return x.version == y.version && x.hash == y.hash
           && x.timestamp_ms == y.timestamp_ms && x.origin == y.origin
           && x.author == y.author && x.reason == y.reason;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, version_info& x) {
  return f(caf::meta::type_name("version_info"), x.version, x.hash,
           x.timestamp_ms, x.origin, x.author, x.reason);
}

} // namespace cfgactors

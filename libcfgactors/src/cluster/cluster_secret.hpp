// Private: where the cluster secret comes from, and where a cluster may do
// without one.
#pragma once

#include <string>

#include <caf/expected.hpp>

namespace cfgactors::detail {

/// Shortest cluster secret accepted, in bytes.
inline constexpr std::size_t min_cluster_secret = 16;

/// Reads a cluster secret file, checked like a token file: a regular file of
/// this process's user (or root) that group and others cannot access, at
/// most 4 KiB; one line, its line break dropped, at least
/// `min_cluster_secret` bytes.
caf::expected<std::string> read_cluster_secret(const std::string& path);

/// Whether a listen address reaches this host only (127.0.0.0/8, ::1,
/// `localhost`). An empty address (every interface) does not.
bool is_loopback_address(const std::string& address);

} // namespace cfgactors::detail

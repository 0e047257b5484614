// Private: a large record stored compressed. A whole record holds every
// layer, and etcd takes at most --max-request-bytes (1.5 MiB by default) in
// one request; configuration text deflates 3-100x, so a record whose text
// would not fit is stored as its zlib stream (RFC 1950) and the limit is
// that of the compressed size. Every record that fits stays JSON text,
// which `etcdctl get` shows as it is and nodes of builds before this one
// read: a rolling upgrade keeps them following.
#pragma once

#include <cstddef>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace cfgactors::detail {

/// What a stored record may inflate to at most: a few hundred KiB written
/// into etcd by whoever can write there must not make every node allocate
/// gigabytes (deflate reaches ~1000:1).
inline constexpr std::size_t max_inflated_record = 256 * 1024 * 1024;

/// Whether `stored` is a deflated record: a zlib stream starts with 0x78
/// (deflate, 32 KiB window), a JSON record with `{`.
bool is_deflated_record(std::string_view stored) noexcept;

/// `text` as a zlib stream (fastest level: a whole record of 2 MB deflates
/// in a few milliseconds, 3-100x smaller).
std::string deflate_record(std::string_view text);

/// The text of a deflated record read from `key`; refused, naming `key`,
/// when it is no complete zlib stream, fails its checksum, has bytes after
/// its end, or inflates beyond `max_bytes`.
caf::expected<std::string>
inflate_record(std::string_view stored, std::string_view key,
               std::size_t max_bytes = max_inflated_record);

} // namespace cfgactors::detail

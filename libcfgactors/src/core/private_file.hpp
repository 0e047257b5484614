// Private: reading a small file that holds a secret (a key, a cluster
// secret). Only its owner may have written or read it.
#pragma once

#include <cstddef>
#include <optional>
#include <string>

namespace cfgactors::detail {

/// The content of `path`: a regular file owned by this process's user (or
/// root) that group and others may not access, of at most `max_size` bytes.
/// Checked on the descriptor that is read, so the file cannot be swapped
/// between check and read. Otherwise nullopt and the reason in `why`
/// (without the path); `too_large` tells a longer file apart, which is
/// refused, not read in part.
std::optional<std::string> read_private_file(const std::string& path,
                                             std::size_t max_size,
                                             std::string& why,
                                             bool& too_large);

/// read_private_file for a file of one line (a secret, a password): the
/// line without its trailing newline (maybe empty); nullopt and the reason
/// in `why` (without the path) for anything else.
std::optional<std::string> read_private_line(const std::string& path,
                                             std::string& why);

} // namespace cfgactors::detail

// Private: sealing secret values for the journal. AES-256-GCM (OpenSSL): a
// sealed value reveals nothing of the secret but its rough length, and any
// change to it, or a move to another place, makes it fail to open.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include <caf/expected.hpp>

namespace cfgactors::detail {

class secret_box {
public:
  static constexpr std::size_t key_size = 32;

  /// What every sealed value starts with.
  static constexpr std::string_view prefix = "cfgsealed:v1:";

  /// A box for `key` (key_size bytes).
  explicit secret_box(std::string key);

  /// A name for the key that says nothing about it: the journal records it,
  /// so a wrong key is told apart from a damaged row.
  const std::string& key_id() const noexcept {
    return key_id_;
  }

  /// `plain` sealed and bound to `context` (authenticated, not stored):
  /// `cfgsealed:v1:<base64 of nonce, ciphertext and tag>`.
  std::string seal(std::string_view plain, std::string_view context) const;

  /// The plaintext of `sealed`, or nullopt if this key did not seal it for
  /// `context` or it was changed since.
  std::optional<std::string> open(std::string_view sealed,
                                  std::string_view context) const;

private:
  std::string key_;
  std::string key_id_;
};

/// Reads a key file: a regular file of cfgd's user (or root) that neither
/// group nor others may read or write, holding key_size bytes, or twice as
/// many hex digits (a trailing newline is ignored). Errors name the file.
caf::expected<std::string> read_key_file(const std::string& path);

/// `dir/secrets.key`, read with read_key_file, or created (0600, random)
/// when missing.
caf::expected<std::string> data_dir_key(const std::string& dir);

} // namespace cfgactors::detail

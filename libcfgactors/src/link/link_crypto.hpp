// Private: the cryptography of the cluster link, below BASP. A connection
// starts with a handshake in which both ends prove the cluster secret
// (HMAC-SHA256 over two fresh nonces); both then derive one AES-256-GCM key
// per direction, and every byte BASP sends travels in sealed frames.
//
//   primary -> peer   "CFGLINK1" | primary nonce (32 bytes)
//   peer -> primary   "CFGLINK1" | peer nonce (32) | client proof (32)
//   primary -> peer   server proof (32)
//   then, both ways   frames: length (4 bytes, big endian) | ciphertext | tag
//
// The proofs and keys are HMAC-SHA256(secret, label | primary nonce | peer
// nonce) with the labels below. A frame's nonce is its sequence number in
// its direction; its length is the additional data, so nothing in a frame
// can be changed, dropped, replayed or reordered without the next open
// failing. An empty frame is a heartbeat.
#pragma once

#include <array>
#include <cstddef>
#include <cstdint>
#include <string_view>
#include <vector>

namespace cfgactors::detail {

inline constexpr std::string_view link_magic = "CFGLINK1";
inline constexpr std::size_t link_nonce_size = 32;
inline constexpr std::size_t link_mac_size = 32;
inline constexpr std::size_t link_tag_size = 16;
inline constexpr std::size_t link_header_size = 4;
/// Largest plaintext of one frame: a longer length is refused unread.
inline constexpr std::size_t link_max_frame = 256 * 1024;

using link_nonce = std::array<unsigned char, link_nonce_size>;
using link_mac = std::array<unsigned char, link_mac_size>;
using link_key = std::array<unsigned char, 32>;

/// Fresh random bytes from OpenSSL; false if it has no entropy.
bool random_link_nonce(link_nonce& out);

/// HMAC-SHA256(secret, label | primary nonce | peer nonce).
link_mac link_hmac(std::string_view secret, std::string_view label,
                   const link_nonce& primary, const link_nonce& peer);

/// The peer's and the primary's proofs.
link_mac link_client_proof(std::string_view secret, const link_nonce& primary,
                           const link_nonce& peer);
link_mac link_server_proof(std::string_view secret, const link_nonce& primary,
                           const link_nonce& peer);

/// The keys of the two directions.
link_key link_key_to_primary(std::string_view secret,
                             const link_nonce& primary,
                             const link_nonce& peer);
link_key link_key_to_peer(std::string_view secret, const link_nonce& primary,
                          const link_nonce& peer);

/// Constant-time comparison (CRYPTO_memcmp).
bool same_link_mac(const link_mac& x, const link_mac& y);

/// One direction of sealed frames: a key and the next sequence number.
class frame_cipher {
public:
  explicit frame_cipher(const link_key& key);
  ~frame_cipher();

  frame_cipher(const frame_cipher&) = delete;
  frame_cipher& operator=(const frame_cipher&) = delete;

  /// Appends the frame of `size` plaintext bytes (at most link_max_frame)
  /// to `out`: header, ciphertext, tag.
  bool seal(const unsigned char* data, std::size_t size,
            std::vector<unsigned char>& out);

  /// The plaintext length a header announces, or -1 beyond link_max_frame.
  static long frame_length(const unsigned char* header);

  /// Opens the frame whose header is `header` and whose ciphertext and tag
  /// are `body` (length + link_tag_size bytes) in place: on success the
  /// first `length` bytes of `body` are the plaintext. False if anything
  /// was changed (then the connection must end).
  bool open(const unsigned char* header, unsigned char* body,
            std::size_t length);

private:
  void next_iv(unsigned char* iv);

  void* ctx_; ///< EVP_CIPHER_CTX
  link_key key_;
  uint64_t sequence_ = 0;
};

} // namespace cfgactors::detail

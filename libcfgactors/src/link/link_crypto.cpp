#include "link/link_crypto.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace cfgactors::detail {

namespace {

constexpr std::string_view client_label = "cfgactors-link-v1 client";
constexpr std::string_view server_label = "cfgactors-link-v1 server";
constexpr std::string_view to_primary_label = "cfgactors-link-v1 to-primary";
constexpr std::string_view to_peer_label = "cfgactors-link-v1 to-peer";

EVP_CIPHER_CTX* cipher_ctx(void* x) {
  return static_cast<EVP_CIPHER_CTX*>(x);
}

} // namespace

bool random_link_nonce(link_nonce& out) {
  return RAND_bytes(out.data(), static_cast<int>(out.size())) == 1;
}

link_mac link_hmac(std::string_view secret, std::string_view label,
                   const link_nonce& primary, const link_nonce& peer) {
  // The label first, then two fixed-size nonces: no two inputs collide.
  std::vector<unsigned char> input;
  input.reserve(label.size() + 1 + 2 * link_nonce_size);
  input.insert(input.end(), label.begin(), label.end());
  input.push_back(0);
  input.insert(input.end(), primary.begin(), primary.end());
  input.insert(input.end(), peer.begin(), peer.end());
  link_mac out{};
  unsigned size = 0;
  static const unsigned char empty_key = 0;
  auto key = secret.empty()
               ? &empty_key
               : reinterpret_cast<const unsigned char*>(secret.data());
  HMAC(EVP_sha256(), key, static_cast<int>(secret.size()), input.data(),
       input.size(), out.data(), &size);
  return out;
}

link_mac link_client_proof(std::string_view secret, const link_nonce& primary,
                           const link_nonce& peer) {
  return link_hmac(secret, client_label, primary, peer);
}

link_mac link_server_proof(std::string_view secret, const link_nonce& primary,
                           const link_nonce& peer) {
  return link_hmac(secret, server_label, primary, peer);
}

link_key link_key_to_primary(std::string_view secret,
                             const link_nonce& primary,
                             const link_nonce& peer) {
  return link_hmac(secret, to_primary_label, primary, peer);
}

link_key link_key_to_peer(std::string_view secret, const link_nonce& primary,
                          const link_nonce& peer) {
  return link_hmac(secret, to_peer_label, primary, peer);
}

bool same_link_mac(const link_mac& x, const link_mac& y) {
  return CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

frame_cipher::frame_cipher(const link_key& key)
  : ctx_(EVP_CIPHER_CTX_new()), key_(key) {
  // nop
}

frame_cipher::~frame_cipher() {
  EVP_CIPHER_CTX_free(cipher_ctx(ctx_));
  OPENSSL_cleanse(key_.data(), key_.size());
}

void frame_cipher::next_iv(unsigned char* iv) {
  // 12 bytes: 4 zero, then the sequence number. Each direction has its own
  // key, so a number is never used twice under one key.
  auto n = sequence_++;
  for (int i = 0; i < 4; ++i)
    iv[i] = 0;
  for (int i = 11; i >= 4; --i, n >>= 8)
    iv[i] = static_cast<unsigned char>(n & 0xff);
}

bool frame_cipher::seal(const unsigned char* data, std::size_t size,
                        std::vector<unsigned char>& out) {
  if (size > link_max_frame || ctx_ == nullptr)
    return false;
  auto start = out.size();
  out.resize(start + link_header_size + size + link_tag_size);
  auto header = out.data() + start;
  auto n = static_cast<uint32_t>(size);
  header[0] = static_cast<unsigned char>(n >> 24);
  header[1] = static_cast<unsigned char>(n >> 16);
  header[2] = static_cast<unsigned char>(n >> 8);
  header[3] = static_cast<unsigned char>(n);
  unsigned char iv[12];
  next_iv(iv);
  auto ctx = cipher_ctx(ctx_);
  int len = 0;
  auto body = header + link_header_size;
  if (EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key_.data(), iv) != 1
      || EVP_EncryptUpdate(ctx, nullptr, &len, header, link_header_size) != 1
      || (size > 0
          && EVP_EncryptUpdate(ctx, body, &len, data, static_cast<int>(size))
               != 1)
      || EVP_EncryptFinal_ex(ctx, body + size, &len) != 1
      || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, link_tag_size,
                             body + size)
           != 1) {
    out.resize(start);
    return false;
  }
  return true;
}

long frame_cipher::frame_length(const unsigned char* header) {
  uint32_t n = (uint32_t{header[0]} << 24) | (uint32_t{header[1]} << 16)
               | (uint32_t{header[2]} << 8) | uint32_t{header[3]};
  if (n > link_max_frame)
    return -1;
  return static_cast<long>(n);
}

bool frame_cipher::open(const unsigned char* header, unsigned char* body,
                        std::size_t length) {
  if (length > link_max_frame || ctx_ == nullptr)
    return false;
  unsigned char iv[12];
  next_iv(iv);
  auto ctx = cipher_ctx(ctx_);
  int len = 0;
  if (EVP_DecryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, key_.data(), iv) != 1
      || EVP_DecryptUpdate(ctx, nullptr, &len, header, link_header_size) != 1
      || (length > 0
          && EVP_DecryptUpdate(ctx, body, &len, body, static_cast<int>(length))
               != 1)
      || EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_TAG, link_tag_size,
                             body + length)
           != 1)
    return false;
  return EVP_DecryptFinal_ex(ctx, body + length, &len) == 1;
}

} // namespace cfgactors::detail

// SHA-256 content hashes over the canonical JSON text.
#include "cfgactors/hash.hpp"

#include <array>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace cfgactors {

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  // EVP_Digest only fails on allocation failure inside OpenSSL; a hash that
  // silently came out empty would make every tree look alike.
  if (EVP_Digest(text.data(), text.size(), digest.data(), &len, EVP_sha256(),
                 nullptr)
      != 1)
    throw std::runtime_error("EVP_Digest(SHA-256) failed");
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

std::string canonical_hash(const json& value) {
  // Objects are std::map-ordered, so compact dump() is canonical. `replace`
  // keeps invalid UTF-8 (which can arrive through the env source) from
  // throwing; it hashes as U+FFFD.
  return sha256_hex(
    value.dump(-1, ' ', false, json::error_handler_t::replace));
}

} // namespace cfgactors

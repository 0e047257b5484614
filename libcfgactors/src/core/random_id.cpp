#include "core/random_id.hpp"

#include <array>

#include <openssl/rand.h>

namespace cfgactors::detail {

std::string random_id() {
  static constexpr char digits[] = "0123456789abcdef";
  std::array<unsigned char, 16> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return {};
  std::string out;
  for (auto x : bytes) {
    out += digits[x >> 4];
    out += digits[x & 0x0f];
  }
  return out;
}

} // namespace cfgactors::detail

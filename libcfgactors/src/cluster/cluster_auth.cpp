#include "cluster/cluster_auth.hpp"

#include <array>
#include <cstdint>
#include <initializer_list>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

namespace cfgactors::detail {

namespace {

std::string hex(const unsigned char* data, std::size_t size) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  out.reserve(2 * size);
  for (std::size_t i = 0; i < size; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0x0f];
  }
  return out;
}

/// Each field with its length in front: no two different contexts hash the
/// same bytes ("ab" | "c" vs "a" | "bc").
void append_field(std::string& out, std::string_view x) {
  auto n = static_cast<uint32_t>(x.size());
  for (int shift = 24; shift >= 0; shift -= 8)
    out += static_cast<char>((n >> shift) & 0xff);
  out.append(x.data(), x.size());
}

/// HMAC-SHA256 of `input` with `secret`, hex.
std::string hmac_hex(std::string_view secret, const std::string& input) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> out{};
  unsigned size = 0;
  // An empty secret (a loopback cluster without one) still needs a key
  // pointer that is not null.
  static const unsigned char empty_key = 0;
  auto key = secret.empty()
               ? &empty_key
               : reinterpret_cast<const unsigned char*>(secret.data());
  if (HMAC(EVP_sha256(), key, static_cast<int>(secret.size()),
           reinterpret_cast<const unsigned char*>(input.data()), input.size(),
           out.data(), &size)
      == nullptr)
    return {};
  return hex(out.data(), size);
}

std::string mac(std::string_view secret, std::string_view label,
                const auth_context& ctx) {
  std::string input;
  for (auto x : {label, ctx.primary_nonce, ctx.peer_nonce, ctx.node,
                 ctx.node_id})
    append_field(input, x);
  return hmac_hex(secret, input);
}

/// The fields every stream message signs; `std::to_string` of numbers.
/// The cluster id and epoch are signed too: a peer that could forge them
/// could make a replica refuse its own primary, or follow another's.
template <class Message>
std::string stream_input(std::string_view kind, const Message& x,
                         uint64_t prev_version) {
  std::string input;
  append_field(input, "cfgactors-cluster-v1 stream");
  append_field(input, kind);
  append_field(input, std::to_string(x.version));
  append_field(input, std::to_string(prev_version));
  append_field(input, x.hash);
  append_field(input, std::to_string(x.timestamp_ms));
  append_field(input, x.origin);
  append_field(input, std::to_string(x.secrets.size()));
  for (auto& path : x.secrets)
    append_field(input, path);
  append_field(input, x.cluster_id);
  append_field(input, std::to_string(x.epoch));
  append_field(input, x.masked_hash);
  append_field(input, x.author);
  append_field(input, x.reason);
  return input;
}

} // namespace

std::string random_nonce() {
  std::array<unsigned char, 32> bytes{};
  if (RAND_bytes(bytes.data(), static_cast<int>(bytes.size())) != 1)
    return {};
  return hex(bytes.data(), bytes.size());
}

std::string client_proof(std::string_view secret, const auth_context& ctx) {
  return mac(secret, "cfgactors-cluster-v1 client", ctx);
}

std::string server_proof(std::string_view secret, const auth_context& ctx) {
  return mac(secret, "cfgactors-cluster-v1 server", ctx);
}

std::string session_of(std::string_view secret, const auth_context& ctx) {
  return mac(secret, "cfgactors-cluster-v1 session", ctx);
}

std::string stream_mac(std::string_view session, const replicated_change& x) {
  auto input = stream_input("change", x, x.prev_version);
  append_field(input, x.ack_now ? "1" : "0");
  return hmac_hex(session, input);
}

std::string stream_mac(std::string_view session, const full_snapshot& x) {
  auto input = stream_input("snapshot", x, 0);
  append_field(input, x.layers.dump());
  return hmac_hex(session, input);
}

bool same_mac(std::string_view x, std::string_view y) {
  return !x.empty() && x.size() == y.size()
         && CRYPTO_memcmp(x.data(), y.data(), x.size()) == 0;
}

} // namespace cfgactors::detail

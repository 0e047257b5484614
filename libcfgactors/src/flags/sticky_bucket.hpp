// Sticky buckets for rollouts and variants: a stable hash of (salt, flag,
// key) mapped to [0, 10000). It must never change between builds: changing
// it would move users in and out of every running rollout.
#pragma once

#include <cstdint>
#include <string_view>

namespace cfgactors::detail {

/// Resolution of rollouts: 10000 buckets are steps of 0.01 percent.
constexpr uint32_t bucket_count = 10000;

constexpr std::string_view rollout_salt = "rollout";
constexpr std::string_view variant_salt = "variant";

// 64-bit FNV-1a over bytes, independent of char signedness and endianness.
constexpr uint64_t fnv1a(uint64_t hash, std::string_view bytes) noexcept {
  for (char c : bytes) {
    hash ^= static_cast<unsigned char>(c);
    hash *= 0x100000001b3ULL;
  }
  return hash;
}

// The published FNV-1a test vectors (www.isthe.com/chongo/tech/comp/fnv).
static_assert(fnv1a(0xcbf29ce484222325ULL, "a") == 0xaf63dc4c8601ec8cULL);
static_assert(fnv1a(0xcbf29ce484222325ULL, "foobar") == 0x85944171f73967e8ULL);

// MurmurHash3's 64-bit finalizer: FNV-1a alone barely changes its low bits
// for keys that differ in their last byte (user1, user2, ...), and the
// bucket is taken from the low bits.
constexpr uint64_t fmix64(uint64_t k) noexcept {
  k ^= k >> 33;
  k *= 0xff51afd7ed558ccdULL;
  k ^= k >> 33;
  k *= 0xc4ceb9fe1a85ec53ULL;
  k ^= k >> 33;
  return k;
}

/// The hash state after (salt, flag): what every key of one flag continues.
/// The parts are separated by 0xff, a byte that never occurs in UTF-8, so
/// distinct triples hash distinct texts.
constexpr uint64_t sticky_prefix(std::string_view salt,
                                 std::string_view flag) noexcept {
  constexpr std::string_view separator{"\xff", 1};
  auto hash = fnv1a(0xcbf29ce484222325ULL, salt);
  hash = fnv1a(hash, separator);
  hash = fnv1a(hash, flag);
  return fnv1a(hash, separator);
}

/// The bucket of `key` under a prefix from sticky_prefix.
constexpr uint32_t sticky_bucket(uint64_t prefix,
                                 std::string_view key) noexcept {
  return static_cast<uint32_t>(fmix64(fnv1a(prefix, key)) % bucket_count);
}

/// The bucket of `key` for `flag`.
constexpr uint32_t sticky_bucket(std::string_view salt, std::string_view flag,
                                 std::string_view key) noexcept {
  return sticky_bucket(sticky_prefix(salt, flag), key);
}

} // namespace cfgactors::detail

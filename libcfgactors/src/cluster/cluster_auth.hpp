// Private: the cryptography of the cluster handshake. Both sides prove the
// shared cluster secret with HMAC-SHA256 over both fresh nonces, the peer's
// name and its CAF node id; neither ever sends the secret.
#pragma once

#include <string>
#include <string_view>

#include "cfgactors/cluster_messages.hpp"

namespace cfgactors::detail {

/// What a peer binds its proof to: the nonces of this handshake, the name it
/// claims and its CAF node id (caf::to_string of it).
struct auth_context {
  std::string_view primary_nonce;
  std::string_view peer_nonce;
  std::string_view node;
  std::string_view node_id;
};

/// A fresh random nonce from OpenSSL's RAND_bytes, hex (32 bytes of
/// randomness); empty if OpenSSL has no entropy (then no handshake runs).
std::string random_nonce();

/// The peer's proof: HMAC(secret, "cfgactors-cluster-v1 client" | context).
std::string client_proof(std::string_view secret, const auth_context& ctx);

/// The primary's proof: HMAC(secret, "cfgactors-cluster-v1 server" |
/// context).
std::string server_proof(std::string_view secret, const auth_context& ctx);

/// The session both sides derive (never sent during the handshake) and the
/// peer puts in each later message: it binds them to this handshake, so that
/// a message whose source node id a third party forged is refused.
std::string session_of(std::string_view secret, const auth_context& ctx);

/// The MAC a stream message carries for the replica with `session`.
std::string stream_mac(std::string_view session, const replicated_change& x);
std::string stream_mac(std::string_view session, const full_snapshot& x);

/// Compares two MACs in constant time (CRYPTO_memcmp).
bool same_mac(std::string_view x, std::string_view y);

} // namespace cfgactors::detail

// Private: who may send the primary what (primary_auth.cpp).
#pragma once

#include <string>

#include <caf/error.hpp>
#include <caf/make_message.hpp>
#include <caf/result.hpp>

#include "cluster/primary_state.hpp"

namespace cfgactors::detail {

/// Counts a refused message by `reason`; logged once per peer node.
void refuse(primary_ptr self, const char* reason, const char* what);

/// Why the current sender cannot be trusted at all, or null.
const char* untrusted_sender(primary_ptr self);

/// Whether the current message comes from an actor of this process.
bool from_local_client(primary_ptr self, const char* what);

/// The authenticated peer that sent the current message with `session`, or
/// null (the message is refused and counted).
const primary_state::peer* authenticated(primary_ptr self,
                                         const std::string& session,
                                         const char* what);

/// The error a refused request gets.
caf::error refused_error(const char* what);

/// Whether `name` is bound to a connected replica other than `who`.
bool name_taken(primary_ptr self, const std::string& name,
                const caf::actor_addr& who);

/// A peer asks for a challenge.
caf::result<auth_challenge> on_auth(primary_ptr self);

/// A peer proves the secret; answered with our proof.
caf::result<auth_accept> on_auth_proof(primary_ptr self, auth_proof& p);

/// A handshake's time is up: its nonce is forgotten.
void on_handshake_timeout(primary_ptr self, uint64_t id);

/// Whether a timer message carries our cookie (else it is forged).
bool own_timer(primary_ptr self, uint64_t cookie, const char* what);

} // namespace cfgactors::detail

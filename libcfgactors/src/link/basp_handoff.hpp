// Private: hands BASP the local end of an authenticated link, as if CAF had
// accepted or opened the connection itself. BASP never owns a socket that
// faces the network.
#pragma once

#include <cstdint>
#include <set>
#include <string>

#include <caf/actor.hpp>
#include <caf/actor_system.hpp>
#include <caf/io/fwd.hpp>

namespace cfgactors::detail {

/// BASP's broker of `sys` (its middleman must be loaded).
caf::actor basp_broker(caf::actor_system& sys);

/// A peer connected to us through the link: BASP (`basp`, looked up once
/// beforehand: the lookup is not thread-safe) takes `fd` and greets the
/// peer with its server handshake, offering `whom` (with interface `sigs`)
/// as the actor published at `port`.
void basp_accept(caf::actor_system& sys, const caf::actor& basp, int fd,
                 caf::strong_actor_ptr whom, std::set<std::string> sigs,
                 uint16_t port);

/// We connected through the link: the scribe for `fd`, for a
/// `(connect_atom, scribe_ptr, port)` request to basp_broker(), which
/// answers like the middleman's connect.
caf::io::scribe_ptr basp_scribe(caf::actor_system& sys, int fd);

} // namespace cfgactors::detail

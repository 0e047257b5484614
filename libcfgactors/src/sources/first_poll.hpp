// Private helper of the remote sources: the request behind
// await_first_poll, which a source answers once its first read succeeded
// (with its status) or failed for good (with the error).
#pragma once

#include <caf/atom.hpp>

namespace cfgactors::detail {

using first_poll_atom = caf::atom_constant<caf::atom("firstpoll")>;

} // namespace cfgactors::detail

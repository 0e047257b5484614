#include "link/basp_handoff.hpp"

#include <caf/atom.hpp>
#include <caf/io/basp_broker.hpp>
#include <caf/io/middleman.hpp>
#include <caf/send.hpp>

namespace cfgactors::detail {

caf::actor basp_broker(caf::actor_system& sys) {
  // The middleman made it at start; this only looks it up.
  return sys.middleman().named_broker<caf::io::basp_broker>(caf::atom("BASP"));
}

void basp_accept(caf::actor_system& sys, const caf::actor& basp, int fd,
                 caf::strong_actor_ptr whom, std::set<std::string> sigs,
                 uint16_t port) {
  auto scribe = sys.middleman().backend().new_scribe(fd);
  caf::anon_send(basp, caf::publish_atom::value, std::move(scribe),
                 port, std::move(whom), std::move(sigs));
}

caf::io::scribe_ptr basp_scribe(caf::actor_system& sys, int fd) {
  return sys.middleman().backend().new_scribe(fd);
}

} // namespace cfgactors::detail

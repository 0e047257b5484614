#include "link/primary_gate.hpp"

#include "link/basp_handoff.hpp"

namespace cfgactors::detail {

caf::expected<link_gate_ptr>
open_primary_gate(caf::actor_system& sys, link_context_ptr ctx,
                  const primary_actor& primary, const std::string& address,
                  uint16_t port, link_options options,
                  std::shared_ptr<std::atomic<bool>> published) {
  auto basp = basp_broker(sys);
  auto whom = caf::actor_cast<caf::strong_actor_ptr>(primary);
  auto sigs = sys.message_types<primary_actor>();
  // The gate's port is known once it listens, before any peer comes.
  auto bound = std::make_shared<std::atomic<uint16_t>>(port);
  auto gate = link_gate::open(std::move(ctx), address, port,
                              std::move(options),
                              [&sys, basp, whom, sigs, published,
                               bound](int fd) {
                                if (published)
                                  published->store(true);
                                basp_accept(sys, basp, fd, whom, sigs,
                                            bound->load());
                              });
  if (gate)
    bound->store((*gate)->port());
  return gate;
}

} // namespace cfgactors::detail

// Shared by the cluster suites: a replica joins while the test watches its
// handshake, so that the test can then play a third party forging the
// stream with the session the replica derived.
#pragma once

#include <optional>
#include <string>

#include <caf/all.hpp>

#include "cfgactors_test.hpp"
#include "cluster/cluster_auth.hpp"
#include "core/internal_actor_types.hpp"

namespace cfgactors::test {

/// Lets replica `r` join `primary` (sent by `self`) while the test watches
/// the handshake: returns the session the replica derived with `secret`, so
/// that a test can play a third party forging its stream. `sched` is the
/// test coordinator, `run` delivers the rest.
template <class Self, class Sched, class Run>
std::string watched_join(Self& self, Sched& sched, const replica_actor& r,
                         const primary_actor& primary,
                         const std::string& secret, Run run) {
  self->send(r, join_atom::value, primary);
  auto ptr = caf::actor_cast<caf::abstract_actor*>(primary);
  std::optional<auth_proof> proof;
  while (!proof && sched.try_run_once())
    if (auto elem = ptr->peek_at_next_mailbox_element();
        elem && elem->content().match_elements<auth_proof>())
      proof = elem->content().get_as<auth_proof>(0);
  CAF_REQUIRE(proof);
  run();
  auto node_id = caf::to_string(r.node());
  detail::auth_context ctx{proof->primary_nonce, proof->peer_nonce,
                           proof->node, node_id};
  return detail::session_of(secret, ctx);
}

} // namespace cfgactors::test

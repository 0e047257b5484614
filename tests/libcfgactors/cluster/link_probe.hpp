// A test actor standing in for a replica's link (or for a peer that plays
// one): records what the primary sends it, and goes through the handshake
// with whatever secret a test gives it.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/all.hpp>

#include "cfgactors/cluster_messages.hpp"
#include "cluster/cluster_auth.hpp"
#include "core/internal_actor_types.hpp"

namespace cfgactors::test {

/// What a probe received.
struct link_log {
  std::vector<replicated_change> changes;
  std::vector<full_snapshot> snapshots;
  std::vector<auth_challenge> challenges;
  std::vector<auth_accept> accepts;
  std::vector<caf::error> errors;
  std::vector<consistent_write_result> writes;
  std::vector<std::vector<replica_info>> listings;
  std::vector<bool> forgotten;
};

using link_log_ptr = std::shared_ptr<link_log>;

inline caf::behavior link_probe(caf::event_based_actor* self,
                                link_log_ptr log) {
  // Errors answering its messages arrive as system messages: CAF's default
  // would end the probe.
  self->set_error_handler([log](caf::scheduled_actor*, caf::error& err) {
    log->errors.push_back(std::move(err));
  });
  return {
    [log](replicated_change& m) { log->changes.push_back(std::move(m)); },
    [log](full_snapshot& m) { log->snapshots.push_back(std::move(m)); },
    [log](auth_challenge& m) { log->challenges.push_back(std::move(m)); },
    [log](auth_accept& m) { log->accepts.push_back(std::move(m)); },
    [log](consistent_write_result& m) { log->writes.push_back(std::move(m)); },
    [log](std::vector<replica_info>& m) {
      log->listings.push_back(std::move(m));
    },
    [log](bool x) { log->forgotten.push_back(x); },
  };
}

/// The result of a probe's handshake.
struct probe_session {
  auth_proof proof;        ///< what the probe sent (for replays)
  std::string session;     ///< empty if the primary refused
  bool primary_proved = false; ///< the primary's MAC checked out
};

/// Lets `probe` (whose log is `log`) ask `primary` for a challenge and
/// answer it as `node` with `secret`; `run` delivers the messages.
template <class Run>
probe_session handshake(const caf::actor& probe, link_log& log,
                        const primary_actor& primary, const std::string& node,
                        const std::string& secret, Run run) {
  probe_session out;
  auto challenges = log.challenges.size();
  caf::send_as(probe, primary, auth_atom::value);
  run();
  if (log.challenges.size() == challenges)
    return out;
  auto& nonce = log.challenges.back().nonce;
  auto mine = detail::random_nonce();
  auto node_id = caf::to_string(probe.node());
  detail::auth_context ctx{nonce, mine, node, node_id};
  out.proof = auth_proof{node, nonce, mine, detail::client_proof(secret, ctx)};
  auto accepts = log.accepts.size();
  caf::send_as(probe, primary, out.proof);
  run();
  if (log.accepts.size() == accepts)
    return out;
  out.primary_proved = detail::same_mac(detail::server_proof(secret, ctx),
                                        log.accepts.back().mac);
  out.session = detail::session_of(secret, ctx);
  return out;
}

} // namespace cfgactors::test

// Private: a primary behind a link gate, the way a node publishes it: every
// peer that proves the cluster secret reaches BASP, which offers it the
// primary; nothing else reaches BASP.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <string>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>

#include "core/internal_actor_types.hpp"
#include "link/link_gate.hpp"

namespace cfgactors::detail {

/// Opens a gate on `address:port` (0: any free port) for `primary`.
/// `published`, if given, turns true once a peer came through: BASP then
/// holds the primary as published at the gate's port until unpublished.
caf::expected<link_gate_ptr>
open_primary_gate(caf::actor_system& sys, link_context_ptr ctx,
                  const primary_actor& primary, const std::string& address,
                  uint16_t port, link_options options,
                  std::shared_ptr<std::atomic<bool>> published = nullptr);

} // namespace cfgactors::detail

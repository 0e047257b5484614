// Guarded apply: a guard hands every version that touched a contract's
// subtree to its component, checks the component's health, and rolls the
// configuration back when the apply throws or the health check fails.
#pragma once

#include <chrono>
#include <memory>

#include <caf/actor_system.hpp>
#include <caf/timespan.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/contract.hpp"

namespace cfgactors {

struct guard_options {
  /// Runs the guard on a thread of its own: apply and health checks are the
  /// component's code and may block. false runs it on the scheduler (for
  /// code that never blocks, and for deterministic tests).
  bool detached = true;
  /// How long to wait for the store and the writer.
  caf::timespan timeout = std::chrono::seconds{30};
};

/// Spawns a guard for `subject`. It subscribes to `store` (a store or a
/// replica) at the contract's prefix, then applies the current snapshot
/// (none while the store is at version 0) and every later version that
/// changed the prefix: `apply`, then `health_check`.
///
/// When a version fails (apply throws, or the health check reports a
/// problem or throws) and the version before it had passed, the guard logs
/// `event=contract_rollback contract=<name> version=<bad> to=<good>
/// reason="..."` and writes `operation::rollback(good)` to `writer` with
/// origin `contract:<name>` and `expected_version = bad`: only the bad
/// version is undone, and only if nothing newer arrived (a version conflict
/// is logged as `contract_rollback_conflict`, not retried — the newer
/// version stays). `good` is the version just before the bad one when it
/// holds the same subtree as the last version that passed (writes to other
/// subtrees in between survive), else that last passing version itself.
/// The rollback makes a new version, which the guard applies and checks
/// like any other.
///
/// No loops: a failure is left in effect, logged as `contract_degraded` and
/// counted in `degraded`, when it is the guard's own rollback, when no
/// version passed before (the first one it saw), or when the version before
/// it failed too. The next version that passes ends it
/// (`contract_recovered`).
///
/// Counters: `stats_atom` → `guard_stats`. Stop it with an exit message
/// (`caf::anon_send_exit(guard, caf::exit_reason::user_shutdown)`); it also
/// stops when the store goes down. Throws std::invalid_argument on a null
/// contract or handle.
contract_guard_actor spawn_contract_guard(caf::actor_system& sys,
                                          std::shared_ptr<contract> subject,
                                          store_actor store, writer_actor writer,
                                          guard_options options = {});

} // namespace cfgactors

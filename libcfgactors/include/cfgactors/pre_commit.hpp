// Pre-commit checks: the seed's apply_runtime_config. A contract registered
// with `contract_registry::add_pre_commit` is applied and health-checked on
// this node's component as part of admission, before anything is committed;
// a failure refuses the write and nobody else ever sees it.
#pragma once

#include <chrono>
#include <memory>
#include <string>

#include <caf/timespan.hpp>

#include "cfgactors/contract.hpp"

namespace cfgactors {

/// How the validator runs a pre-commit check.
///
/// Order of admission on the primary (the validator, one write at a time):
/// operations → schema → rules → every contract's `validate` → compare-and-set
/// → **pre-commit checks** → commit (journal, replicas, subscribers). A write
/// whose candidate changed the contract's `prefix()` is applied to the
/// component (`apply` with a snapshot of the candidate, numbered as the
/// version it would become) and its `health_check` runs. No other write is
/// admitted meanwhile.
///
/// - Passed: the write is committed; the component keeps the new config.
/// - Failed (apply or health check throws, or the check reports a problem):
///   the component is given the running version again (`apply` with the
///   current snapshot, as the seed's `set_current_config(old_config)`) and
///   the write is refused with `errc::validation_failed` and one error with
///   rule `contract:<name>` at the contract's prefix: "pre-commit check
///   failed: <why>". No version, no journal row, no change to any
///   subscriber or replica.
/// - No answer within `timeout`: refused the same way ("... did not answer
///   within N ms"); the component is given the running version again as
///   soon as its check returns (it runs on its own thread; the validator
///   does not wait for it).
/// - Passed, but the commit then failed (the store's disk, etcd): the
///   component is given the running version again.
///
/// Dry runs (`write_request::dry_run`) never run a pre-commit check: a
/// dry run has no side effects, and `apply` is one. A pre-commit check runs
/// only on the node whose validator admits the write (a primary, or each
/// node in etcd mode); replicas' components are guarded after the commit by
/// a contract guard (contract_guard.hpp), which keeps cluster-wide health.
struct pre_commit_options {
  /// The longest a check (apply + health check) may take before the write
  /// is refused.
  caf::timespan timeout = std::chrono::seconds{5};
  /// Runs the checks on a thread of their own (apply and health checks are
  /// the component's code and may block). false runs them on the
  /// scheduler: for code that never blocks, and for deterministic tests.
  bool detached = true;
};

/// The text of a refused pre-commit check, for tests and logs.
inline constexpr const char* pre_commit_failed = "pre-commit check failed: ";

} // namespace cfgactors

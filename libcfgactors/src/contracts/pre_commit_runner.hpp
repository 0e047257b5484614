// Private: the actor that runs one pre-commit check (pre_commit.hpp) for the
// validator, on a thread of its own, so that a component's blocking apply or
// health check bounds only the write it judges, not the validator.
#pragma once

#include <memory>
#include <string>

#include <caf/atom.hpp>
#include <caf/typed_actor.hpp>

#include "cfgactors/contract.hpp"
#include "cfgactors/pre_commit.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgactors::detail {

using pre_commit_atom = caf::atom_constant<caf::atom("precommit")>;
using restore_atom = caf::atom_constant<caf::atom("restore")>;

/// `(pre_commit, candidate, running)`: applies `candidate` and checks health;
/// answers "" when it passed, else why not — after giving the component
/// `running` again. `(restore, running)`: gives the component `running`
/// (after a timeout or a failed commit). Messages are handled in order, so
/// a restore sent while a check still runs takes effect after it.
using pre_commit_runner_actor = caf::typed_actor<
  caf::replies_to<pre_commit_atom, snapshot_ptr, snapshot_ptr>::with<
    std::string>,
  caf::reacts_to<restore_atom, snapshot_ptr>>;

/// The behavior; the validator spawns it linked to itself, detached when
/// `pre_commit_options::detached` says so.
pre_commit_runner_actor::behavior_type
pre_commit_runner(pre_commit_runner_actor::pointer self,
                  std::shared_ptr<contract> c);

} // namespace cfgactors::detail

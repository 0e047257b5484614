// Message tags of the cfgactors protocol (CAF atoms, at most 10 characters).
#pragma once

#include <caf/atom.hpp>

namespace cfgactors {

using write_atom = caf::atom_constant<caf::atom("write")>;
using commit_atom = caf::atom_constant<caf::atom("commit")>;
using get_atom = caf::atom_constant<caf::atom("get")>;
using diff_atom = caf::atom_constant<caf::atom("diff")>;
using history_atom = caf::atom_constant<caf::atom("history")>;
using subscribe_atom = caf::atom_constant<caf::atom("subscribe")>;
using unsubscribe_atom = caf::atom_constant<caf::atom("unsubscr")>;
using publish_atom = caf::atom_constant<caf::atom("publish")>;
using stats_atom = caf::atom_constant<caf::atom("stats")>;
using status_atom = caf::atom_constant<caf::atom("status")>;
using reload_atom = caf::atom_constant<caf::atom("reload")>;
using tick_atom = caf::atom_constant<caf::atom("tick")>;
using replicas_atom = caf::atom_constant<caf::atom("replicas")>;
using join_atom = caf::atom_constant<caf::atom("join")>;
using stale_atom = caf::atom_constant<caf::atom("stale")>;
using forget_atom = caf::atom_constant<caf::atom("forget")>;
using replicate_atom = caf::atom_constant<caf::atom("replicate")>;
/// A cluster peer asks the primary for a handshake challenge.
using auth_atom = caf::atom_constant<caf::atom("auth")>;
/// An operator tells a replica to follow its primary's history whatever it
/// is (another cluster's, or behind the replica's).
using resync_atom = caf::atom_constant<caf::atom("resync")>;
using every_version_atom = caf::atom_constant<caf::atom("everyver")>;

} // namespace cfgactors

// What a subscriber receives: one message per version that touched its prefix
// (or one conflated message standing for several, when it was busy).
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgactors {

struct change {
  std::string prefix;          ///< the subscription's prefix ("" = everything)
  uint64_t version = 0;        ///< the version now in effect
  uint64_t prev_version = 0;   ///< the version this subscriber saw before
  std::string hash;            ///< hash of `version`
  std::vector<std::string> paths; ///< changed leaf paths under the prefix
  uint64_t skipped = 0;        ///< versions folded into this one while busy
  /// The node lost its primary: `after` is the last good snapshot and may be
  /// outdated. A change that only flips this (no paths, and nothing changed
  /// under the prefix since prev_version) is sent when a replica loses its
  /// primary and when it is back in sync.
  bool stale = false;
  /// An every-version subscriber fell more than its `max_pending` behind:
  /// this one step goes from what it last saw to the current version, and
  /// `skipped` versions were not delivered one by one (delivery.hpp).
  bool resync = false;
  /// Holds, under the prefix, what the subscriber saw at prev_version: the
  /// snapshot at prev_version when this change folds versions that came
  /// while it was busy; when it was idle, the version right before this one
  /// (no version in between touched the prefix). An idle subscription so
  /// keeps no snapshot alive: one on a quiet prefix held a whole tree.
  snapshot_ptr before;
  snapshot_ptr after;          ///< the snapshot at version

  /// The subtree at the prefix before and after (null when absent).
  const json& old_value() const;
  const json& new_value() const;

  friend bool operator==(const change& x, const change& y) {
    return x.prefix == y.prefix && x.version == y.version
           && x.prev_version == y.prev_version && x.hash == y.hash
           && x.paths == y.paths && x.skipped == y.skipped
           && x.stale == y.stale && x.resync == y.resync;
  }
};

} // namespace cfgactors

// Local only: a change refers to snapshots by pointer.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::change)

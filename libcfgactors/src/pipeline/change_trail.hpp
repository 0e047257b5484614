// Private: the paths recent versions changed, one after the other, so that a
// tree of an older version is brought up to the current one where they
// changed instead of being copied whole (a replica builds each version in
// the tree of one it let go of).
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgactors::detail {

class change_trail {
public:
  /// Keeps the last `capacity` steps. A pool's trees come from the versions
  /// a history let go of: a trail must reach back at least as far as that
  /// history holds, plus the trees the pool keeps, to spare their copies.
  explicit change_trail(std::size_t capacity = 64) : capacity_(capacity) {
    // nop
  }

  /// Records `next`, the new current version: a step of the trail when its
  /// changes are from the version recorded last, else the trail starts over
  /// at it.
  void push(const snapshot& next);

  /// Makes `tree`, a copy of version `version`'s tree, equal to `current`'s
  /// (the version recorded last): along the paths changed since, when the
  /// trail reaches back to `version`, else by a whole copy reusing its nodes.
  /// Returns whether the paths sufficed. More than `max_paths` paths in
  /// all since `version` count as a broken trail.
  bool bring_up(json& tree, uint64_t version, const snapshot& current) const;

  static constexpr std::size_t max_paths = 4096;

private:
  struct step {
    uint64_t from;
    paths_ptr paths;
  };

  std::size_t capacity_;
  uint64_t head_ = 0; ///< the version recorded last
  std::deque<step> steps_;
};

} // namespace cfgactors::detail

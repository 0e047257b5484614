// Private: the read side of a store, shared by the store and the replica: a
// bounded ring of versions, optionally backed by the journal, answering get,
// diff and history the same way for both. Versions share what their writes
// left alone (persistent trees), so a version held costs what it changed;
// an older one lets go of the JSON readers made of it.
#pragma once

#include <cstddef>
#include <cstdint>
#include <deque>
#include <memory>
#include <vector>

#include <caf/expected.hpp>

#include "cfgactors/diff_result.hpp"
#include "cfgactors/snapshot.hpp"
#include "cfgactors/version_info.hpp"

namespace cfgactors::detail {

class journal;

class version_history {
public:
  /// The newest versions that keep the JSON readers made of them; older
  /// ones keep their persistent tree only.
  static constexpr std::size_t whole_trees = 4;

  /// Holds only the empty version 0 and keeps one snapshot, until assigned.
  version_history();

  /// Starts from `initial` (sorted by version, oldest first; empty means the
  /// empty version 0), keeping its newest `capacity` (at least 1). Versions
  /// that left the ring are read back from `journal` when there is one.
  version_history(std::size_t capacity, std::vector<snapshot_ptr> initial,
                  std::shared_ptr<journal> journal = nullptr);

  /// The newest version; never null.
  const snapshot_ptr& current() const noexcept {
    return ring_.back();
  }

  /// The number of the oldest version still in memory.
  uint64_t oldest_version() const noexcept {
    return ring_.front()->version;
  }

  /// Versions in memory.
  std::size_t size() const noexcept {
    return ring_.size();
  }

  /// Null when the history lives in memory only.
  const std::shared_ptr<journal>& backing_journal() const noexcept {
    return journal_;
  }

  /// Makes `next` current, dropping the oldest snapshot beyond the capacity.
  /// A `next` that does not go forward (a replica's full snapshot from a
  /// primary that lost its history) starts the ring over, so that it stays
  /// sorted; a store's versions always go forward.
  void push(snapshot_ptr next);

  /// The snapshot of `version` if still in memory, else nullptr.
  snapshot_ptr find(uint64_t version) const;

  /// A version from memory or, once it left the ring, from the journal; errc::not_found "version N is not in the
  /// history" otherwise.
  caf::expected<snapshot_ptr> lookup(uint64_t version) const;

  /// The patch and the view from `from` to `to`; the error of the first of
  /// the two that `lookup` cannot find.
  caf::expected<diff_result> diff(uint64_t from, uint64_t to) const;

  /// Up to `limit` versions below `before` (0: from the newest), newest
  /// first, never version 0: from memory, then from the journal.
  caf::expected<std::vector<version_info>> history(uint64_t before,
                                                   uint32_t limit) const;

private:
  void trim();

  /// Lets go of the JSON of the newest version beyond `whole_trees`.
  void compact();

  /// The version in memory, or null when the ring does not hold it.
  caf::expected<snapshot_ptr> in_memory(uint64_t version) const;
  std::size_t capacity_ = 1;
  std::deque<snapshot_ptr> ring_; ///< oldest first, newest last, never empty
  std::shared_ptr<journal> journal_;
};

} // namespace cfgactors::detail

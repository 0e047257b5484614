// The read side shared by the store and the replica: get, diff and history
// over a bounded ring of snapshots and, for a journaled store, its journal.
#include "pipeline/version_history.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "pipeline/journal.hpp"

namespace cfgactors::detail {

namespace {

caf::error not_in_history(uint64_t version) {
  return make_error(errc::not_found, "version " + std::to_string(version)
                                       + " is not in the history");
}

} // namespace

version_history::version_history() : ring_{snapshot::empty()} {
  // nop
}

version_history::version_history(std::size_t capacity,
                                 std::vector<snapshot_ptr> initial,
                                 std::shared_ptr<journal> journal)
  : capacity_(std::max<std::size_t>(capacity, 1)),
    ring_(std::make_move_iterator(initial.begin()),
          std::make_move_iterator(initial.end())),
    journal_(std::move(journal)) {
  if (ring_.empty())
    ring_.push_back(snapshot::empty());
  trim();
}

void version_history::push(snapshot_ptr next) {
  if (ring_.back()->version >= next->version)
    ring_.clear();
  ring_.push_back(std::move(next));
  trim();
}

void version_history::trim() {
  while (ring_.size() > capacity_)
    ring_.pop_front();
}

snapshot_ptr version_history::find(uint64_t version) const {
  if (current()->version == version)
    return current();
  return find_version(ring_, version);
}

caf::expected<snapshot_ptr> version_history::lookup(uint64_t version) const {
  if (auto snap = find(version))
    return snap;
  if (journal_)
    return journal_->read(version);
  return not_in_history(version);
}

caf::expected<diff_result> version_history::diff(uint64_t from,
                                                 uint64_t to) const {
  auto a = lookup(from);
  if (!a)
    return std::move(a.error());
  auto b = lookup(to);
  if (!b)
    return std::move(b.error());
  auto& x = (*a)->effective;
  auto& y = (*b)->effective;
  auto secrets = secret_paths::with((*a)->secrets, (*b)->secrets
                                                    ? (*b)->secrets->patterns()
                                                    : std::vector<std::string>{});
  return diff_result{from, to, json_patch(x, y), diff_view(x, y),
                     secrets ? secrets->patterns()
                             : std::vector<std::string>{}};
}

caf::expected<std::vector<version_info>>
version_history::history(uint64_t before, uint32_t limit) const {
  std::vector<version_info> result;
  for (auto i = ring_.rbegin(); i != ring_.rend() && result.size() < limit;
       ++i) {
    auto& snap = **i;
    if (snap.version == 0 || (before != 0 && snap.version >= before))
      continue;
    result.push_back(version_info{snap.version, snap.hash, snap.timestamp_ms,
                                  snap.origin, snap.author, snap.reason});
  }
  if (!journal_ || result.size() >= limit)
    return result;
  // A journaled ring holds every version from its oldest on; older ones are
  // on disk only.
  auto oldest_kept = oldest()->version;
  auto below = before == 0 ? oldest_kept : std::min(before, oldest_kept);
  if (below <= 1)
    return result;
  auto rows = journal_->history(below,
                                static_cast<uint32_t>(limit - result.size()));
  if (!rows)
    return std::move(rows.error());
  result.insert(result.end(), rows->begin(), rows->end());
  return result;
}

} // namespace cfgactors::detail

// The read side shared by the store and the replica: get, diff and history
// over a bounded ring of versions and, for a journaled store, its journal.
#include "pipeline/version_history.hpp"

#include <algorithm>
#include <string>
#include <utility>

#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "model/config_tree.hpp"
#include "model/hash_tree.hpp"
#include "pipeline/journal.hpp"

namespace cfgactors::detail {

namespace {

caf::error not_in_history(uint64_t version) {
  return make_error(errc::not_found, "version " + std::to_string(version)
                                       + " is not in the history");
}

/// `snap` keeping its tree only: what a version past the newest ones
/// keeps, so that it costs what its write changed (the rest is shared with
/// the versions around it).
snapshot_ptr tree_only(const snapshot& snap) {
  auto result = std::make_shared<snapshot>();
  result->version = snap.version;
  result->hash = snap.hash;
  result->timestamp_ms = snap.timestamp_ms;
  result->origin = snap.origin;
  result->layers = snap.layers;
  result->effective = layer_data{snap.effective.tree()};
  result->secrets = snap.secrets;
  result->author = snap.author;
  result->reason = snap.reason;
  result->changes = snap.changes;
  result->changes_from = snap.changes_from;
  result->hashes = snap.hashes;
  return result;
}

} // namespace

version_history::version_history() : ring_{snapshot::empty()} {
  // nop
}

version_history::version_history(std::size_t capacity,
                                 std::vector<snapshot_ptr> initial,
                                 std::shared_ptr<journal> journal)
  : capacity_(std::max<std::size_t>(capacity, 1)),
    journal_(std::move(journal)) {
  if (initial.empty())
    initial.push_back(snapshot::empty());
  for (auto& snap : initial)
    push(std::move(snap));
}

void version_history::push(snapshot_ptr next) {
  if (!ring_.empty() && ring_.back()->version >= next->version)
    ring_.clear();
  ring_.push_back(std::move(next));
  trim();
  compact();
}

void version_history::trim() {
  while (ring_.size() > capacity_)
    ring_.pop_front();
}

void version_history::compact() {
  if (ring_.size() <= whole_trees)
    return;
  // A version that readers made JSON (a GET, a subscriber's whole value)
  // lets it go once it is no longer among the newest; its tree stays. A
  // version held as JSON only (restored, installed whole) keeps it: made a
  // tree, it would share nothing with the versions around it.
  auto& old = ring_[ring_.size() - whole_trees - 1];
  if (old->effective.has_tree() && old->effective.has_json())
    old = tree_only(*old);
}

caf::expected<snapshot_ptr> version_history::in_memory(uint64_t version) const {
  if (current()->version == version)
    return current();
  auto i = std::lower_bound(ring_.begin(), ring_.end(), version,
                            [](const snapshot_ptr& x, uint64_t v) {
                              return x->version < v;
                            });
  if (i == ring_.end() || (*i)->version != version)
    return snapshot_ptr{};
  return *i;
}

snapshot_ptr version_history::find(uint64_t version) const {
  auto snap = in_memory(version);
  return snap ? *snap : nullptr;
}

caf::expected<snapshot_ptr> version_history::lookup(uint64_t version) const {
  auto snap = in_memory(version);
  if (snap && *snap)
    return snap;
  if (journal_)
    return journal_->read(version);
  if (!snap)
    return std::move(snap.error());
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
  // Copies: a diff of old versions leaves no JSON behind in them.
  auto x = (*a)->effective.to_json();
  auto y = (*b)->effective.to_json();
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
  auto oldest_kept = oldest_version();
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

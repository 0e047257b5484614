// The store: numbers each admitted candidate as the next version, makes it
// durable (with a journal), and hands it to the tap, the writer and the router.
#include "pipeline/store_state.hpp"

#include <algorithm>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/errc.hpp"
#include "core/log.hpp"
#include "cfgactors/diff.hpp"
#include "pipeline/journal.hpp"
#include "model/hash_tree.hpp"
#include "model/make_snapshot.hpp"
#include "model/tree_diff.hpp"

namespace cfgactors {

namespace {

/// The snapshot of a commit. The candidate was built on the newest version
/// this store took (`base`: the last of the batch, or the current one), so
/// the paths where they differ are found where their trees do not share
/// (below the validator's roots for a candidate given as JSON), and the
/// hash is computed along them.
snapshot_ptr make_snapshot(store_state& st, uint64_t version,
                           commit_request& req) {
  auto at = req.timestamp_ms != 0 ? req.timestamp_ms : now_ms();
  const auto& base = st.batch.empty() ? st.versions.current()
                                      : st.batch.back().snap;
  paths_ptr changes;
  const snapshot* from = nullptr;
  if (req.roots && base) {
    changes = std::make_shared<const std::vector<std::string>>(
      req.effective.has_tree() && base->effective.has_tree()
        ? detail::changed_paths(*base->effective.tree(),
                                *req.effective.tree())
        : changed_paths(*base->effective, *req.effective, *req.roots));
    from = base.get();
  }
  return detail::make_snapshot(version, std::move(req.origin),
                               std::move(req.layers), std::move(req.effective),
                               at, std::move(req.secrets), std::move(req.hash),
                               std::move(req.author), std::move(req.reason),
                               from, std::move(changes));
}

using store_ptr = store_backend_actor::stateful_pointer<store_state>;

/// Hands durable versions (ascending) to the tap, their writers and the
/// router, in that order, one version after the other.
void publish(store_ptr self, std::vector<store_state::pending_commit>& done) {
  auto& st = self->state;
  for (auto& x : done) {
    auto before = st.versions.current();
    // Replicas first: their path is the longest (network, another process);
    // the tap only enqueues here, the patch is computed on its own actor.
    if (st.tap)
      self->send(st.tap, publish_atom::value, before, x.snap);
    // Into the history before the answer: a read after the answer finds it.
    st.versions.push(x.snap);
    x.promise.deliver(x.snap);
    if (st.router)
      self->send(st.router, publish_atom::value, std::move(before),
                 std::move(x.snap));
  }
}

/// Writes the collected commits in one transaction; then publishes them,
/// or refuses every one of them.
void flush(store_ptr self) {
  auto& st = self->state;
  auto done = std::move(st.batch);
  st.batch.clear();
  if (done.empty())
    return;
  std::vector<snapshot_ptr> rows;
  rows.reserve(done.size());
  for (auto& x : done)
    rows.push_back(x.snap);
  // Durable before acknowledged: a batch the journal refused was never seen
  // by anyone. Its numbers stay free, and so does every version built on
  // it: the validator sends those with the old epoch, refused on arrival.
  if (auto err = st.versions.backing_journal()->append(rows)) {
    ++st.epoch;
    detail::log().error("event=journal_write_failed version={} count={} "
                        "error=\"{}\"",
                        rows.front()->version, rows.size(),
                        self->system().render(err));
    for (auto& x : done)
      x.promise.deliver(err);
    return;
  }
  publish(self, done);
}

/// Makes an admitted candidate the next version: durable first (with a
/// journal), then handed to the tap, answered, and published. With a
/// journal and group commit, the commit waits for the flush message sent
/// after the first of a batch: every commit queued before it shares its
/// transaction.
caf::result<snapshot_ptr> on_commit(store_ptr self, commit_request& req) {
  auto& st = self->state;
  auto& journal = st.versions.backing_journal();
  if (req.epoch != st.epoch)
    return make_error(errc::store_failed,
                      "not committed: a version it was built on could not "
                      "be written");
  auto version = (st.batch.empty() ? st.versions.current()->version
                                   : st.batch.back().snap->version)
                 + 1;
  if (journal)
    version = std::max(version, journal->last_version() + 1);
  // A number given by the authority (etcd) may skip numbers this node never
  // saw, never go back: a version is never reused.
  if (req.version != 0) {
    if (req.version < version) {
      // Counted like a failed batch: the validator counts every refusal of
      // a commit built in the current epoch.
      ++st.epoch;
      return make_error(errc::version_conflict,
                        "version " + std::to_string(req.version)
                          + " is not after " + std::to_string(version - 1));
    }
    version = req.version;
  }
  auto rp = self->make_response_promise<snapshot_ptr>();
  st.batch.push_back({make_snapshot(st, version, req), rp});
  if (!journal) {
    publish(self, st.batch);
    st.batch.clear();
  } else if (!st.group_commit) {
    flush(self);
  } else if (st.batch.size() == 1) {
    self->send(self, detail::group_flush_atom::value);
  }
  return rp;
}

/// Installs the one replication tap (replacing any earlier) and answers the
/// current version: the tap gets every version after it.
snapshot_ptr on_replicate(store_ptr self, replication_tap_actor& tap) {
  self->state.tap = std::move(tap);
  return self->state.versions.current();
}

store_backend_actor::behavior_type
make_store(store_ptr self, store_options options, topic_router_actor router,
           detail::journal_ptr db, std::vector<snapshot_ptr> restored) {
  auto& st = self->state;
  st.group_commit = options.group_commit;
  st.router = std::move(router);
  st.versions = detail::version_history{options.history_size,
                                        std::move(restored), std::move(db)};
  return {
    [self](commit_atom, commit_request& req) { return on_commit(self, req); },
    [self](detail::group_flush_atom) { flush(self); },
    [self](replicate_atom, replication_tap_actor& tap) {
      return on_replicate(self, tap);
    },
    [self](subscribe_atom, std::string& prefix,
           subscriber_actor& sub) -> caf::delegated<uint64_t> {
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub));
    },
    [self](subscribe_atom, std::string& prefix, subscriber_actor& sub,
           every_version_atom) -> caf::delegated<uint64_t> {
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub),
                            every_version_atom::value);
    },
    [self](subscribe_atom, std::string& prefix, subscriber_actor& sub,
           delivery how) -> caf::delegated<uint64_t> {
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub), how);
    },
    // The read side: get, diff and history (see version_history.hpp).
    [self](get_atom) { return self->state.versions.current(); },
    [self](get_atom, uint64_t version) -> caf::result<snapshot_ptr> {
      return self->state.versions.lookup(version);
    },
    [self](diff_atom, uint64_t from, uint64_t to) -> caf::result<diff_result> {
      return self->state.versions.diff(from, to);
    },
    [self](history_atom, uint64_t before,
           uint32_t limit) -> caf::result<std::vector<version_info>> {
      // Newest first; `before` = 0 means "from the newest".
      return self->state.versions.history(before, limit);
    },
  };
}

} // namespace

store_backend_actor::behavior_type store(store_ptr self, store_options options,
                                         topic_router_actor router) {
  return make_store(self, std::move(options), std::move(router), nullptr, {});
}

namespace detail {

store_backend_actor::behavior_type
journaled_store(store_ptr self, store_options options,
                topic_router_actor router, journal_ptr db,
                std::vector<snapshot_ptr> restored) {
  return make_store(self, std::move(options), std::move(router),
                    std::move(db), std::move(restored));
}

} // namespace detail

} // namespace cfgactors

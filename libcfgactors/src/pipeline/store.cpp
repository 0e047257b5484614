// The store: numbers each admitted candidate as the next version, makes it
// durable (with a journal), and hands it to the tap, the writer and the router.
#include "pipeline/store_state.hpp"

#include <algorithm>
#include <string>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/errc.hpp"
#include "core/log.hpp"
#include "pipeline/journal.hpp"
#include "pipeline/tree_pool.hpp"

namespace cfgactors {

namespace {

/// The snapshot of a commit; its tree goes back to the pool for the
/// validator to build later candidates in.
snapshot_ptr make_snapshot(store_state& st, uint64_t version,
                           commit_request& req) {
  auto at = req.timestamp_ms != 0 ? req.timestamp_ms : now_ms();
  // The validator's paths hold against the version it built on: when that
  // is the current one, the hash is computed along them.
  auto& current = st.versions.current();
  const snapshot* base = req.changes && current
                             && current->version == req.changes_from
                           ? current.get()
                           : nullptr;
  return detail::make_recycled(st.trees, version, std::move(req.origin),
                               std::move(req.layers), std::move(req.effective),
                               at, std::move(req.secrets),
                               std::move(req.hash), std::move(req.author),
                               std::move(req.reason), base,
                               std::move(req.changes));
}

using store_ptr = store_backend_actor::stateful_pointer<store_state>;

/// Makes an admitted candidate the next version: durable first (with a
/// journal), then handed to the tap, answered, and published.
caf::result<snapshot_ptr> on_commit(store_ptr self, commit_request& req) {
  auto& st = self->state;
  auto& journal = st.versions.backing_journal();
  auto version = st.versions.current()->version + 1;
  if (journal)
    version = std::max(version, journal->last_version() + 1);
  // A number given by the authority (etcd) may skip numbers this node never
  // saw, never go back: a version is never reused.
  if (req.version != 0) {
    if (req.version < version)
      return make_error(errc::version_conflict,
                        "version " + std::to_string(req.version)
                          + " is not after " + std::to_string(version - 1));
    version = req.version;
  }
  auto next = make_snapshot(st, version, req);
  // Durable before acknowledged: a version the journal refused was never
  // seen by anyone, and its number stays free.
  if (journal) {
    if (auto err = journal->append(*next)) {
      detail::log().error("event=journal_write_failed version={} "
                          "error=\"{}\"",
                          version, self->system().render(err));
      return err;
    }
  }
  auto before = st.versions.current();
  // Replicas first: their path is the longest (network, another process);
  // the tap only enqueues here, the patch is computed on its own actor.
  if (st.tap)
    self->send(st.tap, publish_atom::value, before, next);
  // Then the answer: the validator waits for it, while publishing and
  // evicting the oldest snapshot can happen after.
  auto rp = self->make_response_promise<snapshot_ptr>();
  rp.deliver(next);
  if (st.router)
    self->send(st.router, publish_atom::value, std::move(before), next);
  st.versions.push(std::move(next));
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
  st.router = std::move(router);
  st.trees = std::make_shared<detail::tree_pool>();
  st.versions = detail::version_history{options.history_size,
                                        std::move(restored), std::move(db)};
  return {
    [self](commit_atom, commit_request& req) { return on_commit(self, req); },
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

#include "pipeline/store_state.hpp"

#include <algorithm>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "pipeline/journal.hpp"
#include "core/log.hpp"
#include "pipeline/tree_pool.hpp"

namespace cfgactors {

namespace {

/// The snapshot of a commit; its tree goes back to the pool for the
/// validator to build later candidates in.
snapshot_ptr make_snapshot(store_state& st, uint64_t version,
                           commit_request& req) {
  return detail::make_recycled(st.trees, version, std::move(req.origin),
                               std::move(req.layers), std::move(req.effective),
                               now_ms());
}

} // namespace

snapshot_ptr store_state::find(uint64_t version) const {
  if (current && current->version == version)
    return current;
  return find_version(history, version);
}

namespace {

using store_ptr = store_backend_actor::stateful_pointer<store_state>;

caf::error not_in_history(uint64_t version) {
  return make_error(errc::not_found, "version " + std::to_string(version)
                                       + " is not in the history");
}

/// A version from the ring or, once it left the ring, from the journal.
caf::expected<snapshot_ptr> lookup(store_state& st, uint64_t version) {
  if (auto snap = st.find(version))
    return snap;
  if (st.journal)
    return st.journal->read(version);
  return not_in_history(version);
}

store_backend_actor::behavior_type make_store(store_ptr self, store_options options,
                                      topic_router_actor router,
                                      detail::journal_ptr db,
                                      std::vector<snapshot_ptr> restored) {
  auto& st = self->state;
  st.options = options;
  st.options.history_size = std::max<std::size_t>(options.history_size, 1);
  st.router = std::move(router);
  st.journal = std::move(db);
  st.trees = std::make_shared<detail::tree_pool>();
  if (restored.empty())
    restored.push_back(snapshot::empty());
  st.current = restored.back();
  st.history.assign(restored.begin(), restored.end());
  while (st.history.size() > st.options.history_size)
    st.history.pop_front();
  return {
    [self](commit_atom, commit_request& req) -> caf::result<snapshot_ptr> {
      auto& st = self->state;
      auto version = st.current->version + 1;
      if (st.journal)
        version = std::max(version, st.journal->last_version() + 1);
      auto next = make_snapshot(st, version, req);
      // Durable before acknowledged: a version the journal refused was never
      // seen by anyone, and its number stays free.
      if (st.journal) {
        if (auto err = st.journal->append(*next)) {
          detail::log().error("event=journal_write_failed version={} "
                              "error=\"{}\"",
                              version, self->system().render(err));
          return err;
        }
      }
      auto before = std::move(st.current);
      st.current = next;
      st.history.push_back(next);
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
      while (st.history.size() > st.options.history_size)
        st.history.pop_front();
      return rp;
    },
    [self](subscribe_atom, std::string& prefix,
           subscriber_actor& sub) -> caf::delegated<uint64_t> {
      return self->delegate(self->state.router, subscribe_atom::value,
                            std::move(prefix), std::move(sub));
    },
    [self](replicate_atom, replication_tap_actor& tap) {
      self->state.tap = std::move(tap);
      return self->state.current;
    },
    [self](get_atom) { return self->state.current; },
    [self](get_atom, uint64_t version) -> caf::result<snapshot_ptr> {
      auto snap = lookup(self->state, version);
      if (!snap)
        return std::move(snap.error());
      return std::move(*snap);
    },
    [self](diff_atom, uint64_t from,
           uint64_t to) -> caf::result<diff_result> {
      auto& st = self->state;
      auto a = lookup(st, from);
      if (!a)
        return std::move(a.error());
      auto b = lookup(st, to);
      if (!b)
        return std::move(b.error());
      auto& x = (*a)->effective;
      auto& y = (*b)->effective;
      return diff_result{from, to, json_patch(x, y), diff_view(x, y)};
    },
    [self](history_atom, uint64_t before,
           uint32_t limit) -> caf::result<std::vector<version_info>> {
      // Newest first; `before` = 0 means "from the newest".
      auto& st = self->state;
      std::vector<version_info> result;
      auto& hist = st.history;
      for (auto i = hist.rbegin(); i != hist.rend() && result.size() < limit;
           ++i) {
        auto& snap = **i;
        if (snap.version == 0 || (before != 0 && snap.version >= before))
          continue;
        result.push_back(version_info{snap.version, snap.hash,
                                      snap.timestamp_ms, snap.origin});
      }
      if (!st.journal || result.size() >= limit)
        return result;
      // The ring holds every version from its oldest on; older ones are on
      // disk only.
      auto oldest = hist.front()->version;
      auto below = before == 0 ? oldest : std::min(before, oldest);
      if (below <= 1)
        return result;
      auto rows = st.journal->history(below, static_cast<uint32_t>(
                                               limit - result.size()));
      if (!rows)
        return std::move(rows.error());
      result.insert(result.end(), rows->begin(), rows->end());
      return result;
    },
  };
}

} // namespace

store_backend_actor::behavior_type store(store_ptr self, store_options options,
                                 topic_router_actor router) {
  return make_store(self, std::move(options), std::move(router), nullptr, {});
}

namespace detail {

store_backend_actor::behavior_type journaled_store(store_ptr self,
                                           store_options options,
                                           topic_router_actor router,
                                           journal_ptr db,
                                           std::vector<snapshot_ptr> restored) {
  return make_store(self, std::move(options), std::move(router),
                    std::move(db), std::move(restored));
}

} // namespace detail

} // namespace cfgactors

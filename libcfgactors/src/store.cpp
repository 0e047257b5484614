#include "cfgactors/store.hpp"

#include <algorithm>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/diff.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/hash.hpp"
#include "tree_pool.hpp"

namespace cfgactors {

namespace {

/// snapshot::make, with a deleter that hands the effective tree back for the
/// validator to build later candidates in.
snapshot_ptr make_snapshot(store_state& st, uint64_t version,
                           commit_request& req) {
  std::shared_ptr<snapshot> result{new snapshot,
                                   detail::snapshot_recycler{st.trees}};
  result->version = version;
  result->hash = canonical_hash(req.effective);
  result->timestamp_ms = now_ms();
  result->origin = std::move(req.origin);
  result->layers = std::move(req.layers);
  result->effective = std::move(req.effective);
  return result;
}

} // namespace

snapshot_ptr store_state::find(uint64_t version) const {
  if (current && current->version == version)
    return current;
  // History is sorted by version: binary search.
  auto i = std::lower_bound(history.begin(), history.end(), version,
                            [](const snapshot_ptr& x, uint64_t v) {
                              return x->version < v;
                            });
  if (i != history.end() && (*i)->version == version)
    return *i;
  return nullptr;
}

store_actor::behavior_type store(store_actor::stateful_pointer<store_state> self,
                                 store_options options,
                                 topic_router_actor router) {
  auto& st = self->state;
  st.options = options;
  st.options.history_size = std::max<std::size_t>(options.history_size, 1);
  st.router = std::move(router);
  st.trees = std::make_shared<detail::tree_pool>();
  st.current = snapshot::empty();
  st.history.push_back(st.current);
  return {
    [self](commit_atom, commit_request& req) -> caf::result<snapshot_ptr> {
      auto& st = self->state;
      auto next = make_snapshot(st, st.current->version + 1, req);
      auto before = std::move(st.current);
      st.current = next;
      st.history.push_back(next);
      // Answer first: the validator waits for this, while publishing and
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
    [self](get_atom) { return self->state.current; },
    [self](get_atom, uint64_t version) -> caf::result<snapshot_ptr> {
      if (auto snap = self->state.find(version))
        return snap;
      return make_error(errc::not_found,
                        "version " + std::to_string(version)
                          + " is not in the history");
    },
    [self](diff_atom, uint64_t from,
           uint64_t to) -> caf::result<diff_result> {
      auto& st = self->state;
      auto a = st.find(from);
      auto b = st.find(to);
      if (!a || !b)
        return make_error(errc::not_found,
                          "version " + std::to_string(!a ? from : to)
                            + " is not in the history");
      return diff_result{from, to, json_patch(a->effective, b->effective),
                         diff_view(a->effective, b->effective)};
    },
    [self](history_atom, uint64_t before,
           uint32_t limit) -> std::vector<version_info> {
      // Newest first; `before` = 0 means "from the newest".
      std::vector<version_info> result;
      auto& hist = self->state.history;
      for (auto i = hist.rbegin(); i != hist.rend() && result.size() < limit;
           ++i) {
        auto& snap = **i;
        if (snap.version == 0 || (before != 0 && snap.version >= before))
          continue;
        result.push_back(version_info{snap.version, snap.hash,
                                      snap.timestamp_ms, snap.origin});
      }
      return result;
    },
  };
}

} // namespace cfgactors

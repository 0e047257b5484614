#include "pipeline/courier.hpp"

#include <utility>

#include <caf/event_based_actor.hpp>

namespace cfgactors {

namespace {

using courier_ptr = caf::stateful_actor<courier_state>*;

/// Notes an answer; the first since the last report schedules the next one
/// behind the messages already waiting, so a burst of answers makes one
/// report.
void settle(courier_ptr self, uint64_t id, bool answered) {
  auto& st = self->state;
  if (st.answered.empty() && st.failed.empty())
    self->send(self, detail::courier_flush_atom::value);
  (answered ? st.answered : st.failed).push_back(id);
}

} // namespace

caf::behavior courier(courier_ptr self, caf::actor_addr router,
                      uint32_t index) {
  self->state.router = std::move(router);
  self->state.index = index;
  return {
    [self](std::vector<parcel>& parcels) {
      for (auto& p : parcels) {
        auto id = p.id;
        self->request(p.to, caf::infinite, std::move(p.what))
          .then([self, id] { settle(self, id, true); },
                [self, id](caf::error&) { settle(self, id, false); });
      }
    },
    [self](detail::courier_flush_atom) {
      auto& st = self->state;
      auto answered = std::move(st.answered);
      auto failed = std::move(st.failed);
      st.answered.clear();
      st.failed.clear();
      if (auto router = caf::actor_cast<caf::actor>(st.router))
        self->send(router, detail::delivered_atom::value, st.index,
                   std::move(answered), std::move(failed));
    },
  };
}

} // namespace cfgactors

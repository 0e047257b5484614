#include "node/node_actors.hpp"

#include <exception>
#include <string>
#include <utility>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "core/log.hpp"

namespace cfgactors::detail {

namespace {

struct updater_state {
  static inline const char* name = "cfgactors.cell_updater";

  std::shared_ptr<snapshot_cell> cell;
  snapshot_ptr current; ///< the last snapshot published into `cell`
};

using updater_ptr = subscriber_actor::stateful_pointer<updater_state>;

subscriber_actor::behavior_type
cell_updater(updater_ptr self, std::shared_ptr<snapshot_cell> cell,
             store_actor store) {
  self->state.cell = std::move(cell);
  // Subscribe first, then read the current version; `await` holds the
  // change stream back until it is known. Every version: one that changes
  // no value still moves the version (and read-your-writes waits for it).
  self->request(store, caf::infinite, subscribe_atom::value, std::string{},
                caf::actor_cast<subscriber_actor>(self),
                every_version_atom::value)
    .then([](uint64_t) {},
          [self](caf::error& err) {
            log().error("event=cell_updater_subscribe_failed error=\"{}\"",
                        self->system().render(err));
            self->quit(err);
          });
  self->request(store, caf::infinite, get_atom::value)
    .await(
      [self](snapshot_ptr& snap) {
        self->state.current = snap;
        self->state.cell->publish(std::move(snap));
      },
      [self](caf::error& err) { self->quit(err); });
  return {
    [self](const change& c) {
      auto& st = self->state;
      // A change up to the version read from the store is old news. One
      // that starts from what we hold is news even when its version is
      // lower: a replica following a primary that restarted empty.
      if (c.after->version > st.current->version || c.before == st.current) {
        st.current = c.after;
        st.cell->publish(c.after);
      }
    },
  };
}

subscriber_actor::behavior_type
callback_subscriber(subscriber_actor::pointer self,
                    std::function<void(const change&)> fn) {
  return {
    [self, fn](const change& c) {
      // A throwing callback must not end the subscription.
      try {
        fn(c);
      } catch (const std::exception& e) {
        log().error("event=subscriber_callback_failed prefix=\"{}\" "
                    "version={} error=\"{}\" actor={}",
                    c.prefix, c.version, e.what(), self->id());
      }
    },
  };
}

subscriber_actor::behavior_type forwarder(subscriber_actor::pointer self,
                                          subscriber_actor who) {
  self->monitor(who);
  self->set_down_handler([self](const caf::down_msg&) { self->quit(); });
  return {
    [self, who](change& c) -> caf::delegated<void> {
      // `who` answers the router: its pace sets the conflation.
      return self->delegate(who, std::move(c));
    },
  };
}

} // namespace

caf::actor spawn_cell_updater(caf::actor_system& sys,
                              std::shared_ptr<snapshot_cell> cell,
                              store_actor store) {
  return caf::actor_cast<caf::actor>(
    sys.spawn(cell_updater, std::move(cell), std::move(store)));
}

caf::actor spawn_callback_subscriber(caf::actor_system& sys,
                                     std::function<void(const change&)> fn) {
  return caf::actor_cast<caf::actor>(
    sys.spawn(callback_subscriber, std::move(fn)));
}

caf::actor spawn_forwarder(caf::actor_system& sys, subscriber_actor who) {
  return caf::actor_cast<caf::actor>(sys.spawn(forwarder, std::move(who)));
}

} // namespace cfgactors::detail

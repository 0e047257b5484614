// Private: a courier carries the topic router's changes to a share of its
// subscribers and brings their answers back in batches. The router keeps
// every subscription's state; a courier only holds the requests in flight.
// CAF 0.17 keeps an actor's outstanding requests in a flat map searched
// linearly on every answer, so one actor with n requests out pays O(n) per
// answer: spread over couriers of a bounded share each, an answer costs
// O(share) and a change to n subscribers O(n).
#pragma once

#include <cstdint>
#include <vector>

#include <caf/actor.hpp>
#include <caf/actor_addr.hpp>
#include <caf/atom.hpp>
#include <caf/meta/type_name.hpp>
#include <caf/stateful_actor.hpp>

#include "cfgactors/actor_types.hpp"

namespace cfgactors {

namespace detail {

/// A courier to the router: these subscriptions answered, these failed.
using delivered_atom = caf::atom_constant<caf::atom("delivered")>;

/// A courier to itself: report the answers collected so far.
using courier_flush_atom = caf::atom_constant<caf::atom("cflush")>;

} // namespace detail

/// One change for one subscription.
struct parcel {
  uint64_t id = 0; ///< the subscription
  subscriber_actor to;
  change what;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, parcel& x) {
  return f(caf::meta::type_name("parcel"), x.id, x.to, x.what);
}

struct courier_state {
  static inline const char* name = "cfgactors.courier";

  /// Weak: the router holds its couriers, not the other way round.
  caf::actor_addr router;
  uint32_t index = 0; ///< the router's name for this courier
  std::vector<uint64_t> answered;
  std::vector<uint64_t> failed;
};

/// Sends each parcel of a `std::vector<parcel>` as a request and reports
/// the answers to `router` as (delivered, index, answered ids, failed ids),
/// every answer that arrived before one report in that report.
caf::behavior courier(caf::stateful_actor<courier_state>* self,
                      caf::actor_addr router, uint32_t index);

} // namespace cfgactors

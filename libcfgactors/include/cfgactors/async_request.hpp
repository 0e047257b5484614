// Asking an actor from outside the actor system without blocking: the answer
// arrives in a callback. For threads that must never wait, e.g. a server's
// I/O thread (a caf::scoped_actor's receive would block it).
#pragma once

#include <chrono>
#include <functional>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/error.hpp>
#include <caf/event_based_actor.hpp>
#include <caf/expected.hpp>

namespace cfgactors {

namespace detail {

/// The one-shot actor of `async_request`. It has no behavior of its own: it
/// lives until the answer. (Its state is passed as spawn arguments, not
/// captured: CAF 0.17 binds a reference to a null argument tuple when a
/// function is spawned without arguments, which UBSan reports.)
template <class T, class Handle, class... Ts>
void async_requester(caf::event_based_actor* self, Handle dest,
                     std::chrono::milliseconds timeout,
                     std::function<void(caf::expected<T>)> done, Ts... xs) {
  self->request(dest, timeout, std::move(xs)...)
    .then([done](T& x) { done(std::move(x)); },
          [done](caf::error& err) { done(std::move(err)); });
}

} // namespace detail

/// Sends `xs...` to `dest` from a one-shot actor and calls `done` with the
/// answer, or with the error (`caf::sec::request_timeout` after `timeout`,
/// `request_receiver_down`, the receiver's own error). `done` runs once, on
/// a thread of the actor system: it must not block either.
template <class T, class Handle, class... Ts>
void async_request(caf::actor_system& sys, const Handle& dest,
                   std::chrono::milliseconds timeout,
                   std::function<void(caf::expected<T>)> done, Ts... xs) {
  sys.spawn(detail::async_requester<T, Handle, Ts...>, dest, timeout,
            std::move(done), std::move(xs)...);
}

} // namespace cfgactors

// What every route of cfgd's API works with: the node it serves, and how to
// ask the node's actors from the io thread and turn their errors and numbers
// into HTTP answers.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string_view>
#include <utility>

#include <caf/actor_system.hpp>
#include <caf/expected.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/sec.hpp>

#include "cfgactors/node.hpp"
#include "cfgactors/snapshot.hpp"

#include "http/message.hpp"

namespace cfgd {

/// The node cfgd runs (a primary, or a replica with --join) and how long a
/// route waits for one of its actors before answering 503.
struct api_context {
  cfgactors::node& node;
  std::chrono::milliseconds timeout{5000}; ///< per actor request; then 503
  uint32_t max_history = 100;              ///< default and cap of ?limit=

  caf::actor_system& sys() const noexcept {
    return node.system();
  }
};

/// Asks `dest` and waits up to the context's timeout. A scoped_actor per
/// request, so a late answer to a request that timed out can never be
/// mistaken for the next one.
template <class T, class Handle, class... Ts>
caf::expected<T> ask(const api_context& ctx, const Handle& dest,
                     const Ts&... xs) {
  caf::scoped_actor self{ctx.sys()};
  caf::expected<T> result{caf::make_error(caf::sec::request_timeout)};
  self->request(dest, ctx.timeout, xs...)
    .receive([&](T& x) { result = std::move(x); },
             [&](caf::error& err) { result = std::move(err); });
  return result;
}

/// The store's current snapshot.
caf::expected<cfgactors::snapshot_ptr> current_snapshot(const api_context& ctx);

/// An actor's error as an HTTP error: unknown versions are 404, an actor
/// that is gone or too slow is 503.
http::response actor_error(const api_context& ctx, const http::request& req,
                           const caf::error& err);

/// A whole decimal number, nothing else.
std::optional<uint64_t> to_u64(std::string_view text);

} // namespace cfgd

#include "cfgactors/sources.hpp"

#include <algorithm>
#include <optional>
#include <string>
#include <utility>

#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "cfgactors/errc.hpp"

namespace cfgactors {

namespace {

/// Waits until `src` has read once and its proposal was answered; an error
/// naming `what` when it did not read cleanly.
caf::error first_read(caf::actor_system& sys, const source_actor& src,
                      const std::string& what,
                      std::chrono::milliseconds timeout) {
  caf::scoped_actor self{sys};
  std::optional<source_status> st;
  std::string failure = "no answer";
  self->request(src, timeout, reload_atom::value)
    .receive([&](source_status& x) { st = std::move(x); },
             [&](caf::error& err) { failure = sys.render(err); });
  if (st && st->state == source_state::ok)
    return caf::none;
  auto code = st && st->rejected > 0 ? errc::validation_failed
                                     : errc::invalid_argument;
  return make_error(code, "initial configuration from " + what + ": "
                            + (st ? st->last_error : failure));
}

} // namespace

caf::expected<std::vector<source_actor>>
spawn_sources(caf::actor_system& sys, const validator_actor& validator,
              const store_actor& store, sources_options options) {
  std::vector<source_actor> sources;
  auto give_up = [&](caf::error err) -> caf::expected<std::vector<source_actor>> {
    stop_sources(sources);
    return err;
  };
  if (!options.files.files.empty()) {
    auto src = spawn_file_source(sys, validator, std::move(options.files));
    if (!src)
      return give_up(std::move(src.error()));
    sources.push_back(*src);
    if (auto err = first_read(sys, *src, "files",
                              options.first_read_timeout))
      return give_up(std::move(err));
  }
  if (options.env) {
    auto what = "the environment (" + options.env->prefix + "*)";
    sources.push_back(spawn_env_source(sys, validator,
                                       std::move(*options.env)));
    if (auto err = first_read(sys, sources.back(), what,
                              options.first_read_timeout))
      return give_up(std::move(err));
  }
  // Both remote sources start before either is waited for: the deadline
  // covers them together.
  std::vector<std::pair<source_actor, std::string>> required;
  if (options.remote) {
    auto what = options.remote->endpoint;
    sources.push_back(spawn_http_source(sys, validator,
                                        std::move(*options.remote)));
    required.emplace_back(sources.back(), std::move(what));
  }
  if (options.ws) {
    auto what = options.ws->endpoint;
    options.ws->store = store;
    options.ws->reload = sources; // every source started before it
    sources.push_back(spawn_ws_source(sys, validator, std::move(*options.ws)));
    required.emplace_back(sources.back(), std::move(what));
  }
  if (options.remote_required) {
    auto deadline = std::chrono::steady_clock::now() + *options.remote_required;
    auto first = true;
    for (auto& [src, what] : required) {
      // The first wait gets the whole timeout (its message names it).
      auto left = first ? *options.remote_required
                        : std::chrono::duration_cast<std::chrono::milliseconds>(
                          deadline - std::chrono::steady_clock::now());
      first = false;
      auto err = await_first_poll(sys, src,
                                  std::max(left, std::chrono::milliseconds{1}));
      if (!err)
        continue;
      auto ours = err.category() == errc_category
                  && err.context().match_elements<std::string>();
      return give_up(make_error(
        ours ? static_cast<errc>(err.code()) : errc::unavailable,
        "initial configuration from " + what + " (required): "
          + (ours ? err.context().get_as<std::string>(0) : sys.render(err))));
    }
  }
  return sources;
}

void stop_sources(const std::vector<source_actor>& sources) {
  for (auto& src : sources)
    caf::anon_send_exit(src, caf::exit_reason::user_shutdown);
}

} // namespace cfgactors

// Three CAF pipe ("planets") in one process, each an actor system with its
// own test coordinator and test multiplexer (caf/test/io_dsl.hpp), knowing
// cfgactors' message types: every message between planets goes through BASP
// serialization, and the interleaving is the test's choice.
#pragma once

#include <algorithm>
#include <array>
#include <string>
#include <utility>

#include "cfgactors_test.hpp"

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <caf/io/network/operation.hpp>
#include <caf/test/io_dsl.hpp>

#include "cfgactors/system_config.hpp"

namespace cfgactors::test {

/// cfgactors' types plus the middleman; test_coordinator_fixture switches
/// the scheduler and the network backend to their test versions.
struct planet_config : system_config {
  planet_config() {
    load<caf::io::middleman>();
  }
};

using planet = test_node_fixture<test_coordinator_fixture<planet_config>>;

/// One simulated TCP connection: the server's and the client's end.
struct wire {
  planet* server = nullptr;
  caf::io::connection_handle server_end;
  planet* client = nullptr;
  caf::io::connection_handle client_end;
};

struct io_fixture : test_network_fixture_base<planet> {
  planet earth;
  planet mars;
  planet jupiter;

  io_fixture()
    : test_network_fixture_base<planet>({&earth, &mars, &jupiter}),
      earth([this] { run(); }),
      mars([this] { run(); }),
      jupiter([this] { run(); }) {
    run();
  }

  /// Delivers every message and every byte on every planet until all are
  /// idle. Fires no timer: timers fire only when a test says so, so a
  /// replica retrying its connection cannot keep this loop busy forever.
  void run() {
    std::array<planet*, 3> all{{&earth, &mars, &jupiter}};
    auto step = [](planet* p) {
      return p->sched.try_run_once() || p->mpx.try_exec_runnable()
             || p->mpx.read_data() || p->mpx.try_accept_connection();
    };
    while (std::any_of(all.begin(), all.end(), step))
      ; // repeat
  }

  /// Runs `p` alone: its actors and its side of the network. What it sends
  /// to other planets waits in their input buffers.
  void run_alone(planet& p) {
    while (p.sched.try_run_once() || p.mpx.try_exec_runnable()
           || p.mpx.read_data())
      ; // repeat
  }

  /// Fires every timer pending on `p` (at once, whatever its deadline), then
  /// runs everything.
  size_t fire_timers(planet& p) {
    auto n = p.sched.trigger_timeouts();
    run();
    return n;
  }

  /// Lets `client` connect to `host:port` once; `server` must listen there
  /// (or publish there next) through `acceptor`.
  wire prepare(planet& server, planet& client, std::string host,
               uint16_t port, caf::io::accept_handle acceptor) {
    auto [server_end, client_end] =
      prepare_connection(server, client, std::move(host), port, acceptor);
    return wire{&server, server_end, &client, client_end};
  }

  /// Breaks `w` as a failing socket does: each end's BASP broker learns that
  /// its connection closed, drops the route and kills the proxies of the
  /// peer's actors, so whoever monitors them gets a down message.
  void cut(const wire& w) {
    auto fail = [](planet& p, caf::io::connection_handle hdl) {
      auto servant = p.mpx.impl_ptr(hdl);
      CAF_REQUIRE(servant != nullptr);
      servant->io_failure(&p.mpx, caf::io::network::operation::read);
    };
    fail(*w.server, w.server_end);
    fail(*w.client, w.client_end);
    run();
  }

  /// Sends a request from `p`'s scoped actor, runs every planet, and returns
  /// the answer; fails the test on an error or when no answer came.
  template <class T, class Handle, class... Ts>
  T ask(planet& p, const Handle& dest, Ts&&... xs) {
    auto f = p.self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    return answer_of<T>(p, f);
  }

  /// The answer to a request sent earlier, once everything ran.
  template <class T, class Handle>
  T answer_of(planet& p, Handle& f) {
    T result{};
    if (!answered(p)) {
      CAF_FAIL("no answer arrived");
      return result;
    }
    f.receive([&](T& x) { result = std::move(x); },
              [&](caf::error& err) {
                CAF_FAIL("request failed: " << p.sys.render(err));
              });
    return result;
  }

  /// The error a request was answered with; fails the test on a value.
  template <class T, class Handle, class... Ts>
  caf::error ask_error(planet& p, const Handle& dest, Ts&&... xs) {
    auto f = p.self->request(dest, caf::infinite, std::forward<Ts>(xs)...);
    run();
    caf::error result;
    if (!answered(p)) {
      CAF_FAIL("no answer arrived");
      return result;
    }
    f.receive([](T&) { CAF_FAIL("expected an error, got a value"); },
              [&](caf::error& err) { result = std::move(err); });
    return result;
  }

  /// Whether `p`'s scoped actor has a message waiting (receiving on an empty
  /// mailbox would block the test forever).
  static bool answered(planet& p) {
    return !p.self->mailbox().empty();
  }
};

} // namespace cfgactors::test

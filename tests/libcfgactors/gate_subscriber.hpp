// A subscriber for the router's tests that holds each change until told to
// answer (shared by the topic_router, every_version and courier suites).
#pragma once

#include <vector>

#include <caf/all.hpp>

#include "pipeline_fixture.hpp"

namespace cfgactors::test {

/// Tells a gate() subscriber to answer every change it holds.
using release_atom = caf::atom_constant<caf::atom("release")>;

struct gate_state {
  change_log log;
  std::vector<caf::response_promise> held;
};

/// A subscriber that records each change and answers only when told
/// (release_atom): a listener still busy with the change it was given, which
/// holds the router's credit.
inline caf::behavior gate(caf::stateful_actor<gate_state>* self,
                          change_log log) {
  self->state.log = std::move(log);
  return {
    [self](const change& c) -> caf::response_promise {
      self->state.log->push_back(c);
      self->state.held.push_back(self->make_response_promise());
      return self->state.held.back();
    },
    [self](release_atom) {
      auto held = std::move(self->state.held);
      for (auto& rp : held)
        rp.deliver(caf::unit);
    },
  };
}

} // namespace cfgactors::test

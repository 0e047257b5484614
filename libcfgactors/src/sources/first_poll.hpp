// Private helper of the remote sources: the request behind
// await_first_poll, which a source answers once its first read succeeded
// (with its status) or failed for good (with the error).
#pragma once

#include <optional>
#include <utility>
#include <vector>

#include <caf/atom.hpp>
#include <caf/error.hpp>
#include <caf/result.hpp>
#include <caf/typed_response_promise.hpp>

#include "cfgactors/source_status.hpp"

namespace cfgactors::detail {

using first_poll_atom = caf::atom_constant<caf::atom("firstpoll")>;

/// The first_poll requests of one source: answered at once when the
/// outcome is known, else kept until `settle`.
class first_poll_waiters {
public:
  bool settled() const noexcept {
    return outcome_.has_value();
  }

  /// Records the outcome (the first one only: later reads change nothing)
  /// and answers every waiting request; no error means `status`.
  void settle(caf::error outcome, const source_status& status) {
    if (outcome_)
      return;
    outcome_ = std::move(outcome);
    for (auto& rp : waiting_)
      *outcome_ ? rp.deliver(*outcome_) : rp.deliver(status);
    waiting_.clear();
  }

  /// The answer to a first_poll request of `self`, whose status is `status`.
  template <class Self>
  caf::result<source_status> await(Self* self, const source_status& status) {
    if (outcome_) {
      if (*outcome_)
        return *outcome_;
      return status;
    }
    waiting_.push_back(self->template make_response_promise<source_status>());
    return waiting_.back();
  }

private:
  std::optional<caf::error> outcome_;
  std::vector<caf::typed_response_promise<source_status>> waiting_;
};

} // namespace cfgactors::detail

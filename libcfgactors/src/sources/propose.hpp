// Private helper of the source actors: send a proposal to the validator and
// book its answer in the source's status.
#pragma once

#include <string>
#include <utility>
#include <vector>

#include <caf/typed_response_promise.hpp>

#include "cfgactors/actor_types.hpp"
#include "core/log.hpp"

namespace cfgactors::detail {

/// Every reason of a refused proposal, as the validator's own line has them
/// (already redacted of secret values).
inline std::vector<std::string> reasons_of(const write_result& r) {
  std::vector<std::string> out;
  out.reserve(r.errors.size());
  for (auto& e : r.errors)
    out.push_back(e.str());
  return out;
}

/// Sends `req` to `validator`; books the answer in `status` (which must live
/// in the actor's state) and then calls `then(result)`. A refused proposal
/// leaves the source degraded: the validator kept the last good config.
template <class Self, class F>
void propose(Self* self, const validator_actor& validator, write_request req,
             source_status& status, F then) {
  ++status.proposals;
  auto origin = req.origin;
  self->request(validator, caf::infinite, write_atom::value, std::move(req))
    .then(
      [&status, origin, then](write_result& r) mutable {
        switch (r.status) {
          case write_status::committed:
            ++status.committed;
            status.version = r.version;
            status.succeed();
            break;
          case write_status::unchanged:
          case write_status::accepted: // sources never ask for a dry run
            ++status.unchanged;
            status.succeed();
            break;
          case write_status::rejected:
            ++status.rejected;
            status.fail("rejected: " + r.describe());
            log().warn("event=source_rejected origin=\"{}\" code={} "
                       "count={} version={} errors={}",
                       escaped(origin), to_string(r.code), r.errors.size(),
                       r.version, json_strings(reasons_of(r)));
            break;
        }
        then(r);
      },
      [self, &status, origin, then](caf::error& err) mutable {
        auto why = self->system().render(err);
        status.fail("the validator did not answer: " + why);
        log().error("event=source_propose_failed origin=\"{}\" error=\"{}\"",
                    origin, why);
        then(write_result::reject(errc::store_failed, "", "validator", why));
      });
}

} // namespace cfgactors::detail

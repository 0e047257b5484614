// What a source reports about itself: whether it is healthy, when it last
// succeeded or failed and why, and how its proposals fared. The daemon shows
// it (GET /sources) and turns it into metrics.
#pragma once

#include <cstdint>
#include <string>

#include <caf/meta/type_name.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

enum class source_state : uint8_t {
  starting, ///< nothing read yet
  ok,       ///< the last read succeeded and its layer is current
  degraded, ///< the last read or proposal failed; the last good layer stays
  stopped,  ///< shut down
};

std::string to_string(source_state x);

struct source_status {
  std::string kind;  ///< "file", "env", "http", "ws"
  std::string layer; ///< the layer it owns (a file source: its first file's)
  source_state state = source_state::starting;
  int64_t last_success_ms = 0; ///< wall clock of the last good read, 0 = never
  int64_t last_error_ms = 0;   ///< wall clock of the last failure, 0 = never
  std::string last_error;      ///< why, naming what and where; never a secret
  uint64_t reads = 0;          ///< reads, polls or messages handled
  uint64_t errors = 0;         ///< reads that failed before any proposal
  uint64_t proposals = 0;      ///< writes sent to the validator
  uint64_t committed = 0;      ///< ... that made a new version
  uint64_t unchanged = 0;      ///< ... that changed nothing
  uint64_t rejected = 0;       ///< ... that the validator refused
  uint64_t version = 0;        ///< the version its last commit made

  /// Books a failure that kept the last good layer.
  void fail(std::string why);

  /// Books a read that went well.
  void succeed();

  friend bool operator==(const source_status& x, const source_status& y) {
    return x.kind == y.kind && x.layer == y.layer && x.state == y.state
           && x.last_success_ms == y.last_success_ms
           && x.last_error_ms == y.last_error_ms
           && x.last_error == y.last_error && x.reads == y.reads
           && x.errors == y.errors && x.proposals == y.proposals
           && x.committed == y.committed && x.unchanged == y.unchanged
           && x.rejected == y.rejected && x.version == y.version;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, source_status& x) {
  return f(caf::meta::type_name("source_status"), x.kind, x.layer, x.state,
           x.last_success_ms, x.last_error_ms, x.last_error, x.reads,
           x.errors, x.proposals, x.committed, x.unchanged, x.rejected,
           x.version);
}

/// `{"kind":…, "layer":…, "state":"ok", …}` for APIs.
json to_json(const source_status& x);

} // namespace cfgactors

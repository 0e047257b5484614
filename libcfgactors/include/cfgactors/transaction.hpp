// transaction: several runtime operations committed as one version, all or
// nothing, built fluently from a node.
#pragma once

#include <chrono>
#include <cstdint>
#include <memory>
#include <string>

#include <nlohmann/json.hpp>

#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/operation.hpp"

namespace cfgactors {

namespace detail {
struct node_impl;
} // namespace detail

/// ```cpp
/// auto r = n.transaction()
///            .set("limits.rps", 200)
///            .unset("limits.burst")
///            .commit(cfgactors::consistency::all);
/// ```
/// The validator applies every operation to one candidate and checks it
/// once: either one new version holds them all, or the result is rejected
/// with every reason and nothing changed. A transaction holds its node's
/// state, not the node: committing after the node stopped is rejected with
/// errc::unavailable.
class transaction {
public:
  transaction& set(std::string path, json value);
  transaction& unset(std::string path);
  /// Drops the runtime override at `path`: lower layers show again.
  transaction& reset(std::string path);
  /// An RFC 7386 merge patch at `path` ("" = the root).
  transaction& merge_patch(json patch, std::string path = {});
  transaction& flag(std::string name, bool enabled);
  /// Commit only if the current version is still `version`; else the
  /// result is rejected with errc::version_conflict.
  transaction& expect_version(uint64_t version);
  /// Through which channel (default `node:<name>`).
  transaction& origin(std::string who);
  /// Who, for the history: a person's or program's name.
  transaction& author(std::string who);
  /// Why, for the history (change_reason.hpp says what a reason may hold;
  /// another is rejected with errc::invalid_argument).
  transaction& reason(std::string why);
  /// Admit without committing (write_request::dry_run): `commit` answers
  /// `write_status::accepted` with `result.diff`, or every reason; no
  /// version is made and no pre-commit check applies anything.
  transaction& dry_run(bool enabled = true);

  const write_request& request() const noexcept {
    return req_;
  }

  /// Sends the operations as one write; see node::write.
  consistent_write_result commit(consistency level = consistency::local,
                                 std::chrono::milliseconds timeout = {}) const;

private:
  friend class node;

  explicit transaction(std::shared_ptr<const detail::node_impl> state);

  std::shared_ptr<const detail::node_impl> state_;
  write_request req_;
};

} // namespace cfgactors

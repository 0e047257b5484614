#include "cfgactors/contract_guard.hpp"

#include <exception>
#include <optional>
#include <stdexcept>
#include <string>
#include <utility>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/path.hpp"
#include "contracts/threw.hpp"
#include "core/log.hpp"

namespace cfgactors {

namespace {

using detail::threw;

/// The guard also receives the changes it subscribed to.
using guard_impl = contract_guard_actor::extend<caf::reacts_to<change>>;

struct guard_state {
  static inline const char* name = "cfgactors.contract_guard";

  std::shared_ptr<contract> subject;
  std::string label;  ///< the contract's name
  std::string prefix; ///< the contract's subtree
  std::string origin; ///< `contract:<name>`, the origin of its rollbacks
  store_actor store;
  writer_actor writer;
  guard_options options;
  snapshot_ptr last_good; ///< the last version that passed
  guard_stats stats;
};

using guard_ptr = guard_impl::stateful_pointer<guard_state>;

/// Applies `snap` and checks health; returns why that failed, if it did.
std::optional<std::string> apply_and_check(guard_state& st,
                                           const snapshot& snap) {
  if (auto err = threw("apply", [&] { st.subject->apply(snap); })) {
    ++st.stats.apply_failures;
    return err;
  }
  std::optional<std::string> sick;
  if (auto err = threw("health check",
                       [&] { sick = st.subject->health_check(); }))
    sick = std::move(err);
  else if (sick)
    sick = "health check failed: " + *sick;
  if (sick)
    ++st.stats.health_failures;
  return sick;
}

bool same_subtree(const snapshot& x, const snapshot& y,
                  const std::string& prefix) {
  if (prefix.empty())
    return x.hash == y.hash;
  auto path = config_path::parse(prefix);
  if (!path)
    return false;
  auto a = x.effective.find(*path);
  auto b = y.effective.find(*path);
  return a == nullptr ? b == nullptr : b != nullptr && *a == *b;
}

void leave_in_effect(guard_ptr self, const snapshot& bad,
                     const std::string& reason, const char* why) {
  auto& st = self->state;
  ++st.stats.degraded;
  detail::log().error("event=contract_degraded contract={} version={} "
                      "reason=\"{}\" why=\"{}\"",
                      st.label, bad.version, detail::escaped(reason), why);
}

/// Writes the rollback of `bad` to `target`, unless a newer version exists.
void write_rollback(guard_ptr self, snapshot_ptr bad, uint64_t target,
                    const std::string& reason) {
  auto& st = self->state;
  detail::log().error("event=contract_rollback contract={} version={} to={} "
                      "reason=\"{}\"",
                      st.label, bad->version, target, detail::escaped(reason));
  write_request req{{operation::rollback(target)}, st.origin, bad->version,
                    {}};
  req.author = st.origin; // the rollback's origin names its target
  self->request(st.writer, st.options.timeout, write_atom::value,
                std::move(req))
    .await(
      [self, bad, target](write_result& res) {
        auto& st = self->state;
        if (res.ok()) {
          ++st.stats.rollbacks;
          detail::log().info("event=contract_rollback_committed contract={} "
                             "version={} restores={}",
                             st.label, res.version, target);
          return;
        }
        ++st.stats.rollback_failures;
        if (res.code == errc::version_conflict) {
          detail::log().warn("event=contract_rollback_conflict contract={} "
                             "version={} current={} reason=\"a newer version "
                             "arrived; it stays\"",
                             st.label, bad->version, res.version);
          return;
        }
        ++st.stats.degraded;
        detail::log().error("event=contract_rollback_failed contract={} "
                            "version={} to={} error=\"{}\"",
                            st.label, bad->version, target,
                            detail::escaped(res.describe()));
      },
      [self, bad, target](caf::error& err) {
        auto& st = self->state;
        ++st.stats.rollback_failures;
        ++st.stats.degraded;
        detail::log().error("event=contract_rollback_failed contract={} "
                            "version={} to={} error=\"{}\"",
                            st.label, bad->version, target,
                            detail::escaped(self->system().render(err)));
      });
}

/// Rolls `bad` back to the newest version that gives the component what it
/// last ran healthily.
void roll_back(guard_ptr self, snapshot_ptr bad, std::string reason) {
  auto& st = self->state;
  auto good = st.last_good;
  if (good->version + 1 == bad->version) {
    write_rollback(self, std::move(bad), good->version, reason);
    return;
  }
  // Versions between the two changed nothing under the prefix unless the
  // router folded some into `bad` or a replica skipped some: then the one
  // right before `bad` is not what the component ran, and restoring it
  // would be a guess.
  auto previous = bad->version - 1;
  self->request(st.store, st.options.timeout, get_atom::value, previous)
    .await(
      [self, bad, good, reason](snapshot_ptr& before) {
        auto target = same_subtree(*before, *good, self->state.prefix)
                        ? before->version
                        : good->version;
        write_rollback(self, bad, target, reason);
      },
      [self, bad, good, reason](caf::error&) {
        write_rollback(self, bad, good->version, reason);
      });
}

void on_version(guard_ptr self, snapshot_ptr snap) {
  auto& st = self->state;
  // The subscription may have been made before a commit the initial get
  // already returned.
  if (snap->version <= st.stats.version)
    return;
  auto was_healthy = st.stats.healthy;
  auto first = st.stats.version == 0;
  // A rollback's origin names its target; the guard is its author.
  auto ours = snap->author == st.origin;
  auto failure = apply_and_check(st, *snap);
  st.stats.version = snap->version;
  st.stats.healthy = !failure;
  if (!failure) {
    ++st.stats.applied;
    st.last_good = snap;
    if (ours)
      detail::log().info("event=contract_rollback_applied contract={} "
                         "version={}",
                         st.label, snap->version);
    else if (!was_healthy && !first)
      detail::log().info("event=contract_recovered contract={} version={}",
                         st.label, snap->version);
    else
      detail::log().debug("event=contract_applied contract={} version={}",
                          st.label, snap->version);
    return;
  }
  if (!st.last_good)
    leave_in_effect(self, *snap, *failure,
                    "no version passed before; nothing to roll back to");
  else if (ours)
    leave_in_effect(self, *snap, *failure,
                    "the rolled-back configuration fails too; "
                    "not rolling back again");
  else if (!was_healthy)
    leave_in_effect(self, *snap, *failure,
                    "the version before failed too; "
                    "nothing healthy to roll back to");
  else
    roll_back(self, std::move(snap), std::move(*failure));
}

guard_impl::behavior_type contract_guard(guard_ptr self,
                                         std::shared_ptr<contract> subject,
                                         store_actor store, writer_actor writer,
                                         guard_options options) {
  auto& st = self->state;
  st.label = subject->name();
  st.prefix = subject->prefix();
  st.origin = "contract:" + st.label;
  st.subject = std::move(subject);
  st.store = std::move(store);
  st.writer = std::move(writer);
  st.options = options;
  self->monitor(st.store);
  self->set_down_handler([self](caf::down_msg& msg) {
    if (msg.source != self->state.store.address())
      return;
    detail::log().warn("event=contract_guard_stopped contract={} "
                       "reason=\"the store is gone\"",
                       self->state.label);
    self->quit(std::move(msg.reason));
  });
  auto fail = [self](caf::error& err) {
    detail::log().error("event=contract_guard_failed contract={} "
                        "error=\"{}\"",
                        self->state.label,
                        detail::escaped(self->system().render(err)));
    self->quit(std::move(err));
  };
  // Subscribe first, then read the current version: a commit between the
  // two is then seen twice (and skipped) rather than missed.
  self
    ->request(st.store, st.options.timeout, subscribe_atom::value, st.prefix,
              subscriber_actor{self})
    .await(
      [self, fail](uint64_t) {
        auto& st = self->state;
        self->request(st.store, st.options.timeout, get_atom::value)
          .await(
            [self](snapshot_ptr& snap) {
              if (snap->version > 0)
                on_version(self, std::move(snap));
            },
            fail);
      },
      fail);
  return {
    [self](const change& msg) {
      if (msg.after)
        on_version(self, msg.after);
    },
    [self](stats_atom) { return self->state.stats; },
  };
}

} // namespace

contract_guard_actor spawn_contract_guard(caf::actor_system& sys,
                                          std::shared_ptr<contract> subject,
                                          store_actor store, writer_actor writer,
                                          guard_options options) {
  if (!subject || !store || !writer)
    throw std::invalid_argument("spawn_contract_guard: needs a contract, a "
                                "store and a writer");
  if (options.detached)
    return sys.spawn<caf::detached>(contract_guard, std::move(subject),
                                    std::move(store), std::move(writer),
                                    options);
  return sys.spawn(contract_guard, std::move(subject), std::move(store),
                   std::move(writer), options);
}

} // namespace cfgactors

// The contracts a validator consults: each may veto a candidate, and those
// that declare a minimum schema_version make it mandatory and checked.
#pragma once

#include <atomic>
#include <cstdint>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "cfgactors/contract.hpp"
#include "cfgactors/pre_commit.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

/// Where the version of a configuration's schema lives in the tree.
inline constexpr std::string_view schema_version_path = "schema_version";

/// The rule of a contract's vetoes is this prefix and the contract's name.
inline constexpr std::string_view contract_rule_prefix = "contract:";

/// The rule of a schema_version a contract cannot accept.
inline constexpr std::string_view schema_version_rule = "schema_version";

/// A thread-safe set of contracts, shared between the code that registers
/// them and the validator (`validator_options::contracts`). Components come
/// and go at runtime; the validator reads the set on every write, so reads
/// take no lock while the set is empty and one short lock otherwise — the
/// contracts themselves run outside it.
class contract_registry {
public:
  using id_type = uint64_t;

  /// Registers `c` and returns the id that removes it. Later writes are
  /// checked against it; its name, prefix and minimum schema_version are
  /// read once, here. Throws std::invalid_argument on a null contract or
  /// a name already registered (names key the metrics and the log).
  id_type add(std::shared_ptr<const contract> c);

  /// Registers `c` as a pre-commit check (pre_commit.hpp): its `validate`
  /// vetoes like any contract's, and each write that changes its prefix is
  /// applied and health-checked on `c` before it is committed. Throws as
  /// `add`.
  id_type add_pre_commit(std::shared_ptr<contract> c,
                         pre_commit_options options = {});

  /// A registered pre-commit check, as the validator runs it.
  struct pre_commit_check {
    id_type id;
    std::string name;
    std::string rule;   ///< `contract:<name>`
    std::string prefix; ///< the subtree whose change triggers it
    std::shared_ptr<contract> subject;
    pre_commit_options options;
  };

  /// The pre-commit checks registered now, oldest first.
  std::vector<pre_commit_check> pre_commit_checks() const;

  std::size_t pre_commit_count() const noexcept {
    return pre_commit_count_.load(std::memory_order_acquire);
  }

  /// Unregisters; false when `id` is unknown. Its veto is lifted for later
  /// writes (a check already under way may still call it once).
  bool remove(id_type id);

  std::size_t size() const noexcept {
    return size_.load(std::memory_order_acquire);
  }

  /// The contracts registered now, oldest first.
  std::vector<std::shared_ptr<const contract>> contracts() const;

  /// Appends to `out` every veto of `candidate`: each contract's errors
  /// (rule `contract:<name>`; a throwing validate is one error naming the
  /// exception) and, when any contract declares a minimum, the problems of
  /// the candidate's `schema_version` (rule `schema_version`): missing, not
  /// a semantic version string, or incompatible with a contract (one error
  /// per such contract, naming it and the range it accepts).
  void check(const json& candidate, validation_errors& out) const;

  validation_errors check(const json& candidate) const {
    validation_errors out;
    check(candidate, out);
    return out;
  }

private:
  struct entry {
    id_type id;
    std::string name;
    std::string rule;   ///< `contract:<name>`
    std::string prefix; ///< the path of errors that name none
    std::optional<semver> min_schema_version;
    std::shared_ptr<const contract> subject;
    /// Set for a pre-commit check: the same contract, to apply.
    std::shared_ptr<contract> applied;
    pre_commit_options options;
  };
  using entries = std::vector<entry>;

  mutable std::mutex mtx_;
  /// Replaced, never modified: a check works on the set it loaded.
  std::shared_ptr<const entries> entries_ = std::make_shared<entries>();
  std::atomic<std::size_t> size_{0};
  std::atomic<std::size_t> pre_commit_count_{0};

  id_type add_entry(std::shared_ptr<const contract> c,
                    std::shared_ptr<contract> applied,
                    pre_commit_options options);
  void publish(std::shared_ptr<const entries> next);
  id_type next_id_ = 1;
};

} // namespace cfgactors

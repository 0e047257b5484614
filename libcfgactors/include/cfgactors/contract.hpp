// A component's contract with the configuration (the seed's ConfigContract):
// what it refuses, how it applies a version, and how it tells it is healthy.
#pragma once

#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/semver.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

/// A component that consumes configuration. Registered in a
/// `contract_registry`, its `validate` is a veto the validator respects; run
/// by a contract guard (`contract_guard.hpp`), `apply` receives every version
/// that touched `prefix()`, followed by `health_check()`, and a failure rolls
/// the configuration back.
///
/// `validate` runs on the validator's thread and `apply`/`health_check` on
/// the guard's, possibly at the same time: share state between them only
/// through thread-safe means.
class contract {
public:
  virtual ~contract();

  /// Names the contract in errors (`contract:<name>`), logs and origins.
  virtual std::string name() const = 0;

  /// The subtree the component consumes (`""` = everything): a guard applies
  /// only versions that changed it.
  virtual std::string prefix() const;

  /// The oldest `schema_version` the component understands, if it cares.
  /// A candidate must then carry a compatible one (same major, not older).
  virtual std::optional<semver> min_schema_version() const;

  /// Reasons to refuse `candidate` (the whole effective tree); empty =
  /// acceptable. Each error's path should name the offending value; its rule
  /// is set to `contract:<name>` by the registry. Throwing is a veto too.
  virtual validation_errors validate(const json& candidate) const;

  /// Puts `snap` into effect in the component. Throwing counts as a failed
  /// apply (the guard rolls back).
  virtual void apply(const snapshot& snap);

  /// After each apply: nullopt when healthy, else why not. May block (a
  /// guard runs detached by default). Throwing counts as unhealthy.
  virtual std::optional<std::string> health_check();
};

/// An error a contract returns from `validate`: the offending path and why.
inline validation_error veto(std::string path, std::string message) {
  return validation_error{std::move(path), {}, std::move(message)};
}

/// A contract made of functions, so that examples and small components need
/// no class of their own:
///
///     auto logger = make_contract("logger")
///                     .prefix("logging")
///                     .min_schema_version("2.0")
///                     .validate([](const json& c) -> validation_errors { ... })
///                     .apply([](const snapshot& s) { ... })
///                     .health([]() -> std::optional<std::string> { ... })
///                     .build();
///
/// Unset functions do nothing (no veto, no-op apply, always healthy).
class contract_builder {
public:
  using validate_fn = std::function<validation_errors(const json&)>;
  using apply_fn = std::function<void(const snapshot&)>;
  using health_fn = std::function<std::optional<std::string>()>;

  /// Throws std::invalid_argument on an empty name.
  explicit contract_builder(std::string name);

  contract_builder& prefix(std::string path);

  /// Throws std::invalid_argument naming the text when it is not a
  /// semantic version.
  contract_builder& min_schema_version(std::string_view text);

  contract_builder& validate(validate_fn fn);
  contract_builder& apply(apply_fn fn);
  contract_builder& health(health_fn fn);

  std::shared_ptr<contract> build() const;

  operator std::shared_ptr<contract>() const {
    return build();
  }

  operator std::shared_ptr<const contract>() const {
    return build();
  }

private:
  std::string name_;
  std::string prefix_;
  std::optional<semver> min_schema_version_;
  validate_fn validate_;
  apply_fn apply_;
  health_fn health_;
};

inline contract_builder make_contract(std::string name) {
  return contract_builder{std::move(name)};
}

} // namespace cfgactors

// The structure of one feature flag: the ops its rules may use and the check
// shared by validate_features (every problem) and evaluation (the first).
#pragma once

#include <cstdint>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors::detail {

enum class flag_op : uint8_t {
  eq,
  neq,
  in,
  not_in,
  starts_with,
  ends_with,
  contains,
  lt,
  lte,
  gt,
  gte,
  semver_eq,
  semver_lt,
  semver_lte,
  semver_gt,
  semver_gte,
};

/// What the values of an op are compared as.
enum class operand_kind : uint8_t { text, number, version };

struct flag_op_info {
  std::string_view name;
  flag_op op;
  operand_kind operand;
  bool single; ///< takes exactly one value
};

/// The op called `name`, or nullptr.
const flag_op_info* find_flag_op(std::string_view name) noexcept;

/// The member `name` of `object`, or nullptr when absent or null (a null
/// field means "not set", as after a merge).
inline const json* field(const json& object, std::string_view name) noexcept {
  auto it = object.find(name);
  if (it == object.end() || it->is_null())
    return nullptr;
  return &*it;
}

/// The fields of an object flag, each looked up once; nullptr when absent
/// or null. Evaluation reads them after check_object_flag passed.
struct flag_fields {
  const json* enabled = nullptr;
  const json* rollout = nullptr;
  const json* key = nullptr;
  const json* rules = nullptr;
  const json* variants = nullptr;
  const json* default_variant = nullptr;
  const json* description = nullptr;
  const json* values = nullptr; ///< {variant: any JSON value}, for OFREP
  bool unknown = false; ///< the object has other keys as well

  explicit flag_fields(const json& flag);
};

/// The fields of one rule, like flag_fields.
struct rule_fields {
  const json* attribute = nullptr;
  const json* op = nullptr;
  const json* values = nullptr;
  const json* enabled = nullptr;
  const json* variant = nullptr;
  bool unknown = false;

  explicit rule_fields(const json& rule);
};

/// The attribute hashed when a flag names no `key`.
constexpr std::string_view default_key = "user";

/// `value` as compact JSON, cut short after 64 characters, for messages.
std::string render(const json& value);

/// Appends the problem of a `features` value that is not an object.
void check_features_type(const json& features, validation_errors& out);

/// Checks the value of flag `name` (features.<name>). Appends its problems
/// to `out` (only the first with `first_only`) with rule "flag"; returns
/// whether there were none. A null flag is absent and fine.
bool check_flag(std::string_view name, const json& flag,
                validation_errors& out, bool first_only);

/// check_flag for an object flag whose fields were looked up already.
bool check_object_flag(std::string_view name, const json& flag,
                       const flag_fields& fields, validation_errors& out,
                       bool first_only);

} // namespace cfgactors::detail

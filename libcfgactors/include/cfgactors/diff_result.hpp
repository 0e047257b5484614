// The difference between two versions, in both of the forms users ask for.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/json_inspect.hpp"

namespace cfgactors {

struct diff_result {
  uint64_t from = 0;
  uint64_t to = 0;
  json patch; ///< RFC 6902 JSON Patch from `from` to `to`
  json view;  ///< the seed's `{path: {old,new}|{added}|{removed}}`
  /// The secret paths of either version (cfgactors/secrets.hpp): mask
  /// `patch` and `view` with them before showing them.
  std::vector<std::string> secrets;

  friend bool operator==(const diff_result& x, const diff_result& y) {
    return x.from == y.from && x.to == y.to && x.patch == y.patch
           && x.view == y.view && x.secrets == y.secrets;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, diff_result& x) {
  return f(caf::meta::type_name("diff_result"), x.from, x.to,
           json_field{x.patch}, json_field{x.view}, x.secrets);
}

} // namespace cfgactors

// One reason a candidate configuration was refused.
#pragma once

#include <string>
#include <vector>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

struct validation_error {
  std::string path;    ///< dotted path of the offending value ("" = root)
  std::string rule;    ///< e.g. "schema.enum", "range", "parse", "contract"
  std::string message; ///< readable explanation, never containing secrets

  /// `path: message [rule]`
  std::string str() const;

  friend bool operator==(const validation_error& x,
                         const validation_error& y) {
    return x.path == y.path && x.rule == y.rule && x.message == y.message;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, validation_error& x) {
  return f(x.path, x.rule, x.message);
}

using validation_errors = std::vector<validation_error>;

} // namespace cfgactors

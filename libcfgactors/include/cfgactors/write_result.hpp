// The answer to every write: what happened, and why when it did not.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include <caf/meta/type_name.hpp>

#include "cfgactors/diff_result.hpp"
#include "cfgactors/errc.hpp"
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

enum class write_status : uint8_t {
  committed, ///< a new version exists
  unchanged, ///< the candidate equals the current layers: no new version
  rejected,  ///< refused: `code` and `errors` say why; nothing changed
  accepted,  ///< a dry run passed admission: `diff` says what it would change
};

std::string to_string(write_status x);

struct write_result {
  write_status status = write_status::rejected;
  uint64_t version = 0; ///< the version now current (new one when committed)
  std::string hash;     ///< its hash
  errc code = errc::none;
  validation_errors errors; ///< every reason, when rejected
  /// A dry run that was accepted: the difference between the current
  /// version (`version`) and the candidate, unmasked; `diff.secrets` names
  /// the paths to mask before showing it (as GET /diff does). `diff.to` is
  /// 0: no version was made.
  diff_result diff;

  bool ok() const noexcept {
    return status != write_status::rejected;
  }

  /// One line per reason, for logs and CLIs.
  std::string describe() const;

  static write_result reject(errc code, validation_errors errors);
  static write_result reject(errc code, std::string path, std::string rule,
                             std::string message);

  friend bool operator==(const write_result& x, const write_result& y) {
    return x.status == y.status && x.version == y.version && x.hash == y.hash
           && x.code == y.code && x.errors == y.errors && x.diff == y.diff;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_result& x) {
  return f(caf::meta::type_name("write_result"), x.status, x.version, x.hash,
           x.code, x.errors, x.diff);
}

} // namespace cfgactors

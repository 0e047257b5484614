// Rendering of validation errors for logs, NACKs and the CLI.
#include "cfgactors/validation_error.hpp"

namespace cfgactors {

std::string validation_error::str() const {
  std::string out = path.empty() ? std::string{"<root>"} : path;
  out += ": ";
  out += message;
  out += " [";
  out += rule;
  out += ']';
  return out;
}

} // namespace cfgactors

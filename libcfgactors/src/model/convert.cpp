#include "cfgactors/convert.hpp"

#include <cmath>

namespace cfgactors::detail {

std::string type_mismatch(const char* what, const json& found) {
  std::string out = "expected ";
  out += what;
  out += ", found ";
  if (found.is_number_float()
      && found.get<double>() != std::trunc(found.get<double>()))
    out += "a number with a fraction";
  else
    out += found.type_name();
  return out;
}

std::string out_of_range(std::size_t bits, bool is_signed) {
  return "out of range for a " + std::to_string(bits) + "-bit "
         + (is_signed ? "signed" : "unsigned") + " integer";
}

} // namespace cfgactors::detail

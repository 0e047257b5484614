// How a bench words a target's verdict: "met", or "missed by X" where X is
// how many times off the figure is. Close misses get two decimals rounded
// up, so that a miss never reads "missed by 1.0x" (1.55 against 1.5 was
// printed so): it reads "missed by 1.04x".
#pragma once

#include <cmath>
#include <cstdio>
#include <string>

namespace bench {

/// "missed by 2.4x"; under 1.1, "missed by 1.04x" (hundredths rounded up).
inline std::string missed_by(double factor) {
  char text[48];
  if (factor < 1.1)
    std::snprintf(text, sizeof text, "missed by %.2fx",
                  std::ceil(factor * 100) / 100);
  else
    std::snprintf(text, sizeof text, "missed by %.1fx", factor);
  return text;
}

/// `got` against a target it must stay at or under (`at_most`) or reach.
inline std::string verdict(double got, double want, bool at_most = true) {
  if (at_most ? got <= want : got >= want)
    return "met";
  return missed_by(at_most ? got / want : want / got);
}

} // namespace bench

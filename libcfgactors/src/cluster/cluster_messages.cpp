#include "cfgactors/cluster_messages.hpp"

namespace cfgactors {

std::string to_string(consistency x) {
  switch (x) {
    case consistency::local:
      return "local";
    case consistency::majority:
      return "majority";
    case consistency::all:
      return "all";
  }
  return "local";
}

std::optional<consistency> parse_consistency(std::string_view text) {
  if (text == "local")
    return consistency::local;
  if (text == "majority")
    return consistency::majority;
  if (text == "all")
    return consistency::all;
  return std::nullopt;
}

} // namespace cfgactors

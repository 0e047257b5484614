// Private: how many values a tree holds, containers and leaves: what a
// copy of it costs, and what a YAML alias expands to.
#pragma once

#include <cstddef>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors::detail {

/// Every value in `value`, itself included. Iterative: the depth of the
/// tree does not reach the stack.
inline std::size_t node_count(const json& value) {
  std::size_t n = 0;
  std::vector<const json*> todo{&value};
  while (!todo.empty()) {
    auto x = todo.back();
    todo.pop_back();
    ++n;
    if (x->is_structured())
      for (auto& child : *x)
        todo.push_back(&child);
  }
  return n;
}

} // namespace cfgactors::detail

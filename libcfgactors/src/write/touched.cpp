#include "write/touched.hpp"

#include <algorithm>

#include <nlohmann/json.hpp>

#include "cfgactors/diff.hpp"

namespace cfgactors::detail {

namespace {

void add_layer_diff(std::vector<std::string>& out, const json* before,
                    const json* after) {
  static const json nothing = json::object();
  auto paths = changed_paths(before ? *before : nothing,
                             after ? *after : nothing);
  out.insert(out.end(), std::make_move_iterator(paths.begin()),
             std::make_move_iterator(paths.end()));
}

} // namespace

std::vector<std::string> touched_paths(const layer_stack& before,
                                       const layer_stack& after) {
  std::vector<std::string> result;
  for (auto& l : after) {
    auto old = before.get(l.name);
    if (old == l.data.get())
      continue;
    add_layer_diff(result, old, l.data.get());
  }
  for (auto& l : before)
    if (after.get(l.name) == nullptr)
      add_layer_diff(result, l.data.get(), nullptr);
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

} // namespace cfgactors::detail

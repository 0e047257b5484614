#include "write/merge_cache.hpp"

#include "cfgactors/merge.hpp"

namespace cfgactors::detail {

json base_merge_cache::effective(const layer_stack& layers) {
  const json* runtime = nullptr;
  auto same = true;
  std::size_t n = 0;
  for (auto& x : layers) {
    if (kind_of(x.name) == layer_kind::runtime) {
      runtime = x.data.get();
      continue;
    }
    same = same && n < inputs.size() && inputs[n] == x.data;
    ++n;
  }
  if (!same || n != inputs.size()) {
    inputs.clear();
    base = json::object();
    spare.reset();
    for (auto& x : layers) {
      if (kind_of(x.name) == layer_kind::runtime)
        continue;
      inputs.push_back(x.data);
      if (!x.data->is_null())
        merge_into(base, *x.data);
    }
  }
  // The spare, if any, is a copy of this very base: it is dropped whenever
  // the base is rebuilt.
  json result;
  if (spare) {
    result = std::move(*spare);
    spare.reset();
  } else {
    result = base;
  }
  if (runtime && !runtime->is_null())
    merge_into(result, *runtime);
  return result;
}

void base_merge_cache::prepare(std::optional<json> storage) {
  if (spare)
    return;
  if (storage) {
    assign_reusing(*storage, base);
    spare = std::move(storage);
  } else {
    spare = base;
  }
}

} // namespace cfgactors::detail

// Private: the validator's cache of the layers below the runtime layer.
#pragma once

#include <memory>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/layer.hpp"

namespace cfgactors::detail {

/// The merge of every layer below the runtime layer, kept between writes:
/// most writes change only the runtime layer, so the effective tree is then
/// one copy of this plus a small merge instead of a merge of every layer.
struct base_merge_cache {
  std::vector<std::shared_ptr<const json>> inputs; ///< identity of the layers
  json base = json::object();
  /// A copy of `base` made by prepare(), consumed by the next effective().
  std::optional<json> spare;

  /// The effective tree of `layers`, reusing the cached base when the layers
  /// below the runtime layer are the same objects as last time.
  json effective(const layer_stack& layers);

  /// Copies the base ahead of the next effective() call, into `storage` if
  /// given (an old tree whose nodes are reused where the keys agree). The
  /// validator calls this while it waits for the store, which takes the copy
  /// off the path from one write to the next.
  void prepare(std::optional<json> storage = std::nullopt);
};

} // namespace cfgactors::detail

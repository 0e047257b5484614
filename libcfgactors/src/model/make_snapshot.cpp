#include "model/make_snapshot.hpp"

#include <memory>
#include <utility>

#include "cfgactors/hash.hpp"
#include "cfgactors/path.hpp"
#include "model/hash_tree.hpp"

namespace cfgactors::detail {

snapshot_ptr make_snapshot(uint64_t version, std::string origin,
                           layer_stack layers, layer_data effective,
                           int64_t timestamp_ms, secret_paths_ptr secrets,
                           std::string hash, std::string author,
                           std::string reason, const snapshot* base,
                           paths_ptr changes) {
  // A tree is hashed as a tree: its JSON is made only when read.
  auto by_tree = effective.has_tree();
  hash_tree_ptr hashes;
  if (base != nullptr && changes != nullptr && base->hashes != nullptr) {
    path_trie changed;
    for (auto& text : *changes)
      if (auto path = config_path::parse(text))
        changed.add(*path);
      else
        changed.whole = true; // not a path we wrote: hash it all
    hashes = by_tree ? rehash(base->hashes, *effective.tree(), changed)
                     : rehash(base->hashes, *effective, changed);
  } else {
    hashes = by_tree ? hash_tree_of(*effective.tree())
                     : hash_tree_of(*effective);
    changes = nullptr;
  }
  if (hash.empty())
    hash = hashes ? hashes->hex() : canonical_hash(*effective);
  if (secrets && secrets->empty())
    secrets = nullptr;
  auto from = changes ? base->version : 0;
  return std::make_shared<const snapshot>(
    snapshot{version, std::move(hash), timestamp_ms, std::move(origin),
             std::move(layers), std::move(effective), std::move(secrets),
             std::move(author), std::move(reason), std::move(changes), from,
             std::move(hashes)});
}

} // namespace cfgactors::detail

#include "cfgactors/snapshot.hpp"

#include <algorithm>
#include <chrono>

#include "cfgactors/hash.hpp"
#include "model/hash_tree.hpp"

namespace cfgactors {

snapshot_ptr snapshot::make(uint64_t version, std::string origin,
                            layer_stack layers, json effective,
                            int64_t timestamp_ms,
                            secret_paths_ptr secrets, std::string author,
                            std::string reason) {
  return make(version, std::move(origin), std::move(layers),
              layer_data{std::move(effective)}, timestamp_ms,
              std::move(secrets), std::move(author), std::move(reason));
}

snapshot_ptr snapshot::make(uint64_t version, std::string origin,
                            layer_stack layers, layer_data effective,
                            int64_t timestamp_ms,
                            secret_paths_ptr secrets, std::string author,
                            std::string reason) {
  auto result = std::make_shared<snapshot>();
  result->version = version;
  // Hashed in the form it comes in: a tree is not made JSON, nor JSON a
  // tree.
  result->hashes = effective.has_tree()
                     ? detail::hash_tree_of(*effective.tree())
                     : detail::hash_tree_of(*effective);
  result->hash = result->hashes ? result->hashes->hex()
                                : canonical_hash(*effective);
  result->timestamp_ms = timestamp_ms;
  result->origin = std::move(origin);
  result->layers = std::move(layers);
  result->effective = std::move(effective);
  if (secrets && !secrets->empty())
    result->secrets = std::move(secrets);
  result->author = std::move(author);
  result->reason = std::move(reason);
  return result;
}

snapshot_ptr snapshot::empty() {
  return make(0, "empty", {}, json::object(), 0);
}

json snapshot::shown(bool with_secrets) const {
  // A copy either way: made from the tree when the JSON is not made, and
  // not kept (a push of every version would keep each one's JSON).
  auto result = effective.to_json();
  if (!with_secrets && secrets)
    secrets->mask(result);
  return result;
}

json snapshot::to_json(bool with_layers) const {
  json out{{"version", version},
           {"hash", hash},
           {"timestamp_ms", timestamp_ms},
           {"origin", origin},
           {"config", effective.to_json()}};
  if (!author.empty())
    out["author"] = author;
  if (!reason.empty())
    out["reason"] = reason;
  if (with_layers)
    out["layers"] = layers.to_json();
  return out;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

snapshot_ptr find_version(const std::deque<snapshot_ptr>& history,
                          uint64_t version) {
  // History is sorted by version: binary search.
  auto i = std::lower_bound(history.begin(), history.end(), version,
                            [](const snapshot_ptr& x, uint64_t v) {
                              return x->version < v;
                            });
  if (i != history.end() && (*i)->version == version)
    return *i;
  return nullptr;
}

} // namespace cfgactors

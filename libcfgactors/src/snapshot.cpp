#include "cfgactors/snapshot.hpp"

#include <chrono>

#include "cfgactors/hash.hpp"

namespace cfgactors {

snapshot_ptr snapshot::make(uint64_t version, std::string origin,
                            layer_stack layers, json effective,
                            int64_t timestamp_ms) {
  auto result = std::make_shared<snapshot>();
  result->version = version;
  result->hash = canonical_hash(effective);
  result->timestamp_ms = timestamp_ms;
  result->origin = std::move(origin);
  result->layers = std::move(layers);
  result->effective = std::move(effective);
  return result;
}

snapshot_ptr snapshot::empty() {
  return make(0, "empty", {}, json::object(), 0);
}

json snapshot::to_json(bool with_layers) const {
  json out{{"version", version},
           {"hash", hash},
           {"timestamp_ms", timestamp_ms},
           {"origin", origin},
           {"config", effective}};
  if (with_layers)
    out["layers"] = layers.to_json();
  return out;
}

int64_t now_ms() {
  using namespace std::chrono;
  return duration_cast<milliseconds>(system_clock::now().time_since_epoch())
    .count();
}

} // namespace cfgactors

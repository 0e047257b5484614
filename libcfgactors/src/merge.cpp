// JSON Merge Patch (RFC 7386) and the null-keeping variant that combines two
// patches. Recursion is bounded: every tree reaching here was depth-checked
// when it was parsed or proposed.
#include "cfgactors/merge.hpp"

#include <utility>

namespace cfgactors {

void merge_into(json& target, const json& overlay) {
  if (!overlay.is_object()) {
    target = overlay;
    return;
  }
  if (!target.is_object())
    target = json::object();
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    if (it->is_null())
      target.erase(it.key());
    else
      merge_into(target[it.key()], *it);
  }
}

json merged(json base, const json& overlay) {
  merge_into(base, overlay);
  return base;
}

void merge_overlays(json& target, const json& overlay) {
  if (!overlay.is_object()) {
    target = overlay;
    return;
  }
  if (!target.is_object())
    target = json::object();
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    // A null stays as a tombstone: the combined patch must still delete the
    // key from the layers below it.
    if (it->is_object())
      merge_overlays(target[it.key()], *it);
    else
      target[it.key()] = *it;
  }
}

} // namespace cfgactors

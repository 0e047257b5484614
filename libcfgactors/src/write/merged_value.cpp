#include "write/merged_value.hpp"

#include <variant>
#include <vector>

#include "cfgactors/merge.hpp"
#include "model/config_tree.hpp"

namespace cfgactors::detail {

namespace {

// What the merge holds at a prefix of the path: all a later layer needs to
// know of it (merge_into turns anything but an object into {} before
// merging an object into it, dropping what was below).
enum class held { object, array, other };

held kind_of(const config_node* x) noexcept {
  if (x == nullptr)
    return held::other;
  return x->is_object() ? held::object
                        : x->is_array() ? held::array : held::other;
}

// One step of a path, as cfgactors::find takes it.
const config_node* step(const config_node* x, const path_segment& seg) {
  if (x == nullptr)
    return nullptr;
  if (auto key = std::get_if<std::string>(&seg))
    return x->member(*key);
  return x->item(std::get<std::size_t>(seg));
}

} // namespace

std::optional<json> merged_value(const layer_stack& layers,
                                 const config_path& path,
                                 std::string_view without) {
  auto& segs = path.segments;
  auto n = segs.size();
  // The merge so far, along the path: kinds[d] is what it holds at the
  // first d segments, `value` what it holds at the path. It starts as {}
  // (layer_stack::effective).
  std::vector<held> kinds(n, held::other);
  std::optional<json> value;
  if (n == 0)
    value = json::object();
  else
    kinds[0] = held::object;
  // Everything at and below depth `d` gone (a null, or {} made of a value).
  auto drop_from = [&](std::size_t d) {
    for (auto e = d; e < n; ++e)
      kinds[e] = held::other;
    value.reset();
  };
  // Each layer is read as its tree: a write's layer is one already, and
  // another is made one once (and kept), not walked as JSON per write.
  for (auto& layer : layers) {
    if (layer.name == without)
      continue;
    const config_node* node = layer.data.tree().get();
    if (node->is_null())
      continue;
    for (std::size_t d = 0;; ++d) {
      if (!node->is_object()) {
        // Replaces what the merge holds here whole, as it is.
        const config_node* cur = node;
        for (auto e = d; e < n; ++e) {
          kinds[e] = kind_of(cur);
          cur = step(cur, segs[e]);
        }
        if (cur)
          value = to_json(*cur);
        else
          value.reset();
        break;
      }
      // An object merges into what is here, which it makes an object.
      if (d == n) {
        value = merged(value && value->is_object() ? std::move(*value)
                                                   : json::object(),
                       to_json(*node));
        break;
      }
      if (kinds[d] != held::object)
        drop_from(d + 1);
      kinds[d] = held::object;
      auto key = std::get_if<std::string>(&segs[d]);
      if (key == nullptr) {
        drop_from(d + 1); // an index into an object finds nothing
        break;
      }
      auto child = node->member(*key);
      if (child == nullptr)
        break; // nothing here: below stays as it was
      if (child->is_null()) {
        drop_from(d + 1);
        break;
      }
      node = child;
    }
  }
  return value;
}

} // namespace cfgactors::detail

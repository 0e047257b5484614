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

// The two forms a layer's data comes in, read alike: a layer that is a
// tree (a write's) is walked as one, a layer that is JSON (a source's) as
// JSON, so that neither is made just to look up one path.
const json* member_of(const json* x, const std::string& key) {
  if (!x->is_object())
    return nullptr;
  auto it = x->find(key);
  return it == x->end() ? nullptr : &*it;
}

const config_node* member_of(const config_node* x, const std::string& key) {
  return x->member(key);
}

const json* item_of(const json* x, std::size_t index) {
  return x->is_array() && index < x->size() ? &(*x)[index] : nullptr;
}

const config_node* item_of(const config_node* x, std::size_t index) {
  return x->item(index);
}

json value_of(const json& x) {
  return x;
}

json value_of(const config_node& x) {
  return to_json(x);
}

template <class Node>
held kind_of(const Node* x) noexcept {
  if (x == nullptr)
    return held::other;
  return x->is_object() ? held::object
                        : x->is_array() ? held::array : held::other;
}

// One step of a path, as cfgactors::find takes it.
template <class Node>
const Node* step(const Node* x, const path_segment& seg) {
  if (x == nullptr)
    return nullptr;
  if (auto key = std::get_if<std::string>(&seg))
    return member_of(x, *key);
  return item_of(x, std::get<std::size_t>(seg));
}

// The merge so far, along a path: kinds[d] is what it holds at the first d
// segments, `value` what it holds at the path. It starts as {}
// (layer_stack::effective).
struct merge_along {
  const std::vector<path_segment>& segs;
  std::vector<held> kinds;
  std::optional<json> value;

  explicit merge_along(const std::vector<path_segment>& path)
    : segs(path), kinds(path.size(), held::other) {
    if (segs.empty())
      value = json::object();
    else
      kinds[0] = held::object;
  }

  // Everything at and below depth `d` gone (a null, or {} made of a value).
  void drop_from(std::size_t d) {
    for (auto e = d; e < segs.size(); ++e)
      kinds[e] = held::other;
    value.reset();
  }

  // Merges one layer (not null) in, with merge_into's rules.
  template <class Node>
  void add(const Node* node) {
    auto n = segs.size();
    for (std::size_t d = 0;; ++d) {
      if (!node->is_object()) {
        // Replaces what the merge holds here whole, as it is.
        const Node* cur = node;
        for (auto e = d; e < n; ++e) {
          kinds[e] = kind_of(cur);
          cur = step(cur, segs[e]);
        }
        if (cur)
          value = value_of(*cur);
        else
          value.reset();
        return;
      }
      // An object merges into what is here, which it makes an object.
      if (d == n) {
        value = merged(value && value->is_object() ? std::move(*value)
                                                   : json::object(),
                       value_of(*node));
        return;
      }
      if (kinds[d] != held::object)
        drop_from(d + 1);
      kinds[d] = held::object;
      auto key = std::get_if<std::string>(&segs[d]);
      if (key == nullptr) {
        drop_from(d + 1); // an index into an object finds nothing
        return;
      }
      auto child = member_of(node, *key);
      if (child == nullptr)
        return; // nothing here: below stays as it was
      if (child->is_null()) {
        drop_from(d + 1);
        return;
      }
      node = child;
    }
  }
};

} // namespace

std::optional<json> merged_value(const layer_stack& layers,
                                 const config_path& path,
                                 std::string_view without) {
  merge_along merge{path.segments};
  for (auto& layer : layers) {
    if (layer.name == without)
      continue;
    if (layer.data.has_tree()) {
      if (auto node = layer.data.tree().get(); !node->is_null())
        merge.add(node);
    } else if (auto data = layer.data.get(); !data->is_null()) {
      merge.add(data);
    }
  }
  return std::move(merge.value);
}

} // namespace cfgactors::detail

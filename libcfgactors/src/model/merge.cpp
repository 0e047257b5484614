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

namespace {

// The merge patch that turns `lower` into `value` (which holds no nulls in
// objects): members of `lower` that `value` lacks become tombstones.
json replacing(const json& lower, const json& value) {
  if (!lower.is_object() || !value.is_object())
    return value;
  auto patch = json::object();
  for (auto it = lower.begin(); it != lower.end(); ++it)
    if (!value.contains(it.key()))
      patch[it.key()] = nullptr;
  for (auto it = value.begin(); it != value.end(); ++it) {
    auto below = lower.find(it.key());
    patch[it.key()] = below == lower.end() ? *it : replacing(*below, *it);
  }
  return patch;
}

} // namespace

void merge_overlays(json& target, const json& overlay, const json& base) {
  if (!overlay.is_object()) {
    target = overlay;
    return;
  }
  if (!target.is_object()) {
    // `target` replaced or deleted what `base` holds here, so the object
    // `overlay` makes must not merge with it: recursing as if `target` said
    // nothing here brought `base`'s members back.
    target = replacing(base, merged(json::object(), overlay));
    return;
  }
  static const json absent;
  for (auto it = overlay.begin(); it != overlay.end(); ++it) {
    auto existing = target.find(it.key());
    // A null stays as a tombstone: the combined patch must still delete the
    // key from the layers below it. Where `target` says nothing, `overlay`
    // patches `base` directly.
    if (!it->is_object() || existing == target.end()) {
      target[it.key()] = *it;
      continue;
    }
    const json* below = &absent;
    if (base.is_object())
      if (auto b = base.find(it.key()); b != base.end())
        below = &*b;
    merge_overlays(*existing, *it, *below);
  }
}

void assign_reusing(json& target, const json& source) {
  using type = json::value_t;
  if (source.type() != target.type()) {
    target = source;
    return;
  }
  switch (source.type()) {
    case type::object: {
      auto& to = target.get_ref<json::object_t&>();
      auto& from = source.get_ref<const json::object_t&>();
      // Both maps are sorted by the same order: walk them side by side.
      auto i = to.begin();
      for (auto& [key, value] : from) {
        auto cmp = 1;
        while (i != to.end() && (cmp = i->first.compare(key)) < 0)
          i = to.erase(i);
        if (i != to.end() && cmp == 0) {
          assign_reusing(i->second, value);
          ++i;
        } else {
          to.emplace_hint(i, key, value);
        }
      }
      to.erase(i, to.end());
      return;
    }
    case type::array: {
      auto& to = target.get_ref<json::array_t&>();
      auto& from = source.get_ref<const json::array_t&>();
      to.resize(from.size());
      for (std::size_t i = 0; i < from.size(); ++i)
        assign_reusing(to[i], from[i]);
      return;
    }
    case type::string:
      target.get_ref<json::string_t&>() =
        source.get_ref<const json::string_t&>();
      return;
    case type::boolean:
      target.get_ref<json::boolean_t&>() = source.get<json::boolean_t>();
      return;
    case type::number_integer:
      target.get_ref<json::number_integer_t&>() =
        source.get<json::number_integer_t>();
      return;
    case type::number_unsigned:
      target.get_ref<json::number_unsigned_t&>() =
        source.get<json::number_unsigned_t>();
      return;
    case type::number_float:
      target.get_ref<json::number_float_t&>() =
        source.get<json::number_float_t>();
      return;
    case type::null:
      return;
    default: // binary, discarded
      target = source;
      return;
  }
}

} // namespace cfgactors

// Layer precedence and the ordered stack that merges into the effective tree.
#include "cfgactors/layer.hpp"

#include <algorithm>
#include <utility>

#include "cfgactors/merge.hpp"

namespace cfgactors {

namespace {

bool starts_with(std::string_view str, std::string_view prefix) noexcept {
  return str.substr(0, prefix.size()) == prefix;
}

} // namespace

layer_kind kind_of(std::string_view layer_name) noexcept {
  if (layer_name == defaults_layer)
    return layer_kind::defaults;
  if (starts_with(layer_name, "file:"))
    return layer_kind::file;
  if (layer_name == "env" || starts_with(layer_name, "env:"))
    return layer_kind::env;
  if (layer_name == runtime_layer)
    return layer_kind::runtime;
  // http:, ws:, etcd:, remote: and anything we do not know. Unknown names
  // rank as remote so a new source type still sits below the runtime layer.
  return layer_kind::remote;
}

void layer_stack::put(std::string name, json data) {
  auto shared = std::make_shared<const json>(std::move(data));
  for (auto& x : layers_) {
    if (x.name == name) {
      x.data = std::move(shared);
      return;
    }
  }
  // After the last layer of the same or a lower kind: this keeps layers of one
  // kind in the order they were first added.
  auto kind = kind_of(name);
  auto pos = std::find_if(layers_.begin(), layers_.end(),
                          [kind](const layer& x) {
                            return kind_of(x.name) > kind;
                          });
  layers_.insert(pos, layer{std::move(name), std::move(shared)});
}

bool layer_stack::remove(std::string_view name) {
  auto pos = std::find_if(layers_.begin(), layers_.end(),
                          [name](const layer& x) { return x.name == name; });
  if (pos == layers_.end())
    return false;
  layers_.erase(pos);
  return true;
}

const json* layer_stack::get(std::string_view name) const noexcept {
  for (auto& x : layers_)
    if (x.name == name)
      return x.data.get();
  return nullptr;
}

json* layer_stack::get(std::string_view name) {
  for (auto& x : layers_) {
    if (x.name == name) {
      // Copy on write: older snapshots may share this data.
      if (x.data.use_count() > 1)
        x.data = std::make_shared<const json>(*x.data);
      return const_cast<json*>(x.data.get());
    }
  }
  return nullptr;
}

json layer_stack::effective() const {
  auto result = json::object();
  for (auto& x : layers_) {
    // A null layer (e.g. an empty runtime layer) contributes nothing; as a
    // merge patch it would otherwise wipe out every layer below it.
    if (!x.data->is_null())
      merge_into(result, *x.data);
  }
  return result;
}

json layer_stack::to_json() const {
  auto result = json::array();
  for (auto& x : layers_)
    result.push_back(json{{"name", x.name}, {"data", *x.data}});
  return result;
}

// Reads what it can and never throws: stored layer lists come from disk or
// from other nodes and a bad one must not take the process down. A non-array
// yields an empty stack; an entry that is not an object with a string "name"
// and a "data" member is skipped; a repeated name keeps the last data. The
// caller can tell something was dropped by comparing size() with the input.
layer_stack layer_stack::from_json(const json& layers) {
  layer_stack result;
  if (!layers.is_array())
    return result;
  for (auto& entry : layers) {
    if (!entry.is_object())
      continue;
    auto name = entry.find("name");
    auto data = entry.find("data");
    if (name == entry.end() || !name->is_string() || data == entry.end())
      continue;
    result.put(name->get<std::string>(), *data);
  }
  return result;
}

} // namespace cfgactors

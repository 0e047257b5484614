// Layer precedence and the ordered stack that merges into the effective tree.
#include "cfgactors/layer.hpp"

#include <algorithm>
#include <atomic>
#include <memory>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"
#include "model/dotted_walk.hpp"

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

// Each form is written once, under the mutex, before its flag is set; a
// reader that sees the flag set sees it whole and nobody writes it again.
struct layer_data::state {
  mutable std::mutex mutex;
  mutable std::atomic<bool> json_made{false};
  mutable std::atomic<bool> tree_made{false};
  mutable json value;
  mutable std::shared_ptr<const detail::config_node> tree;
  /// JSON of the containers find() was asked for, by node (the tree is
  /// immutable and held here: the keys stay valid).
  mutable std::unordered_map<const detail::config_node*,
                             std::unique_ptr<const json>>
    parts;
};

namespace {

std::atomic<uint64_t> jsons_made{0};

} // namespace

layer_data::layer_data(json value) {
  auto s = std::make_shared<state>();
  s->value = std::move(value);
  s->json_made.store(true, std::memory_order_relaxed);
  state_ = std::move(s);
}

layer_data::layer_data(std::shared_ptr<const detail::config_node> tree) {
  auto s = std::make_shared<state>();
  s->tree = std::move(tree);
  s->tree_made.store(true, std::memory_order_relaxed);
  state_ = std::move(s);
}

const json& layer_data::operator*() const {
  auto& s = *state_;
  if (!s.json_made.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> guard{s.mutex};
    if (!s.json_made.load(std::memory_order_relaxed)) {
      s.value = detail::to_json(*s.tree);
      s.json_made.store(true, std::memory_order_release);
      // `parts` stays: readers may hold what find() gave them.
      jsons_made.fetch_add(1, std::memory_order_relaxed);
    }
  }
  return s.value;
}

const std::shared_ptr<const detail::config_node>& layer_data::tree() const {
  auto& s = *state_;
  if (!s.tree_made.load(std::memory_order_acquire)) {
    std::lock_guard<std::mutex> guard{s.mutex};
    if (!s.tree_made.load(std::memory_order_relaxed)) {
      s.tree = detail::node_of(s.value);
      s.tree_made.store(true, std::memory_order_release);
    }
  }
  return s.tree;
}

json layer_data::to_json() const {
  if (!state_)
    return json{};
  return has_json() ? **this : detail::to_json(*tree());
}

bool layer_data::has_json() const noexcept {
  return state_ && state_->json_made.load(std::memory_order_acquire);
}

namespace {

/// The JSON of `node`: a scalar holds its own; a container's is made once
/// per data and kept.
template <class State>
const json* json_of(const State& s, const detail::config_node* node) {
  if (node == nullptr)
    return nullptr;
  if (node->type() == detail::config_node::kind::scalar)
    return &node->scalar();
  std::lock_guard<std::mutex> guard{s.mutex};
  auto& slot = s.parts[node];
  if (!slot)
    slot = std::make_unique<const json>(detail::to_json(*node));
  return slot.get();
}

} // namespace

const json* layer_data::find(const config_path& path) const {
  if (!state_)
    return nullptr;
  if (path.empty() || has_json())
    return cfgactors::find(**this, path);
  return json_of(*state_, detail::config_tree{tree()}.find(path));
}

const json* layer_data::find(std::string_view path) const {
  if (!state_)
    return nullptr;
  if (detail::needs_parse(path)) {
    auto parsed = config_path::parse(path);
    return parsed ? find(*parsed) : nullptr;
  }
  if (path.empty() || has_json())
    return detail::walk_dotted(&**this, path, detail::json_member);
  auto member = [](const detail::config_node* x, std::string_view key) {
    return x->member(key);
  };
  return json_of(*state_, detail::walk_dotted(tree().get(), path, member));
}

bool layer_data::has_tree() const noexcept {
  return state_ && state_->tree_made.load(std::memory_order_acquire);
}

bool layer_data::equals(const layer_data& other) const {
  if (state_ == other.state_)
    return true;
  if (!state_ || !other.state_)
    return false;
  // Trees that share what a write did not change compare in the time of
  // that change; JSON compares whole.
  if (has_tree() && other.has_tree())
    return detail::equal(*tree(), *other.tree());
  return **this == *other;
}

void layer_stack::put(std::string name, json data) {
  put(std::move(name), layer_data{std::move(data)});
}

void layer_stack::put(std::string name, layer_data data) {
  auto shared = std::move(data);
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

const json* layer_stack::get(std::string_view name) const {
  auto found = data(name);
  return found ? found->get() : nullptr;
}

const layer_data* layer_stack::data(std::string_view name) const noexcept {
  for (auto& x : layers_)
    if (x.name == name)
      return &x.data;
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

namespace cfgactors::detail {

uint64_t whole_jsons_made() noexcept {
  return jsons_made.load(std::memory_order_relaxed);
}

} // namespace cfgactors::detail

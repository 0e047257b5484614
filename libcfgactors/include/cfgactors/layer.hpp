// Named configuration layers and their precedence.
#pragma once

#include <memory>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {

/// Layer kinds, lowest precedence first.
enum class layer_kind : int { defaults = 0, file, env, remote, runtime };

/// The kind of a layer name: `defaults`, `file:<path>`, `env`,
/// `remote:<name>` (also `http:`, `ws:`, `etcd:`), `runtime`. Unknown names
/// are treated as remote.
layer_kind kind_of(std::string_view layer_name) noexcept;

/// Canonical name of the runtime layer (what operators set via API/CLI).
inline constexpr std::string_view runtime_layer = "runtime";
inline constexpr std::string_view defaults_layer = "defaults";

/// A named layer. Its data is shared, immutably, between the layer stacks of
/// successive versions: a write copies only the layer it changes.
struct layer {
  std::string name;
  std::shared_ptr<const json> data; ///< may contain `null` tombstones

  friend bool operator==(const layer& x, const layer& y) {
    return x.name == y.name && (x.data == y.data || *x.data == *y.data);
  }
};

/// An ordered set of layers. Layers sort by kind; layers of the same kind keep
/// the order in which they were first added (files in the order given).
class layer_stack {
public:
  using const_iterator = std::vector<layer>::const_iterator;

  /// Replaces the data of layer `name`, or inserts it at its place.
  void put(std::string name, json data);

  /// Removes a layer; returns whether it existed.
  bool remove(std::string_view name);

  /// Returns the layer's data or nullptr.
  const json* get(std::string_view name) const noexcept;

  /// Returns the layer's data for writing, or nullptr. Copies it first if
  /// another stack (an older version) shares it.
  json* get(std::string_view name);

  /// The merged view: every layer merged over the previous, nulls removed.
  json effective() const;

  /// The layers as one JSON object `{name: data}` plus their order, for
  /// storage and display: `[{"name": .., "data": ..}, ...]`.
  json to_json() const;
  static layer_stack from_json(const json& layers);

  const_iterator begin() const noexcept {
    return layers_.begin();
  }
  const_iterator end() const noexcept {
    return layers_.end();
  }
  std::size_t size() const noexcept {
    return layers_.size();
  }
  bool empty() const noexcept {
    return layers_.empty();
  }

  friend bool operator==(const layer_stack& x, const layer_stack& y) {
    return x.layers_ == y.layers_;
  }
  friend bool operator!=(const layer_stack& x, const layer_stack& y) {
    return !(x == y);
  }

private:
  std::vector<layer> layers_;
};

} // namespace cfgactors

// Named configuration layers and their precedence.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"

namespace cfgactors {
struct config_path;
} // namespace cfgactors

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

namespace detail {
class config_node;
} // namespace detail

/// A layer's data (it may contain `null` tombstones), shared immutably
/// between the layer stacks of successive versions. It is held as a
/// persistent tree (src/model/config_tree.hpp) as well as JSON, each made
/// from the other on first use: a write edits the tree, which makes what it
/// changed and shares the rest with the layer it came from, where copying
/// the JSON copied the whole layer.
class layer_data {
public:
  /// No data: get() is nullptr.
  layer_data() = default;

  explicit layer_data(json value);

  explicit layer_data(std::shared_ptr<const detail::config_node> tree);

  /// The JSON form, made on first use (thread-safe).
  const json& operator*() const;

  const json* operator->() const {
    return &**this;
  }

  /// The JSON form, or nullptr without data.
  const json* get() const {
    return state_ ? &**this : nullptr;
  }

  explicit operator bool() const noexcept {
    return state_ != nullptr;
  }

  /// A copy of the JSON form: made from the tree without being kept when
  /// the JSON is not made (a reader that copies anyway, such as a push of
  /// the whole config, leaves no JSON behind in a version built as a tree).
  json to_json() const;

  /// The value at `path` as JSON, or nullptr where there is none (as
  /// cfgactors::find). Without the JSON form made, the value is found in
  /// the tree and only it is made JSON, once, and kept with this data: a
  /// reader of one setting does not make a whole config JSON.
  const json* find(const config_path& path) const;

  /// The same for a dotted path (snapshot_cell.hpp's lookup); plain
  /// `a.b.c` paths are walked without allocating.
  const json* find(std::string_view path) const;

  /// Whether the JSON form is made.
  bool has_json() const noexcept;

  /// The tree, made on first use (thread-safe).
  const std::shared_ptr<const detail::config_node>& tree() const;

  /// Whether the tree is made (a write's layer, or one read as a tree).
  bool has_tree() const noexcept;

  /// The very same data, not an equal copy.
  friend bool operator==(const layer_data& x, const layer_data& y) noexcept {
    return x.state_ == y.state_;
  }

  friend bool operator!=(const layer_data& x, const layer_data& y) noexcept {
    return !(x == y);
  }

  /// Equal content (json's ==), walking only what the two do not share.
  bool equals(const layer_data& other) const;

private:
  struct state;
  std::shared_ptr<const state> state_;
};

/// A named layer. Its data is shared, immutably, between the layer stacks of
/// successive versions: a write makes only what it changes.
struct layer {
  std::string name;
  layer_data data;

  friend bool operator==(const layer& x, const layer& y) {
    return x.name == y.name && x.data.equals(y.data);
  }
};

/// An ordered set of layers. Layers sort by kind; layers of the same kind keep
/// the order in which they were first added (files in the order given).
class layer_stack {
public:
  using const_iterator = std::vector<layer>::const_iterator;

  /// Replaces the data of layer `name`, or inserts it at its place.
  void put(std::string name, json data);
  void put(std::string name, layer_data data);

  /// Removes a layer; returns whether it existed.
  bool remove(std::string_view name);

  /// Returns the layer's data as JSON, or nullptr.
  const json* get(std::string_view name) const;

  /// Returns the layer's data, or nullptr.
  const layer_data* data(std::string_view name) const noexcept;

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

// Private: a configuration tree whose versions share what they did not
// change. Every node is immutable; setting or erasing a value copies the
// nodes and blocks on the way to it and shares all others with the tree it
// was made from, so a one-key change to a config of 100,000 keys makes a
// dozen nodes where a json copy makes 100,000.
#pragma once

#include <cstddef>
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/path.hpp"
#include "model/tree_block.hpp"

namespace cfgactors::detail {

/// One value: a scalar (a json null, boolean, number or string), or an
/// object's members or an array's items as a B-tree of blocks.
class config_node {
public:
  enum class kind : uint8_t { scalar, object, array };

  config_node(kind type, tree_block_ptr block) noexcept
    : type_(type), block_(std::move(block)) {
  }

  explicit config_node(json scalar) noexcept
    : type_(kind::scalar), scalar_(std::move(scalar)) {
  }

  kind type() const noexcept {
    return type_;
  }

  bool is_object() const noexcept {
    return type_ == kind::object;
  }

  bool is_array() const noexcept {
    return type_ == kind::array;
  }

  bool is_null() const noexcept {
    return type_ == kind::scalar && scalar_.is_null();
  }

  /// The value of a scalar (null for a container).
  const json& scalar() const noexcept {
    return scalar_;
  }

  /// The members or items (null when there are none, or for a scalar).
  const tree_block_ptr& block() const noexcept {
    return block_;
  }

  /// Members or items; 0 for a scalar.
  std::size_t size() const noexcept {
    return block_ ? block_->count : 0;
  }

  /// `object`, `array`, or the scalar's json type name (`string`, ...).
  const char* type_name() const noexcept;

  /// The member `key` of an object, or nullptr.
  const config_node* member(std::string_view key) const;

  /// The item `index` of an array, or nullptr.
  const config_node* item(std::size_t index) const;

private:
  kind type_;
  json scalar_;
  tree_block_ptr block_;
};

/// How many times a layer_data made its whole JSON from its tree, in this
/// process: what the suites count to show that a version built along its
/// write is not made JSON on the way to its readers.
uint64_t whole_jsons_made() noexcept;

/// The tree of `value`, built whole.
config_node_ptr node_of(const json& value);

/// The json tree of `node`, built whole.
json to_json(const config_node& node);

/// Whether two trees hold the same value (json's ==: 1 equals 1.0); shared
/// nodes and blocks are not walked.
bool equal(const config_node& lhs, const config_node& rhs);

/// A handle on a tree: cheap to copy; assign and erase replace the handle's
/// root and leave every other handle's tree as it was.
class config_tree {
public:
  /// null, like a default json.
  config_tree();

  explicit config_tree(const json& value);

  explicit config_tree(config_node_ptr root) noexcept;

  const config_node& root() const noexcept {
    return *root_;
  }

  const config_node_ptr& root_ptr() const noexcept {
    return root_;
  }

  json to_json() const {
    return detail::to_json(*root_);
  }

  /// The node at `path`, or nullptr (as cfgactors::find on json).
  const config_node* find(const config_path& path) const;

  /// Sets `value` at `path` with json's `assign` rules and errors
  /// (cfgactors::assign): intermediate objects are created, a failed
  /// assign changes nothing.
  bool assign(const config_path& path, config_node_ptr value,
              std::string* error = nullptr);

  bool assign(const config_path& path, const json& value,
              std::string* error = nullptr) {
    return assign(path, node_of(value), error);
  }

  /// Removes the node at `path` (cfgactors::erase); false when nothing was
  /// there (or `path` is the root).
  bool erase(const config_path& path);

  friend bool operator==(const config_tree& lhs, const config_tree& rhs) {
    return equal(*lhs.root_, *rhs.root_);
  }

  friend bool operator!=(const config_tree& lhs, const config_tree& rhs) {
    return !(lhs == rhs);
  }

private:
  config_node_ptr root_;
};

} // namespace cfgactors::detail

#include "model/config_tree.hpp"

#include <utility>
#include <variant>
#include <vector>

#include "model/assign_walk.hpp"

// Nodes are built and freed recursively: a tree is as deep as the parsers
// let a config be (parse_limits::max_depth), as the json trees are.

namespace cfgactors::detail {

namespace {

using kind = config_node::kind;

const config_node_ptr& null_node() {
  static const config_node_ptr node = std::make_shared<config_node>(json{});
  return node;
}

config_node_ptr container(kind type, tree_block_ptr block) {
  return std::make_shared<config_node>(type, std::move(block));
}

// What detail::assign_error needs to know of a node.
struct node_walk {
  static bool is_null(const config_node& x) noexcept {
    return x.is_null();
  }
  static bool is_object(const config_node& x) noexcept {
    return x.is_object();
  }
  static bool is_array(const config_node& x) noexcept {
    return x.is_array();
  }
  static const char* type_name(const config_node& x) noexcept {
    return x.type_name();
  }
  static std::size_t size(const config_node& x) noexcept {
    return x.size();
  }
  static const config_node* member(const config_node& x,
                                   const std::string& key) {
    return x.member(key);
  }
  static const config_node* item(const config_node& x, std::size_t index) {
    return x.item(index);
  }
};

// `node` (nullptr or null: absent) with `value` at segments[i...]; the walk
// was checked, so every step is an object, an array or absent.
config_node_ptr put(const config_node* node, const config_path& path,
                    std::size_t i, config_node_ptr& value) {
  if (i == path.segments.size())
    return std::move(value);
  auto& seg = path.segments[i];
  if (auto key = std::get_if<std::string>(&seg)) {
    auto block = node && node->is_object() ? node->block() : nullptr;
    auto entry = find_key(block.get(), *key);
    auto child = put(entry ? entry->value.get() : nullptr, path, i + 1, value);
    bool inserted = false;
    return container(kind::object,
                     with_key(block, *key, std::move(child), inserted));
  }
  auto index = std::get<std::size_t>(seg);
  auto block = node && node->is_array() ? node->block() : nullptr;
  if (auto entry = find_index(block.get(), index)) {
    auto child = put(entry->value.get(), path, i + 1, value);
    return container(kind::array, with_index(block, index, std::move(child)));
  }
  auto child = put(nullptr, path, i + 1, value);
  return container(kind::array, inserted_at(block, index, std::move(child)));
}

// `node` without what is at segments[i...], or null when nothing is there.
config_node_ptr drop(const config_node& node, const config_path& path,
                     std::size_t i) {
  auto& seg = path.segments[i];
  auto last = i + 1 == path.segments.size();
  const auto& block = node.block();
  if (auto key = std::get_if<std::string>(&seg)) {
    if (!node.is_object())
      return nullptr;
    if (last) {
      auto rest = without_key(block, *key);
      return rest == block ? nullptr : container(kind::object, std::move(rest));
    }
    auto entry = find_key(block.get(), *key);
    if (entry == nullptr)
      return nullptr;
    auto child = drop(*entry->value, path, i + 1);
    if (!child)
      return nullptr;
    bool inserted = false;
    return container(kind::object,
                     with_key(block, *key, std::move(child), inserted));
  }
  auto index = std::get<std::size_t>(seg);
  if (!node.is_array() || index >= node.size())
    return nullptr;
  if (last)
    return container(kind::array, without_index(block, index));
  auto child = drop(*find_index(block.get(), index)->value, path, i + 1);
  if (!child)
    return nullptr;
  return container(kind::array, with_index(block, index, std::move(child)));
}

std::vector<const tree_entry*> entries_of(const tree_block* block) {
  std::vector<const tree_entry*> result;
  result.reserve(block ? block->count : 0);
  for_each_entry(block, [&](const tree_entry& e) { result.push_back(&e); });
  return result;
}

} // namespace

const char* config_node::type_name() const noexcept {
  switch (type_) {
    case kind::object:
      return "object";
    case kind::array:
      return "array";
    default:
      return scalar_.type_name();
  }
}

const config_node* config_node::member(std::string_view key) const {
  if (!is_object())
    return nullptr;
  auto entry = find_key(block_.get(), key);
  return entry ? entry->value.get() : nullptr;
}

const config_node* config_node::item(std::size_t index) const {
  if (!is_array())
    return nullptr;
  auto entry = find_index(block_.get(), index);
  return entry ? entry->value.get() : nullptr;
}

config_node_ptr node_of(const json& value) {
  if (value.is_object()) {
    std::vector<tree_entry> entries;
    entries.reserve(value.size());
    // json's objects are std::maps: their keys come sorted by bytes.
    for (auto& [key, member] : value.get_ref<const json::object_t&>())
      entries.push_back(tree_entry{key, node_of(member)});
    return container(kind::object, build_blocks(std::move(entries)));
  }
  if (value.is_array()) {
    std::vector<tree_entry> entries;
    entries.reserve(value.size());
    for (auto& item : value)
      entries.push_back(tree_entry{{}, node_of(item)});
    return container(kind::array, build_blocks(std::move(entries)));
  }
  if (value.is_null())
    return null_node();
  return std::make_shared<config_node>(value);
}

json to_json(const config_node& node) {
  if (node.is_object()) {
    json result = json::object();
    auto& members = result.get_ref<json::object_t&>();
    for_each_entry(node.block().get(), [&](const tree_entry& e) {
      members.emplace_hint(members.end(), e.key, to_json(*e.value));
    });
    return result;
  }
  if (node.is_array()) {
    json result = json::array();
    auto& items = result.get_ref<json::array_t&>();
    items.reserve(node.size());
    for_each_entry(node.block().get(), [&](const tree_entry& e) {
      items.push_back(to_json(*e.value));
    });
    return result;
  }
  return node.scalar();
}

bool equal(const config_node& lhs, const config_node& rhs) {
  if (&lhs == &rhs)
    return true;
  if (lhs.type() != rhs.type())
    return false;
  if (lhs.type() == kind::scalar)
    return lhs.scalar() == rhs.scalar();
  if (lhs.size() != rhs.size())
    return false;
  if (lhs.block() == rhs.block())
    return true;
  auto left = entries_of(lhs.block().get());
  auto right = entries_of(rhs.block().get());
  for (std::size_t i = 0; i < left.size(); ++i)
    if (left[i]->key != right[i]->key
        || !equal(*left[i]->value, *right[i]->value))
      return false;
  return true;
}

config_tree::config_tree() : root_(null_node()) {
}

config_tree::config_tree(const json& value) : root_(node_of(value)) {
}

config_tree::config_tree(config_node_ptr root) noexcept
  : root_(root ? std::move(root) : null_node()) {
}

const config_node* config_tree::find(const config_path& path) const {
  const config_node* cur = root_.get();
  for (auto& seg : path.segments) {
    if (auto key = std::get_if<std::string>(&seg))
      cur = cur->member(*key);
    else
      cur = cur->item(std::get<std::size_t>(seg));
    if (cur == nullptr)
      return nullptr;
  }
  return cur;
}

bool config_tree::assign(const config_path& path, config_node_ptr value,
                         std::string* error) {
  if (auto why = assign_error<node_walk>(root_.get(), path); !why.empty()) {
    if (error)
      *error = std::move(why);
    return false;
  }
  if (!value)
    value = null_node();
  root_ = put(root_.get(), path, 0, value);
  return true;
}

bool config_tree::erase(const config_path& path) {
  if (path.empty())
    return false;
  auto result = drop(*root_, path, 0);
  if (!result)
    return false;
  root_ = std::move(result);
  return true;
}

} // namespace cfgactors::detail

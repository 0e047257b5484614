// Differences between configuration trees: RFC 6902 patches and the seed's
// dotted-path view.
#include "cfgactors/diff.hpp"

#include <algorithm>
#include <cmath>
#include <string>

#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"
#include "model/tree_diff.hpp"

namespace cfgactors {

namespace {

// Whether two trees have the same canonical text (hash.hpp), which is what
// their hashes compare. Like ==, except that a number keeps its kind and
// sign: 1 is not 1.0, 0.0 is not -0.0 (== says they are).
bool same(const json& x, const json& y) {
  if (x.is_number() && y.is_number()) {
    if (x.is_number_float() != y.is_number_float())
      return false;
    if (!x.is_number_float())
      return x == y; // signed against unsigned: by value, they print alike
    auto a = x.get<double>();
    auto b = y.get<double>();
    return (a == b && std::signbit(a) == std::signbit(b))
           || (std::isnan(a) && std::isnan(b));
  }
  if (x.type() != y.type() || x.size() != y.size())
    return false;
  if (x.is_object()) {
    // Both iterate in key order.
    for (auto i = x.begin(), j = y.begin(); i != x.end(); ++i, ++j)
      if (i.key() != j.key() || !same(*i, *j))
        return false;
    return true;
  }
  if (x.is_array()) {
    for (std::size_t i = 0; i < x.size(); ++i)
      if (!same(x[i], y[i]))
        return false;
    return true;
  }
  return x == y;
}

// An object key as a JSON Pointer segment (RFC 6901).
std::string pointer_segment(const std::string& key) {
  std::string out;
  out.reserve(key.size());
  for (auto c : key) {
    if (c == '~')
      out += "~0";
    else if (c == '/')
      out += "~1";
    else
      out += c;
  }
  return out;
}

// json::diff's algorithm (and output), comparing with same() instead of ==.
void diff_into(json& ops, const json& from, const json& to,
               const std::string& path) {
  if (same(from, to))
    return;
  auto op = [&ops](const char* name, const std::string& at) -> json& {
    ops.push_back(json{{"op", name}, {"path", at}});
    return ops.back();
  };
  if (from.type() != to.type() || (!from.is_object() && !from.is_array())) {
    op("replace", path)["value"] = to;
    return;
  }
  if (from.is_array()) {
    std::size_t i = 0;
    for (; i < from.size() && i < to.size(); ++i)
      diff_into(ops, from[i], to[i], path + "/" + std::to_string(i));
    // Removals from the back, so that each index is still valid.
    for (auto n = from.size(); n > i; --n)
      op("remove", path + "/" + std::to_string(n - 1));
    for (; i < to.size(); ++i)
      op("add", path + "/-")["value"] = to[i];
    return;
  }
  for (auto it = from.begin(); it != from.end(); ++it) {
    auto at = path + "/" + pointer_segment(it.key());
    auto other = to.find(it.key());
    if (other != to.end())
      diff_into(ops, *it, *other, at);
    else
      op("remove", at);
  }
  for (auto it = to.begin(); it != to.end(); ++it)
    if (!from.contains(it.key()))
      op("add", path + "/" + pointer_segment(it.key()))["value"] = *it;
}

// Calls `on_change(path_text, from_or_null, to_or_null)` for every differing
// leaf: objects are walked key by key, anything else is compared whole. An
// absent side is passed as nullptr (added or removed key). Recursion follows
// object nesting only, which the parse and proposal depth limits bound.
template <class F>
void walk(config_path& path, const json& from, const json& to, F& on_change) {
  if (!from.is_object() || !to.is_object()) {
    if (!same(from, to))
      on_change(path.str(), &from, &to);
    return;
  }
  // Both objects iterate in key order: merge the two sorted key sequences.
  auto i = from.begin();
  auto j = to.begin();
  while (i != from.end() || j != to.end()) {
    if (j == to.end() || (i != from.end() && i.key() < j.key())) {
      path.segments.emplace_back(i.key());
      on_change(path.str(), &*i, nullptr);
      path.segments.pop_back();
      ++i;
    } else if (i == from.end() || j.key() < i.key()) {
      path.segments.emplace_back(j.key());
      on_change(path.str(), nullptr, &*j);
      path.segments.pop_back();
      ++j;
    } else {
      if (!same(*i, *j)) {
        path.segments.emplace_back(i.key());
        walk(path, *i, *j, on_change);
        path.segments.pop_back();
      }
      ++i;
      ++j;
    }
  }
}

} // namespace

json json_patch(const json& from, const json& to) {
  auto ops = json::array();
  diff_into(ops, from, to, "");
  return ops;
}

json diff_view(const json& from, const json& to) {
  auto result = json::object();
  auto on_change = [&](std::string key, const json* old_value,
                       const json* new_value) {
    auto& entry = result[std::move(key)];
    if (old_value && new_value)
      entry = json{{"old", *old_value}, {"new", *new_value}};
    else if (new_value)
      entry = json{{"added", *new_value}};
    else
      entry = json{{"removed", *old_value}};
  };
  config_path path;
  walk(path, from, to, on_change);
  return result;
}

namespace {

/// walk() restricted to the subtree at `root`: follows its keys while both
/// sides are objects, and reports the first step where they are not (or
/// where one side has no such key) as walk() would. Arrays are compared
/// whole, so `root` is cut at its first index.
template <class F>
void walk_at(const config_path& root, const json& from, const json& to,
             F& on_change) {
  config_path path;
  const json* x = &from;
  const json* y = &to;
  for (auto& segment : root.segments) {
    auto key = std::get_if<std::string>(&segment);
    if (key == nullptr || !x->is_object() || !y->is_object())
      break;
    auto i = x->find(*key);
    auto j = y->find(*key);
    path.segments.emplace_back(*key);
    if (i == x->end() && j == y->end())
      return;
    if (i == x->end() || j == y->end()) {
      on_change(path.str(), i == x->end() ? nullptr : &*i,
                j == y->end() ? nullptr : &*j);
      return;
    }
    x = &*i;
    y = &*j;
  }
  if (!same(*x, *y))
    walk(path, *x, *y, on_change);
}

} // namespace

std::vector<std::string> changed_paths(const json& from, const json& to,
                                       const std::vector<std::string>& roots) {
  std::vector<std::string> result;
  auto on_change = [&](std::string key, const json*, const json*) {
    result.emplace_back(std::move(key));
  };
  for (auto& text : roots) {
    auto root = config_path::parse(text);
    if (!root)
      return changed_paths(from, to);
    walk_at(*root, from, to, on_change);
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

namespace {

/// json_patch_at over anything that finds a value by path (JSON, or a
/// version's tree); `whole` diffs everything when a path does not parse.
template <class FindFrom, class FindTo, class Whole>
json patch_at(FindFrom find_from, FindTo find_to,
              const std::vector<std::string>& paths, Whole whole) {
  auto ops = json::array();
  for (auto& text : paths) {
    auto path = config_path::parse(text);
    if (!path)
      return whole();
    std::string pointer;
    for (auto& segment : path->segments) {
      pointer += '/';
      if (auto key = std::get_if<std::string>(&segment))
        pointer += pointer_segment(*key);
      else
        pointer += std::to_string(std::get<std::size_t>(segment));
    }
    const json* x = find_from(*path);
    const json* y = find_to(*path);
    if (x != nullptr && y != nullptr)
      ops.push_back(json{{"op", "replace"}, {"path", pointer}, {"value", *y}});
    else if (y != nullptr)
      ops.push_back(json{{"op", "add"}, {"path", pointer}, {"value", *y}});
    else if (x != nullptr)
      ops.push_back(json{{"op", "remove"}, {"path", pointer}});
  }
  return ops;
}

} // namespace

json json_patch_at(const json& from, const json& to,
                   const std::vector<std::string>& paths) {
  return patch_at([&](const config_path& p) { return find(from, p); },
                  [&](const config_path& p) { return find(to, p); }, paths,
                  [&] { return json_patch(from, to); });
}

json json_patch_at(const layer_data& from, const layer_data& to,
                   const std::vector<std::string>& paths) {
  return patch_at([&](const config_path& p) { return from.find(p); },
                  [&](const config_path& p) { return to.find(p); }, paths,
                  [&] { return json_patch(*from, *to); });
}

std::vector<std::string> patch_paths(const json& patch, const json& after) {
  std::vector<std::string> result;
  if (!patch.is_array())
    return {""};
  for (auto& op : patch) {
    auto at = op.is_object() ? op.find("path") : json::const_iterator{};
    if (!op.is_object() || at == op.end() || !at->is_string())
      return {""};
    auto keys = config_path::from_pointer(at->get_ref<const std::string&>());
    if (!keys)
      return {""};
    // The keys while they name object members of `after`: a key into an
    // array, a scalar or a removed member ends the path.
    config_path path;
    const json* node = &after;
    for (auto& segment : keys->segments) {
      if (node == nullptr || !node->is_object())
        break;
      auto& key = std::get<std::string>(segment);
      auto next = node->find(key);
      node = next == node->end() ? nullptr : &*next;
      path.segments.push_back(std::move(segment));
    }
    result.push_back(path.str());
  }
  std::sort(result.begin(), result.end());
  result.erase(std::unique(result.begin(), result.end()), result.end());
  return result;
}

std::vector<std::string> changed_paths(const json& from, const json& to) {
  std::vector<std::string> result;
  auto on_change = [&](std::string key, const json*, const json*) {
    result.emplace_back(std::move(key));
  };
  config_path path;
  walk(path, from, to, on_change);
  // The walk visits keys in per-level order, which differs from the order of
  // the rendered strings (`a.b` vs `a-b`), so sort explicitly.
  std::sort(result.begin(), result.end());
  return result;
}

} // namespace cfgactors

namespace cfgactors::detail {

namespace {

// Whether two nodes have the same canonical text (same() on their JSON).
bool same_node(const config_node& x, const config_node& y) {
  if (&x == &y)
    return true;
  if (x.type() == config_node::kind::scalar
      && y.type() == config_node::kind::scalar)
    return same(x.scalar(), y.scalar());
  if (x.type() != y.type() || x.size() != y.size())
    return false;
  if (x.block() == y.block())
    return true;
  return same(to_json(x), to_json(y));
}

// The leaf blocks of an object's B-tree, in order.
void leaves_of(const tree_block* block, std::vector<const tree_block*>& out) {
  if (block == nullptr)
    return;
  if (block->leaf()) {
    out.push_back(block);
    return;
  }
  for (auto& child : block->children)
    leaves_of(child.get(), out);
}

// walk() over nodes. Two objects' members are merged in key order leaf by
// leaf; a leaf both share (the blocks a write did not copy) is skipped
// whole when both sides stand at its start.
void walk_nodes(config_path& path, const config_node& from,
                const config_node& to, std::vector<std::string>& out) {
  if (&from == &to)
    return;
  if (!from.is_object() || !to.is_object()) {
    if (!same_node(from, to))
      out.push_back(path.str());
    return;
  }
  if (from.block() == to.block())
    return;
  std::vector<const tree_block*> xs;
  std::vector<const tree_block*> ys;
  leaves_of(from.block().get(), xs);
  leaves_of(to.block().get(), ys);
  std::size_t a = 0, i = 0, b = 0, j = 0;
  auto next = [](const std::vector<const tree_block*>& leaves,
                 std::size_t& leaf, std::size_t& entry) {
    if (++entry == leaves[leaf]->entries.size()) {
      entry = 0;
      ++leaf;
    }
  };
  auto report = [&](const std::string& key) {
    path.segments.emplace_back(key);
    out.push_back(path.str());
    path.segments.pop_back();
  };
  while (a < xs.size() || b < ys.size()) {
    if (a < xs.size() && b < ys.size() && i == 0 && j == 0 && xs[a] == ys[b]) {
      ++a;
      ++b;
      continue;
    }
    auto x = a < xs.size() ? &xs[a]->entries[i] : nullptr;
    auto y = b < ys.size() ? &ys[b]->entries[j] : nullptr;
    if (y == nullptr || (x != nullptr && x->key < y->key)) {
      report(x->key);
      next(xs, a, i);
    } else if (x == nullptr || y->key < x->key) {
      report(y->key);
      next(ys, b, j);
    } else {
      // Objects are walked, not compared whole first (that would read
      // both as JSON): walk_nodes compares what is not an object.
      if (x->value != y->value) {
        path.segments.emplace_back(x->key);
        walk_nodes(path, *x->value, *y->value, out);
        path.segments.pop_back();
      }
      next(xs, a, i);
      next(ys, b, j);
    }
  }
}

} // namespace

std::vector<std::string> changed_paths(const config_node& from,
                                       const config_node& to) {
  std::vector<std::string> result;
  config_path path;
  walk_nodes(path, from, to, result);
  std::sort(result.begin(), result.end());
  return result;
}

std::vector<std::string> changed_paths(const layer_data& from,
                                       const layer_data& to) {
  if (from.has_tree() && to.has_tree())
    return changed_paths(*from.tree(), *to.tree());
  return cfgactors::changed_paths(*from, *to);
}

} // namespace cfgactors::detail

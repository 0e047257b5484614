// Secret paths: matching patterns against trees, patches and diff views.
#include "cfgactors/secrets.hpp"

#include <algorithm>
#include <deque>
#include <set>
#include <utility>

#include "model/wildcard.hpp"

namespace cfgactors {

namespace {

using detail::is_wildcard;

/// True if the pattern segment `pat` matches the path segment `seg`. A key
/// of digits matches an index: JSON pointers name indexes as text.
bool matches(const path_segment& pat, const path_segment& seg) {
  if (is_wildcard(pat))
    return true;
  if (pat.index() == seg.index())
    return pat == seg;
  auto index = std::get_if<std::size_t>(&pat);
  auto key = std::get_if<std::string>(&seg);
  return index != nullptr && key != nullptr
         && *key == std::to_string(*index);
}

using live_set = std::vector<const config_path*>;

/// Walks `node`, at `path`, into the children some live pattern leads to;
/// `on_secret(path, child)` for each child a pattern ends at. Every live
/// pattern matches `path` and is longer than it.
template <class Json, class F>
void walk(Json& node, config_path& path, const live_set& live, F& on_secret) {
  if (live.empty() || !(node.is_object() || node.is_array()))
    return;
  auto depth = path.segments.size();
  auto step = [&](path_segment seg, Json& child) {
    live_set next;
    auto ends = false;
    for (auto p : live)
      if (matches(p->segments[depth], seg)) {
        if (p->segments.size() == depth + 1)
          ends = true;
        else
          next.push_back(p);
      }
    if (!ends && next.empty())
      return;
    path.segments.push_back(std::move(seg));
    if (ends)
      on_secret(path, child);
    else
      walk(child, path, next, on_secret);
    path.segments.pop_back();
  };
  auto wildcard = std::any_of(live.begin(), live.end(), [depth](auto p) {
    return is_wildcard(p->segments[depth]);
  });
  if (node.is_object()) {
    if (wildcard) {
      for (auto i = node.begin(); i != node.end(); ++i)
        step(i.key(), i.value());
      return;
    }
    // Only the keys the patterns name: no scan of a large object.
    std::set<std::string> keys;
    for (auto p : live)
      if (auto key = std::get_if<std::string>(&p->segments[depth]))
        keys.insert(*key);
    for (auto& key : keys)
      if (auto i = node.find(key); i != node.end())
        step(key, *i);
    return;
  }
  for (std::size_t i = 0; i < node.size(); ++i)
    step(i, node[i]);
}

/// The patterns that cover `at` (`covered`) or lead below it (`live`).
bool split(const std::vector<config_path>& patterns, const config_path& at,
           live_set& live) {
  for (auto& p : patterns) {
    auto n = std::min(p.segments.size(), at.segments.size());
    auto prefix = std::equal(p.segments.begin(), p.segments.begin() + n,
                             at.segments.begin(), matches);
    if (!prefix)
      continue;
    if (p.segments.size() <= at.segments.size())
      return true;
    live.push_back(&p);
  }
  return false;
}

} // namespace

secret_paths::secret_paths(std::vector<std::string> patterns,
                           std::vector<std::string>* errors) {
  std::sort(patterns.begin(), patterns.end());
  patterns.erase(std::unique(patterns.begin(), patterns.end()),
                 patterns.end());
  for (auto& text : patterns) {
    std::string why;
    auto path = config_path::parse(text, &why);
    if (!path) {
      if (errors)
        errors->push_back("secret path '" + text + "': " + why);
      continue;
    }
    texts_.push_back(std::move(text));
    patterns_.push_back(std::move(*path));
  }
}

bool secret_paths::covers(const config_path& path) const {
  live_set live;
  return split(patterns_, path, live);
}

void secret_paths::mask(json& value, const config_path& at) const {
  live_set live;
  if (split(patterns_, at, live)) {
    value = masked_value;
    return;
  }
  auto path = at;
  auto hide = [](const config_path&, json& x) { x = masked_value; };
  walk(value, path, live, hide);
}

void secret_paths::mask_patch(json& patch) const {
  if (empty() || !patch.is_array())
    return;
  for (auto& op : patch) {
    if (!op.is_object())
      continue;
    auto value = op.find("value");
    auto pointer = op.find("path");
    if (value == op.end() || pointer == op.end() || !pointer->is_string())
      continue;
    if (auto at = config_path::from_pointer(pointer->get<std::string>()))
      mask(*value, *at);
    else
      *value = masked_value; // unknown place: show nothing
  }
}

void secret_paths::mask_view(json& view) const {
  if (empty() || !view.is_object())
    return;
  for (auto i = view.begin(); i != view.end(); ++i) {
    auto at = config_path::parse(i.key());
    if (!i.value().is_object())
      continue;
    for (auto& side : i.value()) {
      if (at)
        mask(side, *at);
      else
        side = masked_value;
    }
  }
}

void secret_paths::for_each(
  const json& tree,
  const std::function<void(const config_path&, const json&)>& fn) const {
  live_set live;
  config_path root;
  if (split(patterns_, root, live)) {
    fn(root, tree);
    return;
  }
  auto call = [&fn](const config_path& at, const json& x) { fn(at, x); };
  walk(tree, root, live, call);
}

void secret_paths::for_each(
  json& tree, const std::function<void(const config_path&, json&)>& fn) const {
  for_each(tree, config_path{}, fn);
}

void secret_paths::for_each(
  json& value, const config_path& at,
  const std::function<void(const config_path&, json&)>& fn) const {
  live_set live;
  if (split(patterns_, at, live)) {
    fn(at, value);
    return;
  }
  auto path = at;
  auto call = [&fn](const config_path& where, json& x) { fn(where, x); };
  walk(value, path, live, call);
}

void secret_paths::for_each(
  const json& value, const config_path& at,
  const std::function<void(const config_path&, const json&)>& fn) const {
  live_set live;
  if (split(patterns_, at, live)) {
    fn(at, value);
    return;
  }
  auto path = at;
  auto call = [&fn](const config_path& where, const json& x) { fn(where, x); };
  walk(value, path, live, call);
}

bool secret_paths::any_in(const json& tree) const {
  auto found = false;
  for_each(tree, [&found](const config_path&, const json&) { found = true; });
  return found;
}

secret_paths_ptr secret_paths::with(const secret_paths_ptr& base,
                                    const std::vector<std::string>& more) {
  std::vector<std::string> all;
  if (base)
    all = base->patterns();
  auto before = all.size();
  // A set, not a scan of `all` per pattern: a schema may mark thousands.
  std::set<std::string> known{all.begin(), all.end()};
  for (auto& text : more)
    // A pattern that does not parse would be left out again: it adds
    // nothing, and must not cost a new set.
    if (config_path::parse(text) && known.insert(text).second)
      all.push_back(text);
  if (all.size() == before)
    return base;
  return std::make_shared<const secret_paths>(std::move(all));
}

namespace {

/// Deep enough for any real schema; stops `$ref` cycles.
constexpr int max_schema_depth = 32;

/// Subschemas visited at most. A recursive schema that refers to itself
/// from several places (`left` and `right` of a tree node) unfolds into a
/// number of subschemas exponential in the depth: without a bound the walk
/// would not end in any useful time, nor fit in memory.
constexpr std::size_t max_schema_visits = 65536;

struct schema_item {
  const json* schema;
  config_path path;
  int depth;
};

} // namespace

std::vector<std::string> schema_secret_paths(const json& schema) {
  std::set<std::string> out;
  // Breadth first: when the bound cuts a recursive schema short, it cuts
  // the deepest paths, never a shallow one.
  std::deque<schema_item> queue;
  queue.push_back({&schema, {}, 0});
  for (std::size_t visits = 0; !queue.empty() && visits < max_schema_visits;
       ++visits) {
    auto item = std::move(queue.front());
    queue.pop_front();
    auto& node = *item.schema;
    if (!node.is_object())
      continue;
    auto flag = [&node](const char* key) {
      auto i = node.find(key);
      return i != node.end() && i->is_boolean() && i->template get<bool>();
    };
    if (flag("x-secret") || flag("writeOnly"))
      out.insert(item.path.str());
    auto next = item.depth + 1;
    if (next > max_schema_depth)
      continue;
    auto same = [&](const json& sub) {
      queue.push_back({&sub, item.path, next});
    };
    auto below = [&](path_segment seg, const json& sub) {
      auto path = item.path;
      path.segments.push_back(std::move(seg));
      queue.push_back({&sub, std::move(path), next});
    };
    if (auto ref = node.find("$ref"); ref != node.end() && ref->is_string()) {
      auto text = ref->get<std::string>();
      if (!text.empty() && text.front() == '#') {
        try {
          auto pointer = json::json_pointer{text.substr(1)};
          if (schema.contains(pointer))
            same(schema.at(pointer));
        } catch (const json::exception&) {
          // A malformed pointer: the schema compiler reports it.
        }
      }
    }
    if (auto props = node.find("properties");
        props != node.end() && props->is_object())
      for (auto i = props->begin(); i != props->end(); ++i)
        below(i.key(), i.value());
    if (auto extra = node.find("additionalProperties"); extra != node.end())
      below(std::string{"*"}, *extra);
    if (auto patterns = node.find("patternProperties");
        patterns != node.end() && patterns->is_object())
      for (auto& sub : *patterns)
        below(std::string{"*"}, sub);
    if (auto items = node.find("items"); items != node.end()) {
      if (items->is_array())
        for (auto& sub : *items)
          below(std::string{"*"}, sub);
      else
        below(std::string{"*"}, *items);
    }
    for (auto key : {"allOf", "anyOf", "oneOf"})
      if (auto list = node.find(key); list != node.end() && list->is_array())
        for (auto& sub : *list)
          same(sub);
  }
  return {out.begin(), out.end()};
}

} // namespace cfgactors

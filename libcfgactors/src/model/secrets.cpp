// Secret paths: matching patterns against trees, patches and diff views.
#include "cfgactors/secrets.hpp"

#include <algorithm>
#include <set>
#include <utility>

namespace cfgactors {

namespace {

bool is_wildcard(const path_segment& seg) {
  auto key = std::get_if<std::string>(&seg);
  return key != nullptr && *key == "*";
}

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

/// A JSON pointer's tokens as a path of keys; nullopt if malformed.
std::optional<config_path> from_pointer(const std::string& pointer) {
  config_path result;
  if (pointer.empty())
    return result;
  if (pointer.front() != '/')
    return std::nullopt;
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      result.segments.emplace_back(std::move(token));
      token.clear();
    } else if (pointer[i] == '~' && i + 1 < pointer.size()
               && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
      token += pointer[++i] == '0' ? '~' : '/';
    } else {
      token += pointer[i];
    }
  }
  return result;
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
    if (auto at = from_pointer(pointer->get<std::string>()))
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
  live_set live;
  config_path root;
  if (split(patterns_, root, live)) {
    fn(root, tree);
    return;
  }
  auto call = [&fn](const config_path& at, json& x) { fn(at, x); };
  walk(tree, root, live, call);
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

void collect(const json& root, const json& schema, config_path& path,
             int depth, std::set<std::string>& out) {
  // Deep enough for any real schema; stops `$ref` cycles.
  if (depth > 32 || !schema.is_object())
    return;
  auto flag = [&schema](const char* key) {
    auto i = schema.find(key);
    return i != schema.end() && i->is_boolean() && i->template get<bool>();
  };
  if (flag("x-secret") || flag("writeOnly"))
    out.insert(path.str());
  auto below = [&](path_segment seg, const json& sub) {
    path.segments.push_back(std::move(seg));
    collect(root, sub, path, depth + 1, out);
    path.segments.pop_back();
  };
  if (auto ref = schema.find("$ref");
      ref != schema.end() && ref->is_string()) {
    auto text = ref->get<std::string>();
    if (!text.empty() && text.front() == '#') {
      try {
        auto pointer = json::json_pointer{text.substr(1)};
        if (root.contains(pointer))
          collect(root, root.at(pointer), path, depth + 1, out);
      } catch (const json::exception&) {
        // A malformed pointer: the schema compiler reports it.
      }
    }
  }
  if (auto props = schema.find("properties");
      props != schema.end() && props->is_object())
    for (auto i = props->begin(); i != props->end(); ++i)
      below(i.key(), i.value());
  if (auto extra = schema.find("additionalProperties"); extra != schema.end())
    below(std::string{"*"}, *extra);
  if (auto patterns = schema.find("patternProperties");
      patterns != schema.end() && patterns->is_object())
    for (auto& sub : *patterns)
      below(std::string{"*"}, sub);
  if (auto items = schema.find("items"); items != schema.end()) {
    if (items->is_array())
      for (auto& sub : *items)
        below(std::string{"*"}, sub);
    else
      below(std::string{"*"}, *items);
  }
  for (auto key : {"allOf", "anyOf", "oneOf"})
    if (auto list = schema.find(key); list != schema.end() && list->is_array())
      for (auto& sub : *list)
        collect(root, sub, path, depth + 1, out);
}

} // namespace

std::vector<std::string> schema_secret_paths(const json& schema) {
  std::set<std::string> out;
  config_path path;
  collect(schema, schema, path, 0, out);
  return {out.begin(), out.end()};
}

} // namespace cfgactors

// Differences between configuration trees: RFC 6902 patches and the seed's
// dotted-path view.
#include "cfgactors/diff.hpp"

#include <algorithm>

#include "cfgactors/path.hpp"

namespace cfgactors {

namespace {

// Calls `on_change(path_text, from_or_null, to_or_null)` for every differing
// leaf: objects are walked key by key, anything else is compared whole. An
// absent side is passed as nullptr (added or removed key). Recursion follows
// object nesting only, which the parse and proposal depth limits bound.
template <class F>
void walk(config_path& path, const json& from, const json& to, F& on_change) {
  if (!from.is_object() || !to.is_object()) {
    if (from != to)
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
      if (*i != *j) {
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
  return json::diff(from, to);
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

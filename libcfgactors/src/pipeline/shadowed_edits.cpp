#include "pipeline/shadowed_edits.hpp"

#include <algorithm>
#include <optional>
#include <variant>

#include "cfgactors/diff.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors::detail {

namespace {

/// Whether `data` (a layer) replaces the value at `path` whatever a lower
/// layer says: it sets the path to a non-object or null, or one of its
/// ancestors to a non-object (a merge replaces what is not an object). An
/// object at the path merges with the lower value: not a whole override.
bool overrides(const json& data, const config_path& path,
               const json* lower) {
  const json* cur = &data;
  if (!cur->is_object())
    return false;
  for (auto& seg : path.segments) {
    auto key = std::get_if<std::string>(&seg);
    if (key == nullptr)
      return false; // an index inside an object this layer merges into
    auto i = cur->find(*key);
    if (i == cur->end())
      return false;
    cur = &*i;
    if (!cur->is_object())
      return true; // a scalar, array or null here replaces all below
  }
  // An object at the path itself: it merges with the lower value unless
  // that one is no object (then the higher object replaces it).
  return lower == nullptr || !lower->is_object();
}

} // namespace

std::vector<shadowed_edit> shadowed_edits(const layer_stack& before,
                                          const layer_stack& after,
                                          const std::string& name,
                                          std::size_t limit,
                                          std::size_t& total) {
  total = 0;
  std::vector<shadowed_edit> result;
  auto old_data = before.get(name);
  if (old_data == nullptr)
    return result;
  auto pos = std::find_if(after.begin(), after.end(),
                          [&](const layer& l) { return l.name == name; });
  if (pos == after.end() || !pos->data)
    return result;
  const json& new_data = *pos->data;
  for (auto& text : cfgactors::changed_paths(*old_data, new_data)) {
    auto path = config_path::parse(text);
    if (!path)
      continue;
    auto lower = find(new_data, *path);
    // The highest layer that overrides it is the one that wins.
    for (auto i = after.end(); i != pos + 1;) {
      --i;
      if (i->data && overrides(*i->data, *path, lower)) {
        if (++total <= limit)
          result.push_back(shadowed_edit{text, i->name});
        break;
      }
    }
  }
  return result;
}

} // namespace cfgactors::detail

#include "model/layer_changes.hpp"

#include "cfgactors/diff.hpp"
#include "model/config_tree.hpp"
#include "model/tree_diff.hpp"

namespace cfgactors::detail {

std::optional<layer_changes> changes_between(const layer_data& before,
                                             const layer_data& after) {
  // A layer held as JSON (a source's file, read again) is compared whole,
  // as its reading was; two trees in the time of what they do not share.
  auto trees = before.has_tree() && after.has_tree();
  auto paths = trees ? changed_paths(*before.tree(), *after.tree())
                     : cfgactors::changed_paths(*before, *after);
  layer_changes result;
  for (auto& text : paths) {
    auto at = config_path::parse(text);
    if (!at || at->segments.empty() || at->str() != text)
      return std::nullopt;
    std::optional<json> value;
    if (trees) {
      if (auto node = config_tree{after.tree()}.find(*at))
        value = to_json(*node);
    } else if (auto found = find(*after, *at)) {
      value = *found;
    }
    if (value)
      result.set.emplace_back(std::move(*at), std::move(*value));
    else
      result.unset.push_back(std::move(*at));
  }
  return result;
}

std::optional<layer_data> apply_changes(const layer_data& before,
                                        const layer_changes& changes,
                                        std::string& why) {
  config_tree tree{before.tree()};
  for (auto& at : changes.unset)
    if (!tree.erase(at)) {
      why = "cannot remove " + json(at.str()).dump() + ": nothing there";
      return std::nullopt;
    }
  for (auto& [at, value] : changes.set) {
    std::string problem;
    if (!tree.assign(at, value, &problem)) {
      why = "cannot set " + at.str() + ": " + problem;
      return std::nullopt;
    }
  }
  return layer_data{tree.root_ptr()};
}

void write_changes(json& entry, layer_changes changes) {
  auto set = json::object();
  for (auto& [at, value] : changes.set)
    set[at.str()] = std::move(value);
  auto unset = json::array();
  for (auto& at : changes.unset)
    unset.push_back(at.str());
  entry["set"] = std::move(set);
  entry["unset"] = std::move(unset);
}

std::optional<layer_changes> read_changes(json& entry, std::string& why) {
  auto set = entry.find("set");
  auto unset = entry.find("unset");
  if (set == entry.end() || !set->is_object() || unset == entry.end()
      || !unset->is_array()) {
    why = "no \"set\" object and \"unset\" array";
    return std::nullopt;
  }
  layer_changes result;
  for (auto& x : *unset) {
    auto at = x.is_string() ? config_path::parse(x.get<std::string>())
                            : std::nullopt;
    if (!at) {
      why = "\"unset\" holds " + x.dump() + ", not a path";
      return std::nullopt;
    }
    result.unset.push_back(std::move(*at));
  }
  for (auto i = set->begin(); i != set->end(); ++i) {
    auto at = config_path::parse(i.key());
    if (!at) {
      why = "\"set\" holds " + json(i.key()).dump() + ", not a path";
      return std::nullopt;
    }
    result.set.emplace_back(std::move(*at), std::move(i.value()));
  }
  return result;
}

} // namespace cfgactors::detail

#include "pipeline/change_trail.hpp"

#include <algorithm>
#include <string>
#include <variant>
#include <vector>

#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors::detail {

void change_trail::push(const snapshot& next) {
  if (next.changes && next.changes_from == head_ && head_ != 0) {
    steps_.push_back({head_, next.changes});
    if (steps_.size() > capacity)
      steps_.pop_front();
  } else {
    steps_.clear();
  }
  head_ = next.version;
}

bool change_trail::bring_up(json& tree, uint64_t version,
                            const snapshot& current) const {
  auto whole = [&] {
    assign_reusing(tree, current.effective);
    return false;
  };
  if (current.version != head_)
    return whole();
  if (version == head_)
    return true;
  auto first = std::find_if(steps_.begin(), steps_.end(),
                            [&](const step& x) { return x.from == version; });
  if (first == steps_.end())
    return whole();
  std::vector<std::string> paths;
  for (auto i = first; i != steps_.end(); ++i)
    paths.insert(paths.end(), i->paths->begin(), i->paths->end());
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  const std::string* done = nullptr;
  for (auto& text : paths) {
    // Sorted: a path below the last one copied came with it.
    if (done != nullptr && path_within(text, *done))
      continue;
    auto at = config_path::parse(text);
    if (!at || !copy_at(tree, *at, current.effective))
      return whole();
    done = &text;
  }
  return true;
}

bool copy_at(json& tree, const config_path& path, const json& source) {
  if (path.segments.empty() || !tree.is_object() || !source.is_object())
    return false;
  json* node = &tree;
  const json* from = &source;
  auto last = path.segments.size() - 1;
  for (std::size_t depth = 0;; ++depth) {
    auto key = std::get_if<std::string>(&path.segments[depth]);
    if (key == nullptr)
      return false;
    auto src = from->find(*key);
    if (src == from->end()) {
      node->erase(*key);
      return true;
    }
    auto i = node->find(*key);
    if (depth == last || !src->is_object() || i == node->end()
        || !i->is_object()) {
      (*node)[*key] = *src;
      return true;
    }
    node = &*i;
    from = &*src;
  }
}

} // namespace cfgactors::detail

#include "pipeline/change_trail.hpp"

#include <algorithm>
#include <string>
#include <vector>

#include "cfgactors/merge.hpp"
#include "write/merged_at.hpp"

namespace cfgactors::detail {

void change_trail::push(const snapshot& next) {
  if (next.changes && next.changes_from == head_ && head_ != 0) {
    steps_.push_back({head_, next.changes});
    if (steps_.size() > capacity_)
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
  // The trail reaches back as far as the history: past this many paths
  // (versions that each changed much) a whole copy costs less than sorting
  // and merging them one by one.
  std::size_t total = 0;
  for (auto i = first; i != steps_.end(); ++i)
    if ((total += i->paths->size()) > max_paths)
      return whole();
  std::vector<std::string> paths;
  paths.reserve(total);
  for (auto i = first; i != steps_.end(); ++i)
    paths.insert(paths.end(), i->paths->begin(), i->paths->end());
  std::sort(paths.begin(), paths.end());
  paths.erase(std::unique(paths.begin(), paths.end()), paths.end());
  // Each path copied from the current tree: a merge with no overlay.
  if (!patch_merged(tree, paths, current.effective, nullptr))
    return whole();
  return true;
}

} // namespace cfgactors::detail

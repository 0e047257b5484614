#include "cfgactors/change.hpp"

#include "cfgactors/path.hpp"

namespace cfgactors {

namespace {

const json& subtree(const snapshot_ptr& snap, const std::string& prefix) {
  static const json null_value;
  if (!snap)
    return null_value;
  auto path = config_path::parse(prefix);
  if (!path)
    return null_value;
  auto ptr = snap->effective.find(*path);
  return ptr ? *ptr : null_value;
}

} // namespace

const json& change::old_value() const {
  return subtree(before, prefix);
}

const json& change::new_value() const {
  return subtree(after, prefix);
}

} // namespace cfgactors

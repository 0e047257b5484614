#include "cfgactors/transaction.hpp"

#include <utility>

#include "node/node_impl.hpp"

namespace cfgactors {

transaction::transaction(std::shared_ptr<const detail::node_impl> state)
  : state_(std::move(state)) {
  // nop
}

transaction& transaction::set(std::string path, json value) {
  req_.ops.push_back(operation::set(std::move(path), std::move(value)));
  return *this;
}

transaction& transaction::unset(std::string path) {
  req_.ops.push_back(operation::unset(std::move(path)));
  return *this;
}

transaction& transaction::reset(std::string path) {
  req_.ops.push_back(operation::reset(std::move(path)));
  return *this;
}

transaction& transaction::merge_patch(json patch, std::string path) {
  req_.ops.push_back(operation::merge_patch(std::move(patch), std::move(path)));
  return *this;
}

transaction& transaction::flag(std::string name, bool enabled) {
  req_.ops.push_back(operation::flag(std::move(name), enabled));
  return *this;
}

transaction& transaction::expect_version(uint64_t version) {
  req_.expected_version = version;
  return *this;
}

transaction& transaction::author(std::string who) {
  req_.author = std::move(who);
  return *this;
}

transaction& transaction::reason(std::string why) {
  req_.reason = std::move(why);
  return *this;
}

transaction& transaction::dry_run(bool enabled) {
  req_.dry_run = enabled;
  return *this;
}

transaction& transaction::origin(std::string who) {
  req_.origin = std::move(who);
  return *this;
}

consistent_write_result
transaction::commit(consistency level, std::chrono::milliseconds timeout) const {
  return state_->write(req_, level, timeout);
}

} // namespace cfgactors

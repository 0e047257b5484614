#include "cfgactors/contract_registry.hpp"

#include <algorithm>
#include <exception>
#include <stdexcept>

namespace cfgactors {

namespace {

/// `>= 2.1.0 and < 3.0.0`: what compatible() accepts for `need`.
std::string accepted_range(const semver& need) {
  return ">= " + need.str() + " and < " + std::to_string(need.major + 1)
         + ".0.0";
}

void schema_version_error(validation_errors& out, std::string message) {
  out.push_back({std::string{schema_version_path},
                 std::string{schema_version_rule}, std::move(message)});
}

/// Checks the candidate's schema_version against every contract that
/// declares a minimum.
template <class Entries>
void check_schema_version(const json& candidate, const Entries& all,
                          validation_errors& out) {
  std::vector<std::pair<const std::string*, semver>> needs;
  for (auto& x : all)
    if (x.min_schema_version)
      needs.emplace_back(&x.name, *x.min_schema_version);
  if (needs.empty())
    return;
  auto demands = [&] {
    std::string text;
    for (auto& [name, need] : needs) {
      text += text.empty() ? "; contract \"" : ", contract \"";
      text += *name + "\" needs " + accepted_range(need);
    }
    return text;
  };
  auto field = candidate.is_object()
                 ? candidate.find(std::string{schema_version_path})
                 : json::const_iterator{};
  if (!candidate.is_object() || field == candidate.end()) {
    schema_version_error(out, "missing" + demands());
    return;
  }
  if (!field->is_string()) {
    // YAML reads `schema_version: 2.0` as a number.
    schema_version_error(out, "must be a semantic version string such as "
                              "\"2.0.0\" (quoted in YAML), got "
                                + field->dump() + demands());
    return;
  }
  auto& text = field->get_ref<const std::string&>();
  std::string err;
  auto have = semver::parse(text, &err);
  if (!have) {
    schema_version_error(out, err + demands());
    return;
  }
  for (auto& [name, need] : needs)
    if (!compatible(*have, need))
      schema_version_error(out, "config is \"" + text + "\" but contract \""
                                  + *name + "\" needs "
                                  + accepted_range(need));
}

} // namespace

contract_registry::id_type
contract_registry::add(std::shared_ptr<const contract> c) {
  return add_entry(std::move(c), nullptr, {});
}

contract_registry::id_type
contract_registry::add_pre_commit(std::shared_ptr<contract> c,
                                  pre_commit_options options) {
  if (options.timeout <= caf::timespan{0})
    throw std::invalid_argument("contract_registry::add_pre_commit: the "
                                "timeout must be positive");
  std::shared_ptr<const contract> viewed = c;
  return add_entry(std::move(viewed), std::move(c), options);
}

contract_registry::id_type
contract_registry::add_entry(std::shared_ptr<const contract> c,
                             std::shared_ptr<contract> applied,
                             pre_commit_options options) {
  if (!c)
    throw std::invalid_argument("contract_registry::add: null contract");
  auto name = c->name();
  if (name.empty())
    throw std::invalid_argument("contract_registry::add: a contract needs a "
                                "name");
  std::lock_guard<std::mutex> guard{mtx_};
  for (auto& x : *entries_)
    if (x.name == name)
      throw std::invalid_argument("contract_registry::add: a contract named \""
                                  + name + "\" is already registered");
  auto next = std::make_shared<entries>(*entries_);
  auto id = next_id_++;
  auto rule = std::string{contract_rule_prefix} + name;
  next->push_back(entry{id, std::move(name), std::move(rule), c->prefix(),
                        c->min_schema_version(), std::move(c),
                        std::move(applied), options});
  publish(std::move(next));
  return id;
}

void contract_registry::publish(std::shared_ptr<const entries> next) {
  entries_ = std::move(next);
  size_.store(entries_->size(), std::memory_order_release);
  auto n = std::count_if(entries_->begin(), entries_->end(),
                         [](const entry& x) { return x.applied != nullptr; });
  pre_commit_count_.store(static_cast<std::size_t>(n),
                          std::memory_order_release);
}

bool contract_registry::remove(id_type id) {
  std::lock_guard<std::mutex> guard{mtx_};
  auto i = std::find_if(entries_->begin(), entries_->end(),
                        [id](const entry& x) { return x.id == id; });
  if (i == entries_->end())
    return false;
  auto next = std::make_shared<entries>();
  next->reserve(entries_->size() - 1);
  for (auto& x : *entries_)
    if (x.id != id)
      next->push_back(x);
  publish(std::move(next));
  return true;
}

std::vector<contract_registry::pre_commit_check>
contract_registry::pre_commit_checks() const {
  std::vector<pre_commit_check> result;
  if (pre_commit_count() == 0)
    return result;
  std::shared_ptr<const entries> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    all = entries_;
  }
  for (auto& x : *all)
    if (x.applied)
      result.push_back(
        pre_commit_check{x.id, x.name, x.rule, x.prefix, x.applied, x.options});
  return result;
}

std::vector<std::shared_ptr<const contract>>
contract_registry::contracts() const {
  std::shared_ptr<const entries> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    all = entries_;
  }
  std::vector<std::shared_ptr<const contract>> result;
  result.reserve(all->size());
  for (auto& x : *all)
    result.push_back(x.subject);
  return result;
}

void contract_registry::check(const json& candidate,
                              validation_errors& out) const {
  // The validator's path when nobody registered a contract: one load.
  if (size() == 0)
    return;
  std::shared_ptr<const entries> all;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    all = entries_;
  }
  check_schema_version(candidate, *all, out);
  for (auto& x : *all) {
    auto veto_with = [&](std::string message) {
      out.push_back({x.prefix, x.rule, std::move(message)});
    };
    try {
      for (auto& err : x.subject->validate(candidate))
        out.push_back({err.path.empty() ? x.prefix : std::move(err.path),
                       x.rule, std::move(err.message)});
    } catch (const std::exception& e) {
      veto_with(std::string{"validate threw: "} + e.what());
    } catch (...) {
      veto_with("validate threw an exception of unknown type");
    }
  }
}

} // namespace cfgactors

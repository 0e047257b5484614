// This process's environment under one lock: the changes cfgactors/env.hpp
// makes and the copies the env source takes (capture_env).
#include "sources/env_vars.hpp"

#include <unistd.h>

#include <cstdlib>
#include <string_view>

#include "cfgactors/env.hpp"
#include "cfgactors/env_source.hpp"

namespace cfgactors {

namespace detail {

std::mutex& env_mutex() {
  static std::mutex instance;
  return instance;
}

} // namespace detail

namespace {

bool valid_name(const std::string& name) {
  return !name.empty() && name.find('=') == std::string::npos
         && name.find('\0') == std::string::npos;
}

bool valid(const env::change& x) {
  return valid_name(x.first)
         && (!x.second || x.second->find('\0') == std::string::npos);
}

// Walks `environ`; the caller holds the lock.
template <class Keep>
std::map<std::string, std::string> copy_environ(Keep keep) {
  std::map<std::string, std::string> result;
  for (auto entry = environ; entry != nullptr && *entry != nullptr; ++entry) {
    std::string_view text{*entry};
    auto eq = text.find('=');
    if (eq == std::string_view::npos || !keep(text.substr(0, eq)))
      continue;
    result.emplace(text.substr(0, eq), text.substr(eq + 1));
  }
  return result;
}

} // namespace

namespace env {

bool set(const std::string& name, const std::string& value) {
  return update({{name, value}});
}

bool unset(const std::string& name) {
  return update({{name, std::nullopt}});
}

std::optional<std::string> get(const std::string& name) {
  if (!valid_name(name))
    return std::nullopt;
  std::lock_guard<std::mutex> guard{detail::env_mutex()};
  if (auto value = ::getenv(name.c_str()))
    return std::string{value};
  return std::nullopt;
}

bool update(const std::vector<change>& changes) {
  for (auto& x : changes)
    if (!valid(x))
      return false;
  std::lock_guard<std::mutex> guard{detail::env_mutex()};
  for (auto& [name, value] : changes) {
    // Only ENOMEM is left: valid() refused the names setenv would.
    auto rc = value ? ::setenv(name.c_str(), value->c_str(), 1)
                    : ::unsetenv(name.c_str());
    if (rc != 0)
      return false;
  }
  return true;
}

} // namespace env

std::map<std::string, std::string> capture_env(const std::string& prefix) {
  // The only places that read the environment: copy under the lock, quickly.
  std::lock_guard<std::mutex> guard{detail::env_mutex()};
  return copy_environ([&prefix](std::string_view name) {
    return name.substr(0, prefix.size()) == prefix;
  });
}

std::map<std::string, std::string>
capture_env(const env_source_options& options) {
  auto& prefix = options.prefix;
  auto& mapped = options.map;
  std::lock_guard<std::mutex> guard{detail::env_mutex()};
  return copy_environ([&](std::string_view name) {
    return name.substr(0, prefix.size()) == prefix
           || mapped.count(std::string{name}) > 0;
  });
}

} // namespace cfgactors

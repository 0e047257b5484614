// Changing this process's environment while an env source reads it.
//
// glibc's setenv/unsetenv/putenv may move `environ` while another thread
// walks it, so the env source reads under a lock of its own and every change
// must take the same lock. These functions are the only way to take it: a
// program that runs an env source changes variables through them, never
// through setenv/unsetenv/putenv directly.
#pragma once

#include <optional>
#include <string>
#include <utility>
#include <vector>

namespace cfgactors::env {

/// Sets `name` to `value`. False (nothing changed) for a name that is empty
/// or holds `=` or a NUL, or a value holding a NUL.
bool set(const std::string& name, const std::string& value);

/// Removes `name`; true if it is gone (also when it was not set). False for
/// a name `set` refuses.
bool unset(const std::string& name);

/// The value of `name`, read under the same lock.
std::optional<std::string> get(const std::string& name);

/// One change: a value to set, or nullopt to remove the variable.
using change = std::pair<std::string, std::optional<std::string>>;

/// Applies `changes` in order under one lock: a poll sees all or none. False,
/// changing nothing, if any name or value is one `set` refuses.
bool update(const std::vector<change>& changes);

} // namespace cfgactors::env

// Private: the lock around this process's environment. Only env_vars.cpp
// (cfgactors/env.hpp's functions and capture_env) takes it.
#pragma once

#include <mutex>

namespace cfgactors::detail {

std::mutex& env_mutex();

} // namespace cfgactors::detail

// Private: random identifiers (a cluster's id), from OpenSSL's generator.
#pragma once

#include <string>

namespace cfgactors::detail {

/// 128 random bits, 32 lowercase hex digits; empty if OpenSSL has no
/// entropy.
std::string random_id();

} // namespace cfgactors::detail

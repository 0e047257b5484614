// Shared test header: the CAF test DSL (with the 0.17.6 FAIL fix) and helpers.
#pragma once

#include <string>

// dsl.hpp in 0.17.6 uses FAIL without defining it.
#ifndef FAIL
#  define FAIL(msg) CAF_FAIL(msg)
#endif
#include <caf/test/dsl.hpp>

namespace cfgactors::test {

/// Absolute path of a file in the source tree (examples, fixtures).
inline std::string source_path(const std::string& relative) {
  return std::string{CFGACTORS_SOURCE_DIR} + "/" + relative;
}

} // namespace cfgactors::test

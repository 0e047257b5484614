// Shared by the journal suites: a fresh data dir, removed afterwards, and
// the paths of the journal's files in it.
#pragma once

#include <string>

#include "pipeline/journal.hpp"
#include "temp_dir.hpp"

namespace cfgactors::test {

struct journal_dir : temp_dir {
  explicit journal_dir(const std::string& name) : temp_dir(name) {
    // nop
  }

  std::string db() const {
    return (path / detail::journal::file_name).string();
  }

  std::string wal() const {
    return db() + "-wal";
  }
};

} // namespace cfgactors::test

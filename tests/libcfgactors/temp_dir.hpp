// A fresh directory under the system's temp dir for one test, removed with
// everything in it afterwards.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <system_error>

#include <stdlib.h>

#include "cfgactors_test.hpp"

namespace cfgactors::test {

struct temp_dir {
  std::filesystem::path path;

  /// Creates `<tmp>/cfgactors-<name>-XXXXXX`.
  explicit temp_dir(const std::string& name) {
    auto pattern = (std::filesystem::temp_directory_path()
                    / ("cfgactors-" + name + "-XXXXXX"))
                     .string();
    if (mkdtemp(pattern.data()) == nullptr)
      CAF_FAIL("mkdtemp failed");
    path = pattern;
  }

  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;

  ~temp_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  std::string str() const {
    return path.string();
  }

  /// Writes `content` to `name` in the directory by rename, so that a
  /// reader polling the file never sees it half written; returns its path.
  std::string write(const std::string& name, const std::string& content) const {
    auto file = (path / name).string();
    auto tmp = file + ".tmp";
    std::ofstream{tmp, std::ios::binary | std::ios::trunc} << content;
    std::filesystem::rename(tmp, file);
    return file;
  }
};

} // namespace cfgactors::test

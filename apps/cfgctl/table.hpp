// Aligned text tables for cfgctl's listings (nodes, sources): columns as
// wide as their widest cell, two spaces apart, the last one unpadded.
#pragma once

#include <ostream>
#include <string>
#include <vector>

namespace cfgctl {

class table {
public:
  explicit table(std::vector<std::string> header);

  void add(std::vector<std::string> row);

  bool empty() const noexcept {
    return rows_.size() <= 1;
  }

  void print(std::ostream& out) const;

private:
  std::vector<std::vector<std::string>> rows_; ///< the header first
};

} // namespace cfgctl

#include "table.hpp"

#include <algorithm>

namespace cfgctl {

namespace {

/// Width in terminal columns, counting each UTF-8 sequence once (not each
/// byte): a file name with accents stays aligned.
std::size_t width(const std::string& text) {
  return static_cast<std::size_t>(
    std::count_if(text.begin(), text.end(),
                  [](char c) { return (static_cast<unsigned char>(c) & 0xC0)
                                      != 0x80; }));
}

} // namespace

table::table(std::vector<std::string> header) {
  rows_.push_back(std::move(header));
}

void table::add(std::vector<std::string> row) {
  row.resize(rows_.front().size());
  rows_.push_back(std::move(row));
}

void table::print(std::ostream& out) const {
  std::vector<std::size_t> widths(rows_.front().size(), 0);
  for (auto& row : rows_)
    for (std::size_t i = 0; i < row.size(); ++i)
      widths[i] = std::max(widths[i], width(row[i]));
  for (auto& row : rows_) {
    std::string line;
    for (std::size_t i = 0; i < row.size(); ++i) {
      line += row[i];
      if (i + 1 < row.size())
        line += std::string(widths[i] - width(row[i]) + 2, ' ');
    }
    out << line << '\n';
  }
}

} // namespace cfgctl

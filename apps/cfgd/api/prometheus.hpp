// A writer for the Prometheus text exposition format 0.0.4: HELP and TYPE
// once per family, escaped label values, and samples in family order.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace cfgd::prometheus {

using labels = std::vector<std::pair<std::string, std::string>>;

class writer {
public:
  /// Starts a family; `type` is counter, gauge or histogram.
  void family(const std::string& name, const std::string& type,
              const std::string& help);

  void sample(const std::string& name, const labels& ls, double value);

  void sample(const std::string& name, double value) {
    sample(name, {}, value);
  }

  /// The samples of one histogram series: `counts[i]` observations fell in
  /// (bounds[i-1], bounds[i]], the last one above every bound (`+Inf`).
  void histogram(const std::string& name, const labels& ls,
                 const std::vector<double>& bounds,
                 const std::vector<uint64_t>& counts, double sum);

  const std::string& text() const noexcept {
    return out_;
  }

private:
  std::string out_;
};

/// `a\"b` for a label value: backslash, double quote and newline escaped.
std::string escape_label(const std::string& value);

} // namespace cfgd::prometheus

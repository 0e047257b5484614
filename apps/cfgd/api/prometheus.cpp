#include "api/prometheus.hpp"

#include <cmath>
#include <cstdio>
#include <cstdlib>

namespace cfgd::prometheus {

namespace {

std::string escape_help(const std::string& text) {
  std::string out;
  for (auto c : text) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

std::string number(double x) {
  if (std::isnan(x))
    return "NaN";
  if (std::isinf(x))
    return x > 0 ? "+Inf" : "-Inf";
  if (x == std::floor(x) && std::fabs(x) < 1e15) {
    char buf[32];
    std::snprintf(buf, sizeof(buf), "%.0f", x);
    return buf;
  }
  // The shortest text that reads back as `x`: a Unix time in seconds needs
  // 13 digits for its milliseconds, a bound like 0.1 only one.
  char buf[40];
  for (int digits = 6; digits <= 17; ++digits) {
    std::snprintf(buf, sizeof(buf), "%.*g", digits, x);
    if (std::strtod(buf, nullptr) == x)
      break;
  }
  return buf;
}

} // namespace

std::string escape_label(const std::string& value) {
  std::string out;
  for (auto c : value) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void writer::family(const std::string& name, const std::string& type,
                    const std::string& help) {
  out_ += "# HELP " + name + " " + escape_help(help) + "\n";
  out_ += "# TYPE " + name + " " + type + "\n";
}

void writer::sample(const std::string& name, const labels& ls, double value) {
  out_ += name;
  if (!ls.empty()) {
    out_ += '{';
    for (std::size_t i = 0; i < ls.size(); ++i) {
      if (i > 0)
        out_ += ',';
      out_ += ls[i].first + "=\"" + escape_label(ls[i].second) + "\"";
    }
    out_ += '}';
  }
  out_ += ' ' + number(value) + '\n';
}

void writer::histogram(const std::string& name, const labels& ls,
                       const std::vector<double>& bounds,
                       const std::vector<uint64_t>& counts, double sum) {
  uint64_t cumulative = 0;
  auto with_le = ls;
  with_le.emplace_back("le", "");
  for (std::size_t i = 0; i < counts.size(); ++i) {
    cumulative += counts[i];
    with_le.back().second = i < bounds.size() ? number(bounds[i]) : "+Inf";
    sample(name + "_bucket", with_le, static_cast<double>(cumulative));
  }
  sample(name + "_sum", ls, sum);
  sample(name + "_count", ls, static_cast<double>(cumulative));
}

} // namespace cfgd::prometheus

// Counts and times the HTTP requests cfgd answers, by route pattern (never
// the raw path: a scanner cannot grow the label set) and status code.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <tuple>
#include <vector>

#include "api/prometheus.hpp"

namespace cfgd {

class request_metrics {
public:
  /// Upper bounds of the duration histogram, in seconds.
  static const std::vector<double>& bounds();

  /// One answered request (the router's observer, on the io thread).
  /// `route` is a route pattern or `other`; an unusual method counts as
  /// `other`.
  void record(const std::string& method, const std::string& route,
              unsigned code, double seconds);

  /// `cfg_http_requests_total` and `cfg_http_request_duration_seconds`.
  void write(prometheus::writer& w) const;

private:
  struct series {
    uint64_t requests = 0;
    std::vector<uint64_t> counts; ///< per bound, then above all
    double sum = 0;
  };

  using key = std::tuple<std::string, std::string, unsigned>; // method, route, code

  mutable std::mutex mtx_;
  std::map<key, series> series_;
};

} // namespace cfgd

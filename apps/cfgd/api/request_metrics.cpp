#include "api/request_metrics.hpp"

#include <algorithm>

namespace cfgd {

namespace {

/// The methods cfgd serves; anything else is one label.
std::string method_label(const std::string& method) {
  static const char* known[] = {"GET",  "HEAD",   "PUT",    "PATCH",
                                "POST", "DELETE", "OPTIONS"};
  for (auto m : known)
    if (method == m)
      return method;
  return "other";
}

} // namespace

const std::vector<double>& request_metrics::bounds() {
  static const std::vector<double> result{0.0005, 0.001, 0.0025, 0.005,
                                          0.01,   0.025, 0.05,   0.1,
                                          0.25,   0.5,   1,      2.5,
                                          5,      10};
  return result;
}

void request_metrics::record(const std::string& method,
                             const std::string& route, unsigned code,
                             double seconds) {
  // Status codes outside HTTP's range cannot come from our server; kept out
  // of the labels all the same.
  if (code < 100 || code > 599)
    code = 0;
  auto& b = bounds();
  auto i = static_cast<std::size_t>(
    std::lower_bound(b.begin(), b.end(), seconds) - b.begin());
  std::lock_guard<std::mutex> guard{mtx_};
  auto& s = series_[key{method_label(method), route, code}];
  if (s.counts.empty())
    s.counts.resize(b.size() + 1);
  ++s.requests;
  ++s.counts[i];
  s.sum += seconds;
}

void request_metrics::write(prometheus::writer& w) const {
  std::lock_guard<std::mutex> guard{mtx_};
  w.family("cfg_http_requests_total", "counter",
           "HTTP requests answered, by method, route pattern (other: a path "
           "no route serves) and status code.");
  for (auto& [k, s] : series_)
    w.sample("cfg_http_requests_total",
             {{"method", std::get<0>(k)},
              {"route", std::get<1>(k)},
              {"code", std::to_string(std::get<2>(k))}},
             static_cast<double>(s.requests));
  w.family("cfg_http_request_duration_seconds", "histogram",
           "Time from a request's headers to its answer, by method, route "
           "pattern and status code.");
  for (auto& [k, s] : series_)
    w.histogram("cfg_http_request_duration_seconds",
                {{"method", std::get<0>(k)},
                 {"route", std::get<1>(k)},
                 {"code", std::to_string(std::get<2>(k))}},
                bounds(), s.counts, s.sum);
}

} // namespace cfgd

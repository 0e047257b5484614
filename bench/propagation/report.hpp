// How workers tell the coordinator what they saw: one text line per event on
// a pipe that all workers of a run share (fd 3 in a worker). Reporting is off
// the measured path: the latency is computed in the worker on receipt.
#pragma once

#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "process.hpp"

namespace bench {

/// CLOCK_MONOTONIC in nanoseconds: one clock for every process of the host,
/// so a stamp taken by the coordinator can be subtracted in a worker.
int64_t monotonic_ns();

/// The descriptor a worker reports on.
constexpr int report_fd = 3;

/// Worker side. Each line is a single write() shorter than PIPE_BUF, so the
/// lines of many workers on one pipe never interleave.
void report_ready(int worker);
void report_flip(int worker, uint64_t flip, int64_t latency_ns);
void report_error(int worker, const std::string& what);

struct report {
  enum kind_t { ready, flip, error } kind = ready;
  int worker = 0;
  uint64_t flip_index = 0;
  int64_t latency_ns = 0;
  std::string text; ///< for errors
};

/// Coordinator side: parses the lines of the shared pipe.
class report_reader {
public:
  explicit report_reader(unique_fd fd) : fd_(std::move(fd)) {}

  /// The next report, or nullopt when none arrived before `deadline` (or
  /// every writer has closed the pipe).
  std::optional<report> next(std::chrono::steady_clock::time_point deadline);

  /// Every writer has closed the pipe: no worker of the run is left.
  bool closed() const { return closed_; }

private:
  std::optional<report> pop_line();

  unique_fd fd_;
  std::string buf_;
  bool closed_ = false;
};

} // namespace bench

#include "report.hpp"

#include <cerrno>
#include <cinttypes>
#include <cstdio>
#include <ctime>

#include <poll.h>
#include <unistd.h>

namespace bench {

namespace {

void write_line(const char* text, int len) {
  if (len <= 0)
    return;
  while (::write(report_fd, text, static_cast<size_t>(len)) < 0
         && errno == EINTR) {
    // retry
  }
}

} // namespace

int64_t monotonic_ns() {
  timespec ts{};
  ::clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1'000'000'000 + ts.tv_nsec;
}

void report_ready(int worker) {
  char line[64];
  write_line(line, std::snprintf(line, sizeof(line), "r %d\n", worker));
}

void report_flip(int worker, uint64_t flip, int64_t latency_ns) {
  char line[96];
  write_line(line, std::snprintf(line, sizeof(line),
                                 "f %d %" PRIu64 " %" PRId64 "\n", worker,
                                 flip, latency_ns));
}

void report_error(int worker, const std::string& what) {
  char line[512];
  std::string text = what.substr(0, 400);
  for (auto& c : text)
    if (c == '\n')
      c = ' ';
  write_line(line, std::snprintf(line, sizeof(line), "e %d %s\n", worker,
                                 text.c_str()));
}

std::optional<report> report_reader::pop_line() {
  auto eol = buf_.find('\n');
  if (eol == std::string::npos)
    return std::nullopt;
  auto line = buf_.substr(0, eol);
  buf_.erase(0, eol + 1);
  report r;
  int consumed = 0;
  if (std::sscanf(line.c_str(), "r %d", &r.worker) == 1) {
    r.kind = report::ready;
  } else if (std::sscanf(line.c_str(), "f %d %" SCNu64 " %" SCNd64, &r.worker,
                         &r.flip_index, &r.latency_ns)
             == 3) {
    r.kind = report::flip;
  } else if (std::sscanf(line.c_str(), "e %d %n", &r.worker, &consumed) >= 1
             && consumed > 0) {
    r.kind = report::error;
    r.text = line.substr(static_cast<size_t>(consumed));
  } else {
    r.kind = report::error;
    r.worker = -1;
    r.text = "unreadable report line: " + line;
  }
  return r;
}

std::optional<report>
report_reader::next(std::chrono::steady_clock::time_point deadline) {
  for (;;) {
    if (auto r = pop_line())
      return r;
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - std::chrono::steady_clock::now());
    if (left.count() < 0 || closed_)
      return std::nullopt;
    pollfd pfd{fd_.get(), POLLIN, 0};
    auto n = ::poll(&pfd, 1, static_cast<int>(left.count()) + 1);
    if (n < 0 && errno == EINTR)
      continue;
    if (n <= 0)
      return std::nullopt;
    char chunk[4096];
    auto got = ::read(fd_.get(), chunk, sizeof(chunk));
    if (got < 0 && errno == EINTR)
      continue;
    if (got <= 0) {
      closed_ = true; // every writer is gone
      return std::nullopt;
    }
    buf_.append(chunk, static_cast<size_t>(got));
  }
}

} // namespace bench

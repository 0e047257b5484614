// Keeps the lines the library logs (spdlog's default logger) for a test to
// inspect; the previous logger comes back when it goes out of scope. Declare
// it before the actor system so that it outlives every actor.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <spdlog/sinks/ringbuffer_sink.h>
#include <spdlog/spdlog.h>

namespace cfgactors::test {

struct log_recorder {
  std::shared_ptr<spdlog::logger> previous = spdlog::default_logger();
  std::shared_ptr<spdlog::sinks::ringbuffer_sink_mt> sink
    = std::make_shared<spdlog::sinks::ringbuffer_sink_mt>(4096);

  log_recorder() {
    sink->set_pattern("%l %v");
    auto logger = std::make_shared<spdlog::logger>("test", sink);
    logger->set_level(spdlog::level::trace);
    spdlog::set_default_logger(logger);
  }

  ~log_recorder() {
    spdlog::set_default_logger(previous);
  }

  /// The lines logged so far that contain `needle`, as `level message`.
  std::vector<std::string> lines_with(const std::string& needle) const {
    std::vector<std::string> result;
    for (auto& line : sink->last_formatted())
      if (line.find(needle) != std::string::npos)
        result.push_back(line);
    return result;
  }

  bool contains(const std::string& needle) const {
    return !lines_with(needle).empty();
  }
};

} // namespace cfgactors::test

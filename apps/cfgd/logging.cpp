// Text and JSON-lines formatting of spdlog records. stdout is kept for the one
// "listening" line, so scripts can read it without parsing logs.
#include "logging.hpp"

#include <chrono>
#include <cstdio>
#include <ctime>
#include <memory>
#include <string>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/log_fields.hpp"

#include <spdlog/formatter.h>
#include <spdlog/sinks/stdout_sinks.h>
#include <spdlog/spdlog.h>

namespace cfgd {

namespace {

/// `2024-05-01T12:00:00.123Z`
std::string iso8601_utc(spdlog::log_clock::time_point tp) {
  using namespace std::chrono;
  auto ms = duration_cast<milliseconds>(tp.time_since_epoch()).count();
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  char buf[40];
  auto n = std::strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  std::snprintf(buf + n, sizeof(buf) - n, ".%03dZ",
                static_cast<int>(ms % 1000));
  return buf;
}

/// One JSON object per record: `ts`, `level`, then every `key=value` of the
/// library's `event=name ...` convention as a field of its own (numbers as
/// numbers, `errors=[...]` as an array), `msg` for the event or the prose.
class json_formatter : public spdlog::formatter {
public:
  void format(const spdlog::details::log_msg& msg,
              spdlog::memory_buf_t& dest) override {
    std::string_view text{msg.payload.data(), msg.payload.size()};
    auto level = spdlog::level::to_string_view(msg.level);
    // Ordered: `ts`, `level`, `msg` lead every line, as a reader expects.
    nlohmann::ordered_json line{
      {"ts", iso8601_utc(msg.time)},
      {"level", std::string_view{level.data(), level.size()}},
    };
    auto fields = cfgactors::log_fields(text);
    line["msg"] = std::move(fields["msg"]);
    for (auto& [key, value] : fields.items()) {
      if (key == "msg")
        continue;
      // A field named like the record's own keeps a trailing `_`.
      if (key == "ts" || key == "level" || key == "logger")
        line[key + "_"] = std::move(value);
      else
        line[key] = std::move(value);
    }
    if (msg.logger_name.size() > 0)
      line["logger"] = std::string_view{msg.logger_name.data(),
                                        msg.logger_name.size()};
    auto out = line.dump(-1, ' ', false,
                         nlohmann::ordered_json::error_handler_t::replace);
    out += '\n';
    dest.append(out.data(), out.data() + out.size());
  }

  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<json_formatter>();
  }
};

} // namespace

void setup_logging(log_format format) {
  auto logger = std::make_shared<spdlog::logger>(
    "", std::make_shared<spdlog::sinks::stderr_sink_mt>());
  if (format == log_format::json)
    logger->set_formatter(std::make_unique<json_formatter>());
  else
    logger->set_pattern("ts=%Y-%m-%dT%H:%M:%S.%eZ level=%l %v",
                        spdlog::pattern_time_type::utc);
  logger->set_level(spdlog::level::info);
  logger->flush_on(spdlog::level::info);
  spdlog::set_default_logger(std::move(logger));
}

} // namespace cfgd

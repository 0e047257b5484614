#include "log_level.hpp"

#include <algorithm>
#include <cctype>

#include <spdlog/spdlog.h>

namespace cfgd {

namespace {

/// Applies the level found in `snap`; a missing or unknown level leaves
/// the current one (the schema, if any, already refused bad values).
void apply(const cfgactors::snapshot& snap) {
  auto lvl = snap.effective.find(std::string_view{"logging.level"});
  if (lvl == nullptr || !lvl->is_string())
    return;
  auto text = lvl->get<std::string>();
  auto level = parse_level(text);
  if (!level) {
    spdlog::warn("event=log_level_ignored level=\"{}\" reason=unknown", text);
    return;
  }
  auto old = spdlog::default_logger_raw()->level();
  if (old == *level)
    return;
  // At the higher of both levels, so the line shows under the old level and
  // remains in the log a reader filters by the new one.
  auto at = std::min(std::max(old, *level), spdlog::level::critical);
  spdlog::default_logger_raw()->log(at, "event=log_level_changed level={}",
                                    text);
  spdlog::set_level(*level);
}

} // namespace

std::optional<spdlog::level::level_enum> parse_level(const std::string& text) {
  std::string x;
  for (auto c : text)
    x += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  if (x == "trace")
    return spdlog::level::trace;
  if (x == "debug")
    return spdlog::level::debug;
  if (x == "info")
    return spdlog::level::info;
  if (x == "warning" || x == "warn")
    return spdlog::level::warn;
  if (x == "error")
    return spdlog::level::err;
  if (x == "critical")
    return spdlog::level::critical;
  if (x == "off")
    return spdlog::level::off;
  return std::nullopt;
}

caf::expected<cfgactors::subscription>
follow_log_level(const cfgactors::node& n) {
  // Subscribe first, then read the current level: a change in between is
  // delivered to the callback, never lost.
  auto sub = n.subscribe("logging.level", [](const cfgactors::change& c) {
    apply(*c.after);
  });
  if (sub)
    apply(*n.snapshot());
  return sub;
}

} // namespace cfgd

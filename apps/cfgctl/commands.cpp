#include "commands.hpp"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cfgactors/parse.hpp"
#include "cfgactors/schema.hpp"

namespace cfgctl {

using nlohmann::json;

namespace {

std::string query(const context& ctx) {
  return ctx.consistency.empty() ? "" : "?consistency=" + ctx.consistency;
}

/// A value for humans: strings bare, everything else as compact JSON.
std::string show(const json& x) {
  return x.is_string() ? x.get<std::string>() : x.dump();
}

/// Common tail of every write: the new version, or the reasons.
int write_outcome(const context& ctx, const reply& r) {
  if (r.status != 200)
    return report_failure(r);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  auto status = r.body.value("status", std::string{"?"});
  auto hash = r.body.value("hash", std::string{});
  std::cout << status << " version " << r.body.value("version", 0)
            << (hash.empty() ? "" : " (" + hash.substr(0, 12) + ")") << '\n';
  if (!r.body.contains("satisfied"))
    return exit_ok;
  auto names = [&](const char* key) {
    std::string out;
    for (auto& n : r.body.value(key, json::array()))
      out += (out.empty() ? "" : ", ") + show(n);
    return out.empty() ? std::string{"-"} : out;
  };
  std::cout << "acked: " << names("acked") << '\n'
            << "missing: " << names("missing") << '\n';
  if (!r.body.value("satisfied", false)) {
    std::cout << "consistency " << r.body.value("consistency", "?")
              << " not reached in time\n";
    return exit_rejected;
  }
  return exit_ok;
}

std::string local_time(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  localtime_r(&secs, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%d %H:%M:%S");
  return out.str();
}

} // namespace

int cmd_get(const context& ctx, const std::string& path) {
  auto r = ctx.cli.get(path.empty() ? "/config" : "/config/" + url_encode(path));
  if (r.status != 200)
    return report_failure(r);
  if (ctx.json || !r.body.is_primitive())
    std::cout << r.body.dump(ctx.json ? -1 : 2) << '\n';
  else
    std::cout << show(r.body) << '\n';
  return exit_ok;
}

int cmd_set(const context& ctx, const std::string& path,
            const std::string& value, bool as_string) {
  // `2000` is a number, `true` a bool, `DEBUG` a string; --string keeps the
  // text as it is (`cfgctl set version 1.10 --string`).
  json parsed;
  if (as_string) {
    parsed = value;
  } else {
    try {
      parsed = json::parse(value);
    } catch (const json::exception&) {
      parsed = value;
    }
  }
  auto r = ctx.cli.send("PUT", "/config/" + url_encode(path) + query(ctx),
                        parsed.dump());
  return write_outcome(ctx, r);
}

int cmd_unset(const context& ctx, const std::string& path) {
  auto r = ctx.cli.send("DELETE", "/config/" + url_encode(path) + query(ctx),
                        "");
  return write_outcome(ctx, r);
}

int cmd_flag(const context& ctx, const std::string& name, bool on,
             bool create) {
  auto q = query(ctx);
  if (create)
    q += (q.empty() ? "?" : "&") + std::string{"create=true"};
  auto r = ctx.cli.send("POST", "/features/" + url_encode(name) + q,
                        json{{"enabled", on}}.dump());
  return write_outcome(ctx, r);
}

int cmd_rollback(const context& ctx, uint64_t version) {
  auto r = ctx.cli.send("POST",
                        "/rollback/" + std::to_string(version) + query(ctx),
                        "");
  return write_outcome(ctx, r);
}

int cmd_history(const context& ctx, int limit) {
  auto r = ctx.cli.get("/history?limit=" + std::to_string(limit));
  if (r.status != 200)
    return report_failure(r);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  std::cout << std::left << std::setw(9) << "VERSION" << std::setw(21)
            << "TIME" << std::setw(14) << "HASH"
            << std::setw(24) << "ORIGIN" << std::setw(16) << "AUTHOR"
            << "REASON\n";
  // A server of an older build sends no author or reason: shown as `-`.
  auto or_dash = [](const json& row, const char* key) {
    auto text = row.value(key, std::string{});
    return text.empty() ? std::string{"-"} : text;
  };
  // 64-bit defaults: with an `int` one, value() converts to int and a
  // millisecond timestamp wraps (the TIME column showed January 1970).
  for (auto& row : r.body)
    std::cout << std::left << std::setw(9)
              << row.value("version", uint64_t{0}) << std::setw(21)
              << local_time(row.value("timestamp_ms", int64_t{0}))
              << std::setw(14) << row.value("hash", "").substr(0, 12)
              << std::setw(23) << row.value("origin", "") << ' '
              << std::setw(15) << or_dash(row, "author") << ' '
              << or_dash(row, "reason") << '\n';
  return exit_ok;
}

int cmd_diff(const context& ctx, uint64_t from, uint64_t to) {
  auto r = ctx.cli.get("/diff?from=" + std::to_string(from)
                       + "&to=" + std::to_string(to));
  if (r.status != 200)
    return report_failure(r);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  auto& changes = r.body["changes"];
  if (changes.empty())
    std::cout << "no differences between " << from << " and " << to << '\n';
  for (auto& [path, c] : changes.items()) {
    if (c.contains("added"))
      std::cout << "+ " << path << ": " << show(c["added"]) << '\n';
    else if (c.contains("removed"))
      std::cout << "- " << path << ": " << show(c["removed"]) << '\n';
    else
      std::cout << "~ " << path << ": " << show(c["old"]) << " -> "
                << show(c["new"]) << '\n';
  }
  return exit_ok;
}

int cmd_nodes(const context& ctx) {
  auto r = ctx.cli.get("/nodes");
  if (r.status != 200)
    return report_failure(r);
  std::cout << r.body.dump(ctx.json ? -1 : 2) << '\n';
  return exit_ok;
}

int cmd_resync(const context& ctx) {
  auto r = ctx.cli.send("POST", "/cluster/resync", "");
  if (r.status != 200)
    return report_failure(r);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  std::cout << "resynced: version " << r.body.value("version", 0) << " hash "
            << r.body.value("hash", std::string{"?"}) << " from cluster "
            << r.body.value("cluster_id", std::string{"?"}) << '\n';
  return exit_ok;
}

int cmd_sources(const context& ctx) {
  auto r = ctx.cli.get("/sources");
  if (r.status != 200)
    return report_failure(r);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  for (auto& s : r.body["sources"]) {
    std::cout << std::left << std::setw(6) << s.value("kind", "?")
              << std::setw(10) << s.value("state", "?")
              << s.value("layer", "") << '\n';
    if (!s.value("last_error", "").empty())
      std::cout << "      last error: " << s.value("last_error", "") << '\n';
  }
  return exit_ok;
}

int cmd_validate(const std::string& file, const std::string& schema_file,
                 bool as_json) {
  auto doc = cfgactors::parse_file(file);
  cfgactors::validation_errors errors;
  if (!doc) {
    // `file:line:column: reason`, the way compilers print it.
    if (as_json)
      std::cout << json{{"valid", false},
                        {"parse_error", doc.error->str()}}.dump()
                << '\n';
    else
      std::cout << doc.error->str() << '\n';
    return exit_rejected;
  }
  if (!schema_file.empty()) {
    std::string err;
    auto schema = cfgactors::json_schema::from_file(schema_file, &err);
    if (!schema) {
      std::cerr << "cfgctl: schema: " << err << '\n';
      return exit_usage;
    }
    schema->validate(doc.value, errors);
  }
  if (as_json) {
    auto out = json::array();
    for (auto& e : errors)
      out.push_back({{"path", e.path}, {"rule", e.rule},
                     {"message", e.message}});
    std::cout << json{{"valid", errors.empty()}, {"errors", out}}.dump()
              << '\n';
  } else if (errors.empty()) {
    std::cout << file << ": valid"
              << (schema_file.empty() ? "" : " against " + schema_file)
              << '\n';
  } else {
    for (auto& e : errors)
      std::cout << file << ": " << e.str() << '\n';
  }
  return errors.empty() ? exit_ok : exit_rejected;
}

} // namespace cfgctl

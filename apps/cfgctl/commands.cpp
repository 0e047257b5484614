#include "commands.hpp"

#include <chrono>
#include <ctime>
#include <iomanip>
#include <iostream>
#include <sstream>

#include "cfgactors/path.hpp"

#include "show.hpp"
#include "table.hpp"

namespace cfgctl {

using nlohmann::json;

namespace {

/// A dry run's answer: what the write would change, one path a line.
int dry_run_outcome(const reply& r) {
  std::cout << "dry run: " << r.body.value("status", std::string{"?"})
            << " on version " << r.body.value("version", 0)
            << ", nothing committed\n";
  auto changes = r.body.value("changes", json::object());
  for (auto& [path, change] : changes.items()) {
    if (change.contains("added"))
      std::cout << "  " << path << ": added " << change["added"].dump() << '\n';
    else if (change.contains("removed"))
      std::cout << "  " << path << ": removed " << change["removed"].dump()
                << '\n';
    else
      std::cout << "  " << path << ": " << change["old"].dump() << " -> "
                << change["new"].dump() << '\n';
  }
  return exit_ok;
}

} // namespace

std::string query(const context& ctx) {
  std::string q;
  if (!ctx.consistency.empty())
    q += "?consistency=" + ctx.consistency;
  if (ctx.dry_run)
    q += (q.empty() ? "?" : "&") + std::string{"dry_run=1"};
  return q;
}

/// Common tail of every write: the new version, or the reasons. Acks are
/// shown only when the write asked for a consistency level beyond local;
/// one not reached in time is exit_unconfirmed in both modes (committed).
int write_outcome(const context& ctx, const reply& r) {
  if (r.status != 200)
    return report_failure(r, ctx.json);
  auto level = r.body.value("consistency", std::string{"local"});
  auto waited = r.body.contains("satisfied") && level != "local";
  auto satisfied = !waited || r.body.value("satisfied", false);
  auto code = satisfied ? exit_ok : exit_unconfirmed;
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return code;
  }
  if (r.body.value("dry_run", false))
    return dry_run_outcome(r);
  auto status = r.body.value("status", std::string{"?"});
  auto hash = r.body.value("hash", std::string{});
  std::cout << status << " version " << r.body.value("version", uint64_t{0})
            << (hash.empty() ? "" : " (" + hash.substr(0, 12) + ")") << '\n';
  if (!waited)
    return code;
  auto names = [&](const char* key) {
    std::string out;
    for (auto& n : r.body.value(key, json::array()))
      out += (out.empty() ? "" : ", ") + show(n);
    return out.empty() ? std::string{"none"} : out;
  };
  std::cout << "acked: " << names("acked") << '\n';
  if (!r.body.value("missing", json::array()).empty())
    std::cout << "missing: " << names("missing") << '\n';
  if (!satisfied)
    std::cerr << "cfgctl: " << r.what << ": committed as version "
              << r.body.value("version", uint64_t{0}) << ", but consistency "
              << level << " was not reached in time (missing: "
              << names("missing") << ")\n";
  return code;
}

namespace {

/// `2026-12-06T03:04:05Z`: UTC, so that every operator reads the same time.
std::string utc_time(int64_t ms) {
  std::time_t secs = static_cast<std::time_t>(ms / 1000);
  std::tm tm{};
  gmtime_r(&secs, &tm);
  std::ostringstream out;
  out << std::put_time(&tm, "%Y-%m-%dT%H:%M:%SZ");
  return out.str();
}

/// What one layer says about a path (GET /layers gives each layer's data).
struct layer_effect {
  enum kind_t { none, sets, removes, replaces } kind = none;
  json value; ///< sets: the value; replaces: the ancestor's value
  std::string at; ///< replaces: the ancestor's path
};

/// Walks `data` along `path`: a layer sets the path, removes it (`null` at
/// the path or above), replaces it (a non-object above: the merge replaces
/// what is no object; an array is replaced whole), or says nothing.
layer_effect effect_of(const json& data, const cfgactors::config_path& path) {
  layer_effect out;
  const json* cur = &data;
  cfgactors::config_path walked;
  for (std::size_t i = 0; i < path.segments.size(); ++i) {
    auto& seg = path.segments[i];
    if (i > 0 && cur->is_null()) {
      out.kind = layer_effect::removes;
      return out;
    }
    if (auto key = std::get_if<std::string>(&seg)) {
      if (!cur->is_object()) {
        if (i > 0)
          out = layer_effect{layer_effect::replaces, *cur, walked.str()};
        return out;
      }
      auto it = cur->find(*key);
      if (it == cur->end())
        return out;
      cur = &*it;
    } else {
      auto index = std::get<std::size_t>(seg);
      if (!cur->is_array() || index >= cur->size()) {
        if (i > 0)
          out = layer_effect{layer_effect::replaces, *cur, walked.str()};
        return out;
      }
      cur = &(*cur)[index];
    }
    walked.segments.push_back(seg);
  }
  if (cur->is_null())
    out.kind = layer_effect::removes;
  else
    out = layer_effect{layer_effect::sets, *cur, {}};
  return out;
}

/// `5`, `(removed)`, `(replaced: a = 5)`.
std::string describe(const layer_effect& e) {
  switch (e.kind) {
    case layer_effect::sets:
      return show(e.value);
    case layer_effect::removes:
      return "(removed)";
    case layer_effect::replaces:
      return "(replaced: " + e.at + " = " + show(e.value) + ")";
    case layer_effect::none:
      break;
  }
  return "(not set)";
}

json effect_json(const std::string& layer, const layer_effect& e) {
  json out{{"layer", layer}};
  if (e.kind == layer_effect::sets)
    out["value"] = e.value;
  else if (e.kind == layer_effect::removes)
    out["removed"] = true;
  else
    out["replaced_at"] = e.at, out["value"] = e.value;
  return out;
}

/// cfgctl get --explain PATH: from GET /layers (secrets masked there as
/// GET /config masks them), which layer wins and what it shadows.
int explain(const context& ctx, const std::string& text) {
  std::string error;
  auto path = cfgactors::config_path::parse(text, &error);
  if (!path || path->empty()) {
    std::cerr << "cfgctl: get --explain: bad path '" << text
              << "': " << (path ? std::string{"give a path"} : error) << '\n';
    return exit_usage;
  }
  auto r = ctx.cli.get("/layers");
  if (r.status != 200)
    return report_failure(r, ctx.json);
  if (!r.body.is_object() || !r.body["layers"].is_array()) {
    std::cerr << "cfgctl: " << r.what << ": unexpected answer (no layers)\n";
    return exit_unreachable;
  }
  // Highest precedence first: the first with an effect wins.
  std::vector<std::pair<std::string, layer_effect>> effects;
  auto& layers = r.body["layers"];
  for (auto i = layers.rbegin(); i != layers.rend(); ++i) {
    auto e = effect_of((*i)["data"], *path);
    if (e.kind != layer_effect::none)
      effects.emplace_back((*i).value("name", std::string{"?"}), std::move(e));
  }
  auto version = r.body.value("version", uint64_t{0});
  if (effects.empty()) {
    if (ctx.json)
      std::cout << json{{"path", text}, {"version", version},
                        {"layer", nullptr}, {"shadows", json::array()}}.dump()
                << '\n';
    else
      std::cerr << "cfgctl: " << text << ": not set in any layer (version "
                << version << ")\n";
    return exit_rejected;
  }
  auto& [winner, top] = effects.front();
  if (ctx.json) {
    auto out = effect_json(winner, top);
    out["path"] = text;
    out["version"] = version;
    out["shadows"] = json::array();
    for (std::size_t i = 1; i < effects.size(); ++i)
      out["shadows"].push_back(effect_json(effects[i].first,
                                           effects[i].second));
    std::cout << out.dump() << '\n';
    return exit_ok;
  }
  // An object merges with objects below it; anything else shadows them.
  auto merges = top.kind == layer_effect::sets && top.value.is_object();
  std::string below;
  for (std::size_t i = 1; i < effects.size(); ++i)
    below += (below.empty() ? "" : ", ") + effects[i].first + ": "
             + describe(effects[i].second);
  std::cout << winner << ": " << describe(top);
  if (!below.empty())
    std::cout << " (" << (merges ? "merged over " : "shadows ") << below
              << ")";
  std::cout << '\n';
  return exit_ok;
}

} // namespace

int cmd_get(const context& ctx, const std::string& path, bool why) {
  if (why)
    return explain(ctx, path);
  auto r = ctx.cli.get(path.empty() ? "/config" : "/config/" + url_encode(path));
  if (r.status != 200)
    return report_failure(r, ctx.json);
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
    return report_failure(r, ctx.json);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  std::cout << std::left << std::setw(9) << "VERSION" << std::setw(21)
            << "TIME (UTC)" << std::setw(14) << "HASH"
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
              << utc_time(row.value("timestamp_ms", int64_t{0}))
              << std::setw(14) << row.value("hash", "").substr(0, 12)
              << std::setw(23) << row.value("origin", "") << ' '
              << std::setw(15) << or_dash(row, "author") << ' '
              << or_dash(row, "reason") << '\n';
  return exit_ok;
}

int cmd_diff(const context& ctx, std::optional<uint64_t> from,
             std::optional<uint64_t> to) {
  auto last = !from || !to;
  auto r = ctx.cli.get(last ? std::string{"/diff?last=1"}
                            : "/diff?from=" + std::to_string(*from)
                                + "&to=" + std::to_string(*to));
  if (r.status != 200)
    return report_failure(r, ctx.json);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  auto a = r.body.value("from", uint64_t{0});
  auto b = r.body.value("to", uint64_t{0});
  auto& changes = r.body["changes"];
  if (last)
    std::cout << "last change: version " << a << " -> " << b << '\n';
  if (changes.empty())
    std::cout << "no differences between " << a << " and " << b << '\n';
  for (auto& [path, c] : changes.items()) {
    if (c.contains("added"))
      std::cout << "+ " << path << ": " << show(c["added"]) << '\n';
    else if (c.contains("removed"))
      std::cout << "- " << path << ": " << show(c["removed"])
                << " -> (removed)\n";
    else
      std::cout << "~ " << path << ": " << show(c["old"]) << " -> "
                << show(c["new"]) << '\n';
  }
  return exit_ok;
}

int cmd_nodes(const context& ctx) {
  auto r = ctx.cli.get("/nodes");
  if (r.status != 200)
    return report_failure(r, ctx.json);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  table t{{"NAME", "ROLE", "STATE", "VERSION", "LAG", "HASH", "NOTE"}};
  std::size_t others = 0;
  for (auto& n : r.body.value("nodes", json::array())) {
    auto role = n.value("role", std::string{"?"});
    others += role != "primary";
    auto note = n.value("address", std::string{});
    if (auto reason = n.value("reason", std::string{}); !reason.empty())
      note = reason;
    t.add({n.value("name", std::string{"?"}), role,
           n.value("state", std::string{"?"}),
           std::to_string(n.value("version", uint64_t{0})),
           n.contains("lag") ? show(n["lag"]) : std::string{"-"},
           n.value("hash", std::string{}).substr(0, 12),
           note.empty() ? std::string{"-"} : note});
  }
  if (t.empty()) {
    std::cout << "no nodes known\n";
    return exit_ok;
  }
  t.print(std::cout);
  if (others == 0 && r.body["nodes"].size() == 1
      && r.body["nodes"][0].value("role", "") == "primary")
    std::cout << "no replicas connected\n";
  return exit_ok;
}

int cmd_resync(const context& ctx) {
  auto r = ctx.cli.send("POST", "/cluster/resync", "");
  if (r.status != 200)
    return report_failure(r, ctx.json);
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
    return report_failure(r, ctx.json);
  if (ctx.json) {
    std::cout << r.body.dump() << '\n';
    return exit_ok;
  }
  table t{{"KIND", "STATE", "LAYER", "VERSION", "COMMITTED", "REJECTED",
           "LAST ERROR"}};
  for (auto& s : r.body.value("sources", json::array())) {
    auto error = s.value("last_error", std::string{});
    t.add({s.value("kind", std::string{"?"}), s.value("state", std::string{"?"}),
           s.value("layer", std::string{"-"}),
           std::to_string(s.value("version", uint64_t{0})),
           std::to_string(s.value("committed", uint64_t{0})),
           std::to_string(s.value("rejected", uint64_t{0})),
           error.empty() ? std::string{"-"} : error});
  }
  if (t.empty()) {
    std::cout << "no sources (only the runtime layer: cfgctl set, flag, "
                 "unset)\n";
    return exit_ok;
  }
  t.print(std::cout);
  return exit_ok;
}

} // namespace cfgctl

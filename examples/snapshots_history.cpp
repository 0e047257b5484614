// The seed's "Configuration Snapshots" (ConfigSnapshot, ConfigHistory): every
// version is an immutable snapshot with a SHA-256 hash, a timestamp and its
// origin; a write that changes nothing makes no version; history() lists the
// versions, diff(a, b) shows what changed in the seed's
// {path: {old, new} | {added} | {removed}} view, and rollback(v) restores a
// version as a new one whose hash equals the old version's.
#include <iostream>
#include <string>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json")
                                .history(10)); // max_snapshots
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  auto first = n->snapshot();
  std::cout << "config_snapshot version=" << first->version
            << " hash=" << first->hash.substr(0, 8) << '\n';
  auto a = n->set("buffer_size", 2048);
  auto b = n->transaction()
             .set("logging.level", "DEBUG")
             .unset("database.pool_size")
             .merge_patch({{"ttl_s", 60}}, "cache")
             .origin("api:alice")
             .commit();
  check(a.result.status == write_status::committed
          && b.result.status == write_status::committed,
        "both writes commit");
  // has_changed() is false: same content, same hash, no version.
  auto same = n->set("buffer_size", 2048);
  std::cout << "same value again: " << same.result.describe() << '\n';
  check(same.result.status == write_status::unchanged
          && n->version() == b.result.version,
        "an unchanged config makes no version");
  auto history = n->history();
  check(history && history->size() == 3, "three versions in the history");
  if (history)
    for (auto& v : *history)
      std::cout << "  version=" << v.version << " hash="
                << v.hash.substr(0, 8) << " timestamp_ms=" << v.timestamp_ms
                << " origin=" << v.origin << '\n';
  check(history && history->front().origin == "api:alice"
          && history->front().hash == n->snapshot()->hash,
        "the newest entry is the current snapshot, with its origin");
  check(a.result.hash != first->hash && b.result.hash != a.result.hash,
        "every change has its own hash");
  // get_changes(): from the first version to the current one.
  auto d = n->diff(first->version, b.result.version);
  check(static_cast<bool>(d), "diff answers");
  if (d) {
    std::cout << "changes " << d->from << " -> " << d->to << ":\n"
              << d->view.dump(2) << '\n';
    auto expected = json{
      {"buffer_size", {{"old", 1024}, {"new", 2048}}},
      {"logging.level", {{"old", "INFO"}, {"new", "DEBUG"}}},
      {"database.pool_size", {{"removed", 10}}},
      {"cache", {{"added", {{"ttl_s", 60}}}}},
    };
    check(d->view == expected, "the diff shows every change and only those");
    check(d->patch.is_array() && d->patch.size() == 4,
          "and so does the RFC 6902 patch");
  }
  // Back to the first version: a new version with the first one's hash.
  auto back = n->rollback(first->version);
  std::cout << "rollback to " << first->version << ": "
            << back.result.describe() << " hash="
            << back.result.hash.substr(0, 8) << '\n';
  check(back.result.status == write_status::committed
          && back.result.version == b.result.version + 1,
        "the rollback is a new version");
  check(back.result.hash == first->hash, "with the first version's hash");
  check(n->get<int>("buffer_size", 0) == 1024
          && n->get_json("cache").is_null()
          && n->get<int>("database.pool_size", 0) == 10,
        "and the first version's values");
  auto undone = n->diff(first->version, back.result.version);
  check(undone && undone->view.empty(), "nothing differs from the first");
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// The seed's "Monitoring & Metrics": the counters a node keeps by itself,
// read after a few good, unchanged and bad writes and printed like the seed's
// config_updates_total, config_failures_total, config_version and
// config_reload_duration_seconds. The validator counts outcomes, failures by
// rule and a commit latency histogram; the topic router counts deliveries.
// `node::stats()` hands out both.
#include <atomic>
#include <chrono>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json"));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  auto before = n->stats(); // the file's load is counted already
  if (!before || !before->validator) {
    std::cout << "FAILED: no stats\n";
    return 1;
  }
  uint64_t committed = 0;
  auto write = [&](std::vector<operation> ops) {
    auto r = n->write(write_request{std::move(ops), "example", 0, {}}).result;
    committed += r.status == write_status::committed ? 1 : 0;
    std::cout << "config_update " << r.describe() << '\n';
  };
  // Every version since subscribing, delivered or folded into one delivered.
  std::atomic<uint64_t> covered{0};
  auto sub = n->subscribe("", [&](const change& c) {
    covered += 1 + c.skipped;
  });
  write({operation::set("buffer_size", 2048)});
  write({operation::set("logging.level", "DEBUG")});
  write({operation::set("buffer_size", 2048)}); // unchanged
  write({operation::set("logging.level", "LOUD")});
  write({operation::set("logging.level", "LOUD"),
         operation::set("buffer_size", 5)});
  write({operation::set("timeouts.read_ms", 8000),
         operation::set("logging.level", "INFO")});
  // Once every subscriber has handled everything, the router's books close.
  caf::expected<node_stats> s = before;
  for (int i = 0; i < 400; ++i) {
    s = n->stats();
    if (!s || (s->router.in_flight == 0 && s->router.pending == 0
               && s->router.version == n->version()))
      break;
    std::this_thread::sleep_for(25ms);
  }
  if (!s || !s->validator) {
    std::cout << "FAILED: no stats\n";
    return 1;
  }
  auto& v = *s->validator;
  auto& r = s->router;
  auto& v0 = *before->validator;
  std::cout << "config_updates_total{status=\"success\"} " << v.committed
            << "\nconfig_updates_total{status=\"unchanged\"} " << v.unchanged
            << "\nconfig_updates_total{status=\"rejected\"} " << v.rejected
            << '\n';
  for (auto& [rule, count] : v.failures_by_rule)
    std::cout << "config_failures_total{reason=\"" << rule << "\"} " << count
              << '\n';
  auto current = n->snapshot();
  std::cout << "config_version " << current->version << "\nconfig_hash "
            << current->hash.substr(0, 8) << '\n';
  uint64_t cumulative = 0;
  for (size_t i = 0; i < v.commit_latency_counts.size(); ++i) {
    cumulative += v.commit_latency_counts[i];
    auto le = i < commit_latency_bounds.size()
                ? json(commit_latency_bounds[i]).dump()
                : std::string{"+Inf"};
    std::cout << "config_reload_duration_seconds_bucket{le=\"" << le << "\"} "
              << cumulative << '\n';
  }
  std::cout << "config_reload_duration_seconds_sum " << v.commit_latency_sum
            << "\nconfig_reload_duration_seconds_count " << cumulative
            << "\nconfig_subscribers " << r.subscribers
            << "\nconfig_changes_delivered_total " << r.delivered
            << "\nconfig_changes_conflated_total " << r.conflated << '\n';
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  check(committed == 3 && v.committed - v0.committed == committed
          && v.unchanged - v0.unchanged == 1 && v.rejected - v0.rejected == 2,
        "3 commits, 1 unchanged and 2 rejections counted");
  check(v.failures_by_rule.size() == 2 && v.failures_by_rule["schema.enum"] == 2
          && v.failures_by_rule["schema.minimum"] == 1,
        "failures counted by rule: LOUD twice, buffer_size 5 once");
  check(cumulative == v.committed && v.commit_latency_sum > 0,
        "one latency observation per commit");
  check(current->version == v.committed && r.version == current->version,
        "node and router at the last committed version");
  // Ours and the node's own (it feeds the snapshot cell readers use).
  check(sub && r.subscribers == 2 && covered == committed,
        "every version since subscribing delivered or folded in");
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

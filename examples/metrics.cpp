// The seed's "Monitoring & Metrics": the counters the pipeline keeps by
// itself, read after a few good, unchanged and bad writes and printed like
// the seed's config_updates_total, config_failures_total, config_version and
// config_reload_duration_seconds. The validator counts outcomes, failures by
// rule and a commit latency histogram; the topic router counts deliveries.
// Both answer `stats_atom`. (The node facade does not hand out its
// validator, so this example spawns the pipeline itself.)
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

caf::behavior counting_subscriber(caf::event_based_actor*,
                                  std::shared_ptr<std::atomic<int>> seen) {
  return {[seen](const change&) { ++*seen; }};
}

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  std::string err;
  auto schema = json_schema::from_file(dir + "/schema.json", &err);
  auto doc = parse_file(dir + "/config.yaml");
  if (!schema || !doc) {
    std::cout << "FAILED: " << (schema ? doc.error->str() : err) << '\n';
    return 1;
  }
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  pipeline_options opts;
  opts.validation.schema = schema;
  auto nodes = spawn_pipeline(sys, opts);
  caf::scoped_actor self{sys};
  // Ask an actor and wait for its answer (T{} when it gives none).
  auto ask = [&](auto dest, auto result, auto... xs) {
    self->request(dest, 10s, xs...)
      .receive([&](decltype(result)& x) { result = std::move(x); },
               [&](caf::error& e) {
                 std::cout << "FAILED: " << sys.render(e) << '\n';
               });
    return result;
  };
  uint64_t committed = 0;
  auto write = [&](std::vector<operation> ops) {
    auto r = ask(nodes.validator, write_result{}, write_atom::value,
                 write_request{std::move(ops), "example", 0, {}});
    committed += r.status == write_status::committed ? 1 : 0;
    std::cout << "config_update " << r.describe() << '\n';
  };
  write({operation::replace_layer("file:config.yaml", doc.value)});
  auto seen = std::make_shared<std::atomic<int>>(0);
  auto listener = sys.spawn(counting_subscriber, seen);
  ask(nodes.store, uint64_t{0}, subscribe_atom::value, std::string{},
      caf::actor_cast<subscriber_actor>(listener));
  auto committed_before = committed;
  write({operation::set("buffer_size", 2048)});
  write({operation::set("logging.level", "DEBUG")});
  write({operation::set("buffer_size", 2048)}); // unchanged
  write({operation::set("logging.level", "LOUD")});
  write({operation::set("logging.level", "LOUD"),
         operation::set("buffer_size", 5)});
  write({operation::set("timeouts.read_ms", 8000),
         operation::set("logging.level", "INFO")});
  auto v = ask(nodes.validator, validator_stats{}, stats_atom::value);
  auto current = ask(nodes.store, snapshot_ptr{}, get_atom::value);
  if (!current) {
    shutdown(nodes);
    return 1;
  }
  // Once the subscriber has handled everything, the router's books close.
  router_stats r;
  for (int i = 0; i < 400; ++i) {
    r = ask(nodes.router, router_stats{}, stats_atom::value);
    if (r.in_flight == 0 && r.pending == 0 && r.version == current->version)
      break;
    std::this_thread::sleep_for(25ms);
  }
  std::cout << "config_updates_total{status=\"success\"} " << v.committed
            << "\nconfig_updates_total{status=\"unchanged\"} " << v.unchanged
            << "\nconfig_updates_total{status=\"rejected\"} " << v.rejected
            << '\n';
  for (auto& [rule, count] : v.failures_by_rule)
    std::cout << "config_failures_total{reason=\"" << rule << "\"} " << count
              << '\n';
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
  check(committed == 4 && v.committed == committed && v.unchanged == 1
          && v.rejected == 2,
        "4 commits, 1 unchanged and 2 rejections counted");
  check(v.failures_by_rule.size() == 2 && v.failures_by_rule["schema.enum"] == 2
          && v.failures_by_rule["schema.minimum"] == 1,
        "failures counted by rule: LOUD twice, buffer_size 5 once");
  check(cumulative == v.committed && v.commit_latency_sum > 0,
        "one latency observation per commit");
  check(current->version == committed && r.version == current->version,
        "store and router at the last committed version");
  check(r.subscribers == 1 && r.delivered == static_cast<uint64_t>(*seen)
          && r.delivered + r.conflated == committed - committed_before,
        "every version since subscribing delivered or conflated");
  self->send_exit(listener, caf::exit_reason::user_shutdown);
  shutdown(nodes);
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

// bench/catch_up: a replica that missed many versions joining again. A
// primary (pipeline + primary behind its link gate, with a cluster secret,
// real TCP on loopback) holds a config of --keys keys; a replica in another
// process follows it. The primary's link is cut, --versions one-key versions
// are committed while the replica cannot reach it, and the link comes back:
// the figure is the time from the cluster port opening again until the
// replica's subscriber has the newest version. Run with the store's history
// at its default (the replica's version is gone: full snapshot) and large
// enough to hold every version (patch), next to two baselines measured the
// same way: a replica that missed nothing, and a fresh replica joining from
// version 0.
//
//   catch_up [--keys 10000] [--versions 10000] [--max-rss-mib 12288]
//
// The same binary is the replica: `--role=worker --port P` (the secret comes
// in the environment, never on a command line other users can read).
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <optional>
#include <random>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cfgactors/cfgactors.hpp"
#include "counts.hpp"
#include "usage.hpp"
#include "verdict.hpp"
#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "core/internal_actor_types.hpp"
#include "link/link_dialer.hpp"
#include "link/primary_gate.hpp"
#include "pipeline/pipeline_core.hpp"

#include "propagation/process.hpp"
#include "propagation/report.hpp"

using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;
using bench::rss_bytes;

namespace {

/// Where the worker finds the cluster secret.
constexpr const char* secret_env = "CFG_BENCH_CLUSTER_SECRET";

/// The replica's reconnect interval while the primary is unreachable: each
/// figure includes up to this much waiting for the next attempt.
constexpr auto retry_interval = 2ms;

struct node_config : cfgactors::system_config {
  node_config() {
    load<caf::io::middleman>();
  }
};

cfgactors::detail::link_options link_options(const std::string& secret) {
  cfgactors::detail::link_options out;
  out.secret = secret;
  return out;
}

/// `keys` integers in sections of 100: s0.k0 .. s{n}.k99.
cfgactors::json make_config(int keys) {
  auto cfg = cfgactors::json::object();
  for (int i = 0; i < keys; ++i)
    cfg["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  return cfg;
}

// -- the replica (worker process) -------------------------------------------

/// Reports each version it is told of (`flip` line: the version and the
/// CLOCK_MONOTONIC receipt time), and a `ready 1` line for each notice that
/// the replica lost its primary.
cfgactors::subscriber_actor::behavior_type
version_reporter(cfgactors::subscriber_actor::pointer, int worker) {
  return {[worker](const cfgactors::change& c) {
    auto now = bench::monotonic_ns();
    if (c.stale)
      bench::report_ready(1);
    else
      bench::report_flip(worker, c.version, now);
  }};
}

int run_worker(uint16_t port) {
  const char* secret = std::getenv(secret_env);
  if (!secret || std::string{secret}.size() < 16) {
    bench::report_error(0, std::string{"no cluster secret in "} + secret_env);
    return 1;
  }
  node_config cfg;
  caf::actor_system sys{cfg};
  cfgactors::replica_options ropts;
  ropts.node = "catch-up";
  ropts.host = "127.0.0.1";
  ropts.port = port;
  ropts.secret = secret;
  ropts.min_backoff = retry_interval;
  ropts.max_backoff = retry_interval;
  auto link = std::make_shared<cfgactors::detail::link_context>();
  ropts.dialer = std::make_shared<cfgactors::detail::link_dialer>(
    link, link_options(secret));
  auto replica = cfgactors::spawn_replica(sys, ropts);
  // With an argument: CAF 0.17 spawns a function actor without one through
  // a null std::shared_ptr<std::tuple<>>, which UBSan reports (reference
  // binding to null) in the sanitizer build.
  auto sub = sys.spawn(version_reporter, 0);
  std::string error;
  {
    caf::scoped_actor self{sys};
    self
      ->request(replica, 10s, cfgactors::subscribe_atom::value,
                std::string{"s0"}, sub)
      .receive([](uint64_t) {},
               [&](caf::error& err) { error = sys.render(err); });
  }
  if (!error.empty()) {
    bench::report_error(0, "subscribe: " + error);
    return 1;
  }
  bench::report_ready(0);
  bench::await_lifeline_end();
  caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
  link->stop();
  return 0;
}

// -- the primary (coordinator) ----------------------------------------------

/// A primary whose cluster port can be closed (every link cut) and opened
/// again on the same port.
class primary_side {
public:
  primary_side(std::size_t history, std::string secret)
    : sys_(cfg_), self_(sys_), secret_(std::move(secret)) {
    cfgactors::pipeline_options popts;
    popts.storage.history_size = history;
    pipe_ = *cfgactors::detail::open_pipeline_core(sys_, popts);
    cfgactors::primary_options opts;
    opts.node = "primary";
    opts.secret = secret_;
    opts.cluster_id = pipe_.cluster_id;
    opts.epoch = pipe_.epoch;
    primary_ = cfgactors::spawn_primary(sys_, pipe_.store, pipe_.validator,
                                        opts);
  }

  ~primary_side() {
    close();
    caf::anon_send_exit(primary_, caf::exit_reason::user_shutdown);
    cfgactors::shutdown(pipe_.handles());
  }

  /// Opens the cluster port (`port` 0: any free one).
  std::string open(uint16_t port) {
    link_ = std::make_shared<cfgactors::detail::link_context>();
    auto gate = cfgactors::detail::open_primary_gate(
      sys_, link_, primary_, "127.0.0.1", port, link_options(secret_));
    if (!gate)
      return "cluster port: " + sys_.render(gate.error());
    gate_ = *gate;
    port_ = gate_->port();
    return {};
  }

  /// Closes the port and every link through it.
  void close() {
    if (gate_)
      gate_->close();
    gate_ = nullptr;
    if (link_)
      link_->stop();
    link_ = nullptr;
  }

  uint16_t port() const {
    return port_;
  }

  /// Commits `n` one-key versions, 64 in flight; the newest version, or 0
  /// on a failure (in `error`). Stops when the RSS passes `max_rss`.
  uint64_t commit(int first_value, int n, int64_t max_rss,
                  std::string& error) {
    int sent = 0;
    int answered = 0;
    uint64_t last = 0;
    auto send_one = [&] {
      self_->send(pipe_.validator, cfgactors::write_atom::value,
                  cfgactors::write_request{
                    {cfgactors::operation::set("s0.k0", first_value + ++sent)},
                    "bench",
                    0,
                    {}});
    };
    while (sent < std::min(64, n))
      send_one();
    while (answered < n && error.empty()) {
      self_->receive(
        [&](cfgactors::write_result& r) {
          if (r.status != cfgactors::write_status::committed)
            error = r.describe();
          last = std::max(last, r.version);
          ++answered;
          if (sent < n)
            send_one();
        },
        caf::after(30s) >> [&] { error = "a write got no answer in 30 s"; });
      if (answered % 256 == 0 && max_rss > 0 && rss_bytes() > max_rss)
        error = "RSS " + std::to_string(rss_bytes() >> 20) + " MiB over "
                + std::to_string(max_rss >> 20) + " MiB after "
                + std::to_string(answered) + " versions";
    }
    // Answers of the writes still in flight when an error stopped us.
    while (answered < sent) {
      bool timed_out = false;
      self_->receive([&](cfgactors::write_result&) { ++answered; },
                     caf::after(30s) >> [&] { timed_out = true; });
      if (timed_out)
        break;
    }
    return error.empty() ? last : 0;
  }

  std::string write_config(int keys, uint64_t& version) {
    std::string error;
    self_
      ->request(pipe_.validator, 60s, cfgactors::write_atom::value,
                cfgactors::write_request{
                  {cfgactors::operation::replace_layer(
                    std::string{cfgactors::defaults_layer}, make_config(keys))},
                  "bench",
                  0,
                  {}})
      .receive(
        [&](cfgactors::write_result& r) {
          if (r.status != cfgactors::write_status::committed)
            error = r.describe();
          version = r.version;
        },
        [&](caf::error& err) { error = sys_.render(err); });
    return error;
  }

  /// The primary's view of the replica (`disconnected` once it saw it go).
  std::optional<cfgactors::replica_info> replica() {
    std::optional<cfgactors::replica_info> out;
    self_->request(primary_, 10s, cfgactors::replicas_atom::value)
      .receive(
        [&](std::vector<cfgactors::replica_info>& xs) {
          if (!xs.empty())
            out = xs.front();
        },
        [](caf::error&) {});
    return out;
  }

  /// Whether the store still holds `version`: the primary answers a hello
  /// from it with a patch then, else with a full snapshot (on_hello).
  bool holds(uint64_t version) {
    bool found = false;
    self_->request(pipe_.store, 10s, cfgactors::get_atom::value, version)
      .receive([&](cfgactors::snapshot_ptr& s) { found = s != nullptr; },
               [](caf::error&) {});
    return found;
  }

private:
  node_config cfg_;
  caf::actor_system sys_;
  caf::scoped_actor self_;
  std::string secret_;
  cfgactors::detail::pipeline_core pipe_;
  cfgactors::primary_actor primary_;
  cfgactors::detail::link_context_ptr link_;
  cfgactors::detail::link_gate_ptr gate_;
  uint16_t port_ = 0;
};

/// The replica process and what it reports.
class replica_process {
public:
  replica_process(uint16_t port, const std::string& secret)
    : lifeline_(bench::make_pipe()) {
    auto report = bench::make_pipe();
    bench::spawn_spec spec;
    spec.argv = {"/proc/self/exe", "--role=worker",
                 "--port=" + std::to_string(port)};
    spec.stdin_fd = lifeline_.read.get();
    spec.report_fd = report.write.get();
    // The child inherits the environment: the secret goes there, not on
    // its command line (/proc/PID/cmdline is readable by every user).
    setenv(secret_env, secret.c_str(), 1);
    child_.emplace(spec);
    unsetenv(secret_env);
    lifeline_.read.reset();
    report.write.reset();
    reader_.emplace(std::move(report.read));
  }

  ~replica_process() {
    lifeline_.write.reset();
    child_->stop(10s);
  }

  /// The next report until `deadline`; `error` says why there is none.
  std::optional<bench::report> next(steady::time_point deadline,
                                    std::string& error) {
    auto r = reader_->next(deadline);
    if (r && r->kind == bench::report::error)
      error = "replica: " + r->text;
    else if (!r && reader_->closed())
      error = "the replica process ended";
    else if (!r)
      error = "the replica reported nothing in time";
    return r;
  }

  /// Waits for a `ready` line of `kind` (0: subscribed, 1: lost primary).
  std::string await_ready(int kind, std::chrono::seconds limit) {
    auto deadline = steady::now() + limit;
    std::string error;
    while (error.empty())
      if (auto r = next(deadline, error);
          r && r->kind == bench::report::ready && r->worker == kind)
        return {};
    return error;
  }

  /// Waits until the subscriber has `version`; its receipt time.
  std::optional<int64_t> await_version(uint64_t version,
                                       std::chrono::seconds limit,
                                       std::string& error) {
    auto deadline = steady::now() + limit;
    while (error.empty())
      if (auto r = next(deadline, error);
          r && r->kind == bench::report::flip && r->flip_index >= version)
        return r->latency_ns; // the worker's receipt stamp
    return std::nullopt;
  }

private:
  bench::pipe_fds lifeline_;
  std::optional<bench::child> child_;
  std::optional<bench::report_reader> reader_;
};

std::string random_secret() {
  std::random_device rd;
  std::string out;
  const char* hex = "0123456789abcdef";
  for (int i = 0; i < 32; ++i)
    out += hex[rd() % 16];
  return out;
}

/// Which answer the primary gave, from what it was asked: it sends a patch
/// when the hello names a version its store still holds, else everything.
struct outcome {
  double ms = 0;
  int64_t rss_mib = 0; ///< the primary's process when the port reopens
  std::string path;
  std::string failed;
};

enum class scenario { rejoin, fresh };

/// One run: the replica follows the primary at version 1 (or, `fresh`, has
/// never reached it: the port was never open), the port closes, `missed`
/// versions are committed, the port opens again and the clock runs until
/// the replica's subscriber has the newest version.
outcome run_case(scenario how, int keys, int missed, std::size_t history,
                 int64_t max_rss) {
  outcome out;
  auto secret = random_secret();
  primary_side primary{history, secret};
  uint64_t version = 0;
  if (auto err = primary.write_config(keys, version); !err.empty()) {
    out.failed = "config: " + err;
    return out;
  }
  auto first = version;
  // The replica starts before the port opens: a child forked later would
  // inherit the listening socket (asio does not make it close-on-exec) and
  // keep the port bound after the primary closes it.
  auto port = bench::free_port();
  replica_process replica{port, secret};
  if (auto err = replica.await_ready(0, 60s); !err.empty()) {
    out.failed = err;
    return out;
  }
  if (how == scenario::rejoin) {
    if (auto err = primary.open(port); !err.empty()) {
      out.failed = err;
      return out;
    }
    std::string error;
    if (!replica.await_version(first, 60s, error)) {
      out.failed = "first sync: " + error;
      return out;
    }
    primary.close();
    // Gone for both sides: the replica told its subscriber, the primary
    // lists it as disconnected (a hello under a name still held would be
    // refused and retried only after the replica's connect timeout).
    if (auto err = replica.await_ready(1, 30s); !err.empty()) {
      out.failed = "cut: " + err;
      return out;
    }
    for (auto deadline = steady::now() + 30s;;) {
      auto r = primary.replica();
      if (r && r->state == cfgactors::replica_state::disconnected)
        break;
      if (steady::now() > deadline) {
        out.failed = "the primary did not see the replica go";
        return out;
      }
      std::this_thread::sleep_for(5ms);
    }
  }
  if (missed > 0) {
    std::string error;
    version = primary.commit(0, missed, max_rss, error);
    if (!error.empty()) {
      out.failed = "committing: " + error;
      return out;
    }
  }
  // The patch path needs the replica's version in the store's history.
  out.path = how == scenario::rejoin && primary.holds(first) ? "patch"
                                                             : "full";
  out.rss_mib = rss_bytes() >> 20;
  auto t0 = bench::monotonic_ns();
  if (auto err = primary.open(port); !err.empty()) {
    out.failed = "reopening: " + err;
    return out;
  }
  std::string error;
  auto got = replica.await_version(version, 60s, error);
  if (!got) {
    out.failed = "catching up: " + error;
    return out;
  }
  out.ms = static_cast<double>(*got - t0) / 1e6;
  // The store's history cannot have moved since: nothing was committed.
  if (how == scenario::rejoin && primary.holds(first) != (out.path == "patch"))
    out.failed = "the store's history changed during the run";
  return out;
}

const char* usage_text
  = "usage: catch_up [--keys 10000] [--versions 10000] "
    "[--max-rss-mib 12288]\n"
    "  keys in 1..1000000, versions in 1..1000000\n";

int usage(const std::string& why) {
  return bench::refuse("catch_up", why, usage_text);
}

} // namespace

int main(int argc, char** argv) {
  // Warnings only, and on stderr: stdout is the table.
  spdlog::set_default_logger(spdlog::stderr_color_mt("catch_up"));
  spdlog::set_level(spdlog::level::warn);
  std::signal(SIGPIPE, SIG_IGN);
  if (bench::wants_help(argc, argv))
    return bench::help(usage_text);
  int keys = 10000;
  int versions = 10000;
  int max_rss_mib = 12288;
  std::optional<int> worker_port;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    std::string value;
    if (auto eq = arg.find('='); eq != std::string::npos) {
      value = arg.substr(eq + 1);
      arg.erase(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return usage("missing the value of " + arg);
    }
    auto n = bench::to_count(value);
    if (arg == "--role" && value == "worker")
      continue;
    if (!n)
      return usage(arg + ": " + value + " is not a count");
    if (arg == "--port" && *n >= 1 && *n <= 65535)
      worker_port = *n;
    else if (arg == "--keys" && *n >= 1 && *n <= 1000000)
      keys = *n;
    else if (arg == "--versions" && *n >= 1 && *n <= 1000000)
      versions = *n;
    else if (arg == "--max-rss-mib" && *n >= 1)
      max_rss_mib = *n;
    else
      return usage("bad option " + arg + " " + value);
  }
  if (worker_port)
    return run_worker(static_cast<uint16_t>(*worker_port));
  int64_t max_rss = int64_t{max_rss_mib} << 20;
  std::printf("catch_up: a replica (another process, real TCP on loopback, "
              "cluster secret) follows a primary with a %d-key config; its "
              "link is cut, versions are committed, the cluster port opens "
              "again: time until the replica's subscriber has the newest "
              "version;\nthe replica retries every %d ms while the port is "
              "closed (up to that much of each figure is waiting); one run "
              "per row; primary RSS capped at %d MiB; host: %u cores\n\n",
              keys, static_cast<int>(retry_interval.count()), max_rss_mib,
              std::thread::hardware_concurrency());
  std::printf("%-24s %8s %8s %12s %8s %8s  %s\n", "case", "missed",
              "history", "catch-up ms", "x base", "RSS MiB", "path");
  std::fflush(stdout);
  struct row_spec {
    const char* name;
    scenario how;
    int missed;
    std::size_t history;
  };
  const std::size_t large = static_cast<std::size_t>(versions) + 2;
  const row_spec specs[] = {
    {"rejoin-missed-0", scenario::rejoin, 0, 100},
    {"fresh-join", scenario::fresh, versions, 100},
    {"rejoin-history-default", scenario::rejoin, versions, 100},
    {"rejoin-history-large", scenario::rejoin, versions, large},
  };
  std::vector<std::pair<std::string, outcome>> rows;
  double base = 0;
  bool failed = false;
  for (auto& spec : specs) {
    auto r = run_case(spec.how, keys, spec.missed, spec.history, max_rss);
    if (!r.failed.empty()) {
      failed = true;
      std::printf("%-24s %8d %8zu   failed: %s\n", spec.name, spec.missed,
                  spec.history, r.failed.c_str());
    } else {
      if (spec.how == scenario::rejoin && spec.missed == 0)
        base = r.ms;
      char vs[16] = "-";
      if (base > 0)
        std::snprintf(vs, sizeof(vs), "%.2f", r.ms / base);
      std::printf("%-24s %8d %8zu %12.2f %8s %8" PRId64 "  %s\n", spec.name,
                  spec.missed, spec.history, r.ms, vs, r.rss_mib,
                  r.path.c_str());
    }
    std::fflush(stdout);
    rows.emplace_back(spec.name, r);
  }
  std::printf("\npath: what the primary answered the replica's hello with: "
              "patch when its store still held the replica's version (from "
              "it to the newest), else full snapshot (fresh-join: from "
              "version 0); RSS MiB: the primary's process (pipeline, "
              "history, primary) when the port opens again\n\n");
  for (auto& [name, r] : rows) {
    if (name.rfind("rejoin-history", 0) != 0)
      continue;
    if (!r.failed.empty()) {
      std::printf("%s: target not checked (failed)\n", name.c_str());
      continue;
    }
    std::printf("%s: replica that missed %d versions has the newest in "
                "%.2f ms (target <= 100 ms: %s)\n", name.c_str(), versions,
                r.ms, bench::verdict(r.ms, 100).c_str());
  }
  return failed ? 1 : 0;
}

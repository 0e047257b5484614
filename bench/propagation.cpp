// bench/propagation: how long a flip written on one process takes to reach
// subscribers in all of N other processes, for cfgactors (primary → replicas)
// next to raw CAF fan-out, Redis pub/sub and etcd watch, and for cfgactors
// over etcd (every process a node in etcd mode) next to that etcd watch and
// to etcd-txn (the same watch of the transaction cfgactors commits), measured the same way in the same run. Each flip carries a CLOCK_MONOTONIC stamp taken just
// before it is written; each worker's subscriber reports `now - stamp` on
// receipt; a flip's latency is the largest of the N (when all have it).
//
//   propagation [--n 1,8,32] [--flips 200] [--warmup 20]
//               [--systems cfgactors,caf,redis,etcd,etcd-txn,cfgactors-etcd]
//               [--scheduler sharing] [--keys 100,10000,100000]
//
// `cfgactors-plain` (not run unless named) is cfgactors with its replicas
// on plain BASP instead of the sealed cluster link: the link's share.
//
// With several --keys sizes, cfgactors and cfgactors-etcd run once per size
// (rows `cfgactors@10000`), the others once, and the last lines say how a
// flip's p50 grows with the config's size over the first size's.
//
// The same binary is the worker: `--role=worker --system=NAME --id=K ...`.
#include <algorithm>
#include <chrono>
#include <cinttypes>
#include <cmath>
#include <csignal>
#include <cstdio>
#include <exception>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <vector>


#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "counts.hpp"
#include "usage.hpp"
#include "verdict.hpp"
#include "propagation/caf_settings.hpp"
#include "propagation/process.hpp"
#include "propagation/report.hpp"
#include "propagation/system.hpp"

using namespace bench;
using namespace std::chrono_literals;
using steady = std::chrono::steady_clock;

namespace {

/// Width of the table's first column: `cfgactors@100000` needs more.
int label_width = 15; // "cfgactors-plain"

/// Set by SIGINT/SIGTERM: the run in progress ends, everything is torn down.
volatile std::sig_atomic_t interrupted = 0;

extern "C" void on_interrupt(int) {
  interrupted = 1;
}

struct options {
  std::vector<int> ns{1, 8, 32};
  int flips = 200;
  int warmup = 20;
  std::vector<std::string> systems{"cfgactors", "caf",      "redis",
                                   "etcd",      "etcd-txn", "cfgactors-etcd"};
  bench_options bench;
  /// Config sizes of the systems that carry one (keyed()); one run each.
  std::vector<int> key_sizes{100};
  std::chrono::milliseconds flip_timeout{2000};
  std::chrono::milliseconds pause{2};
};

const char* usage_text =
  "usage: propagation [--n 1,8,32] [--flips 200] [--warmup 20]\n"
  "                   [--systems cfgactors,caf,redis,etcd,etcd-txn,cfgactors-etcd,\n"
  "                              cfgactors-plain]\n"
  "                   [--scheduler sharing|stealing] [--threads 0]\n"
  "                   [--io-workers N]\n"
  "                   [--keys 100[,10000,...]] [--server-dir /dev/shm]\n"
  "                   [--flip-timeout-ms 2000] [--pause-ms 2]\n"
  "                   [--trace 1] (trace lines on stderr)\n";

/// `--key=value` and `--key value`; false on anything else, with `why`.
bool parse_args(int argc, char** argv, arg_map& out, std::string& why) {
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (arg.rfind("--", 0) != 0) {
      why = "not an option: " + arg;
      return false;
    }
    arg.erase(0, 2);
    auto eq = arg.find('=');
    if (eq != std::string::npos) {
      out[arg.substr(0, eq)] = arg.substr(eq + 1);
    } else if (i + 1 < argc) {
      out[arg] = argv[++i];
    } else {
      why = "missing the value of --" + arg;
      return false;
    }
  }
  return true;
}

std::vector<std::string> split(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in{text};
  for (std::string item; std::getline(in, item, ',');)
    if (!item.empty())
      out.push_back(item);
  return out;
}

/// "100,10000": the sizes as the command line gives them.
std::string join(const std::vector<int>& xs) {
  std::string out;
  for (auto x : xs)
    out += (out.empty() ? "" : ",") + std::to_string(x);
  return out;
}

std::optional<options> read_options(const arg_map& args) {
  options opts;
  auto bad = [](const std::string& what) {
    std::fprintf(stderr, "propagation: %s\n%s", what.c_str(), usage_text);
    return std::nullopt;
  };
  for (auto& [key, value] : args) {
    if (key == "n") {
      auto ns = bench::to_counts(value, 1, 256);
      if (!ns)
        return bad("--n: '" + value
                   + "': expected process counts in 1..256, separated by "
                     "commas");
      opts.ns = std::move(*ns);
    } else if (key == "keys") {
      // Each size is a whole config in every worker: bounded so that a typo
      // cannot make the bench build a config the size of the host's memory.
      auto sizes = bench::to_counts(value, 0, 1000000);
      if (!sizes)
        return bad("--keys: '" + value
                   + "': expected key counts in 0..1000000, separated by "
                     "commas");
      opts.key_sizes = std::move(*sizes);
      opts.bench.keys = opts.key_sizes.front();
    } else if (key == "flips" || key == "warmup"
               || key == "flip-timeout-ms" || key == "pause-ms"
               || key == "threads" || key == "io-workers"
               || key == "trace") {
      auto n = to_count(value);
      if (!n || (key == "flips" && *n < 1)
          || (key == "flip-timeout-ms" && *n < 1))
        return bad("--" + key + ": " + value + " is not a valid count");
      if (key == "flips")
        opts.flips = *n;
      else if (key == "warmup")
        opts.warmup = *n;
      else if (key == "threads")
        opts.bench.caf.threads = *n;
      else if (key == "io-workers")
        opts.bench.caf.io_workers = *n;
      else if (key == "trace")
        opts.bench.trace = *n != 0;
      else if (key == "flip-timeout-ms")
        opts.flip_timeout = std::chrono::milliseconds{*n};
      else
        opts.pause = std::chrono::milliseconds{*n};
    } else if (key == "systems") {
      opts.systems = split(value);
      for (auto& s : opts.systems)
        if (s != "cfgactors" && s != "cfgactors-plain" && s != "caf"
            && s != "redis" && s != "etcd" && s != "etcd-txn"
            && s != "cfgactors-etcd")
          return bad("--systems: unknown system " + s);
      if (opts.systems.empty())
        return bad("--systems: no system");
    } else if (key == "server-dir") {
      opts.bench.server_dir = value;
    } else if (key == "scheduler") {
      if (value != "sharing" && value != "stealing")
        return bad("--scheduler: " + value + " (sharing or stealing)");
      opts.bench.caf.scheduler = value;
    } else {
      return bad("unknown option --" + key);
    }
  }
  return opts;
}

std::unique_ptr<system_under_test> make_system(const std::string& name,
                                               const bench_options& opts) {
  if (name == "cfgactors")
    return make_cfgactors_system(opts);
  if (name == "cfgactors-plain")
    return make_cfgactors_plain_system(opts);
  if (name == "caf")
    return make_caf_system(opts);
  if (name == "redis")
    return make_redis_system(opts);
  if (name == "etcd")
    return make_etcd_system(opts);
  if (name == "etcd-txn")
    return make_etcd_txn_system(opts);
  if (name == "cfgactors-etcd")
    return make_cfgactors_etcd_system(opts);
  return nullptr;
}

/// Whether a system's runs depend on the config's size (--keys).
bool keyed(const std::string& system) {
  return system == "cfgactors" || system == "cfgactors-plain"
         || system == "cfgactors-etcd";
}

/// One row of the table.
struct result {
  std::string system;
  std::string label; ///< the system, and `@keys` when several sizes run
  int keys = 0;      ///< the config's size of a keyed() system, else 0
  int n = 0;
  int flips = 0;
  int lost = 0;
  std::vector<double> latencies_us; ///< per measured flip: max over workers
  std::string skipped;              ///< why the system did not run
  std::string failed;               ///< why the run broke off

  bool measured() const {
    return skipped.empty() && failed.empty() && !latencies_us.empty();
  }

  /// Nearest-rank percentile.
  double percentile(double p) const {
    auto xs = latencies_us;
    std::sort(xs.begin(), xs.end());
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * xs.size()));
    return xs[std::clamp<size_t>(rank, 1, xs.size()) - 1];
  }
};

/// The N workers of one run and the pipes the coordinator shares with them.
/// Ending the run closes their stdin (the lifeline): each worker shuts down
/// by itself; a worker that does not is killed.
class worker_group {
public:
  worker_group(const std::string& system, int n,
               const std::vector<std::string>& extra_args)
    : lifeline_(make_pipe()) {
    auto report = make_pipe();
    for (int id = 0; id < n; ++id) {
      spawn_spec spec;
      spec.argv = {"/proc/self/exe", "--role=worker", "--system=" + system,
                   "--id=" + std::to_string(id)};
      spec.argv.insert(spec.argv.end(), extra_args.begin(), extra_args.end());
      spec.stdin_fd = lifeline_.read.get();
      spec.report_fd = report.write.get();
      workers_.emplace_back(spec);
    }
    // Only the workers hold the write end: the reader sees EOF if all die.
    lifeline_.read.reset();
    report.write.reset();
    reader_.emplace(std::move(report.read));
  }

  ~worker_group() {
    finish();
  }

  /// Ends the run: closes the lifeline and reaps every worker (killing one
  /// that does not exit within 10 s). Returns how the first worker that did
  /// not exit cleanly ended (a sanitizer report, a hang), or empty.
  std::string finish() {
    lifeline_.write.reset();
    auto deadline = steady::now() + 10s;
    std::string first_failure;
    for (size_t i = 0; i < workers_.size(); ++i) {
      auto& w = workers_[i];
      w.stop(std::chrono::duration_cast<std::chrono::milliseconds>(
        std::max(deadline - steady::now(), steady::duration{0})));
      if (!w.succeeded() && first_failure.empty())
        first_failure = "worker " + std::to_string(i) + " ended with "
                        + w.exited().value_or("?");
    }
    return first_failure;
  }

  report_reader& reader() { return *reader_; }

  /// "worker K exited (...)" for the first worker that has ended, or empty.
  std::string dead_worker() {
    for (size_t i = 0; i < workers_.size(); ++i)
      if (auto status = workers_[i].exited())
        return "worker " + std::to_string(i) + " exited (" + *status + ")";
    return {};
  }

private:
  pipe_fds lifeline_;
  std::vector<child> workers_;
  std::optional<report_reader> reader_;
};

/// Waits for the next report until `deadline`, in short slices, so that a
/// worker that died is noticed. Sets `error` when a worker failed.
std::optional<report> next_report(worker_group& group,
                                  steady::time_point deadline,
                                  std::string& error) {
  for (;;) {
    if (interrupted) {
      error = "interrupted";
      return std::nullopt;
    }
    auto slice = std::min(deadline, steady::now() + 200ms);
    if (auto r = group.reader().next(slice)) {
      if (r->kind == report::error)
        error = r->worker >= 0 ? "worker " + std::to_string(r->worker) + ": "
                                   + r->text
                               : r->text;
      return r;
    }
    if (auto dead = group.dead_worker(); !dead.empty()) {
      error = dead;
      return std::nullopt;
    }
    if (group.reader().closed()) {
      error = "every worker closed its report pipe";
      return std::nullopt;
    }
    if (steady::now() >= deadline)
      return std::nullopt;
  }
}

result run_once(system_under_test& sys, const std::string& name, int n,
                const options& opts) {
  result out;
  out.system = name;
  out.label = name;
  out.n = n;
  out.flips = opts.flips;
  if (auto why = sys.unavailable(); !why.empty()) {
    out.skipped = why;
    return out;
  }
  if (auto err = sys.start(); !err.empty()) {
    out.failed = err;
    return out;
  }
  std::string error;
  auto pub = sys.open_run(error);
  if (!pub) {
    out.failed = error;
    return out;
  }
  worker_group group{name, n, pub->worker_args()};
  // Everyone subscribed before the first flip.
  std::vector<bool> ready(static_cast<size_t>(n), false);
  int ready_count = 0;
  auto ready_deadline = steady::now() + 60s + n * 2s;
  while (ready_count < n) {
    auto r = next_report(group, ready_deadline, error);
    if (!error.empty()) {
      out.failed = error;
      return out;
    }
    if (!r) {
      out.failed = std::to_string(n - ready_count)
                   + " workers not ready in time";
      return out;
    }
    if (r->kind == report::ready && r->worker >= 0 && r->worker < n
        && !ready[static_cast<size_t>(r->worker)]) {
      ready[static_cast<size_t>(r->worker)] = true;
      ++ready_count;
    }
  }
  // One flip at a time: the next is written once all N have this one (or
  // it timed out), so flips never overlap.
  auto total = static_cast<uint64_t>(opts.warmup + opts.flips);
  for (uint64_t i = 0; i < total; ++i) {
    auto stamp = monotonic_ns();
    if (auto err = pub->publish(i, stamp); !err.empty()) {
      out.failed = "flip " + std::to_string(i) + ": " + err;
      return out;
    }
    if (opts.bench.trace)
      std::fprintf(stderr, "trace %s %d commit %" PRIu64 " - %" PRId64 "\n",
                   name.c_str(), n, i, (monotonic_ns() - stamp) / 1000);
    std::vector<bool> seen(static_cast<size_t>(n), false);
    int seen_count = 0;
    int64_t slowest = 0;
    auto deadline = steady::now() + opts.flip_timeout;
    while (seen_count < n) {
      auto r = next_report(group, deadline, error);
      if (!error.empty()) {
        out.failed = error;
        return out;
      }
      if (!r)
        break; // timed out
      // Reports of an earlier flip that timed out are late: ignored.
      if (r->kind != report::flip || r->flip_index != i || r->worker < 0
          || r->worker >= n || seen[static_cast<size_t>(r->worker)])
        continue;
      seen[static_cast<size_t>(r->worker)] = true;
      ++seen_count;
      if (opts.bench.trace)
        std::fprintf(stderr, "trace %s %d recv %" PRIu64 " %d %" PRId64 "\n",
                     name.c_str(), n, i, r->worker, r->latency_ns / 1000);
      slowest = std::max(slowest, r->latency_ns);
    }
    if (seen_count < n)
      ++out.lost;
    else if (i >= static_cast<uint64_t>(opts.warmup))
      out.latencies_us.push_back(static_cast<double>(slowest) / 1000.0);
    if (opts.pause.count() > 0)
      std::this_thread::sleep_for(opts.pause);
  }
  if (auto err = group.finish(); !err.empty())
    out.failed = "at the end of the run, " + err;
  return out;
}

/// The measured row of `system` at `n`; for a keyed() system, the one of
/// `keys` (-1: the first size of the run).
const result* find(const std::vector<result>& rows, const std::string& system,
                   int n, int keys = -1) {
  for (auto& r : rows)
    if (r.system == system && r.n == n && r.measured()
        && (!keyed(system) || keys < 0 || r.keys == keys))
      return &r;
  return nullptr;
}

void print_header() {
  std::printf("%-*s %4s %6s %5s %10s %10s %10s %8s %9s %9s\n", label_width,
              "system", "N",
              "flips", "lost", "p50 us", "p90 us", "p99 us", "p50/caf",
              "etcd/p50", "p50/etcd");
}

void print_row(const result& r, const std::vector<result>& rows) {
  if (!r.skipped.empty()) {
    std::printf("%-*s %4d   skipped: %s (%s)\n", label_width, r.label.c_str(), r.n,
                r.system.c_str(), r.skipped.c_str());
    return;
  }
  if (!r.failed.empty()) {
    std::printf("%-*s %4d   failed: %s\n", label_width, r.label.c_str(), r.n,
                r.failed.c_str());
    return;
  }
  if (r.latencies_us.empty()) {
    std::printf("%-*s %4d %6d %5d   no flip reached all workers\n",
                label_width, r.label.c_str(), r.n, r.flips, r.lost);
    return;
  }
  auto p50 = r.percentile(50);
  char vs_caf[16] = "-";
  char vs_etcd[16] = "-";
  char over_etcd[16] = "-";
  if (auto caf = find(rows, "caf", r.n))
    std::snprintf(vs_caf, sizeof(vs_caf), "%.2f", p50 / caf->percentile(50));
  if (auto etcd = find(rows, "etcd", r.n)) {
    std::snprintf(vs_etcd, sizeof(vs_etcd), "%.2f", etcd->percentile(50) / p50);
    std::snprintf(over_etcd, sizeof(over_etcd), "%.2f",
                  p50 / etcd->percentile(50));
  }
  std::printf("%-*s %4d %6d %5d %10.1f %10.1f %10.1f %8s %9s %9s\n",
              label_width, r.label.c_str(), r.n, r.flips, r.lost, p50, r.percentile(90),
              r.percentile(99), vs_caf, vs_etcd, over_etcd);
}

bool selected(const options& opts, const std::string& system) {
  return std::find(opts.systems.begin(), opts.systems.end(), system)
         != opts.systems.end();
}

/// Whether the targets hold at `n`: cfgactors p50 <= 1.5x raw CAF and etcd
/// p50 >= 3x cfgactors; cfgactors over etcd p50 <= 1.3x the raw etcd watch
/// it runs on. A missed target is printed as missed.
void print_verdict(const std::vector<result>& rows, const options& opts,
                   int n) {
  auto etcd = find(rows, "etcd", n);
  if (selected(opts, "cfgactors")) {
    std::printf("N=%-3d ", n);
    if (auto cfg = find(rows, "cfgactors", n, opts.key_sizes.front())) {
      auto p50 = cfg->percentile(50);
      if (auto caf = find(rows, "caf", n)) {
        auto x = p50 / caf->percentile(50);
        std::printf("cfgactors p50 = %.2fx raw CAF (target <= 1.5x: %s)", x,
                    bench::verdict(x, 1.5).c_str());
      } else {
        std::printf("raw CAF not measured");
      }
      if (etcd) {
        auto x = etcd->percentile(50) / p50;
        std::printf("; etcd p50 = %.2fx cfgactors (target >= 3x: %s)\n", x,
                    bench::verdict(x, 3.0, false).c_str());
      } else {
        std::printf("; etcd not measured\n");
      }
    } else {
      std::printf("target not checked: cfgactors not measured\n");
    }
  }
  if (selected(opts, "cfgactors-plain")) {
    // The link's share: the same pipeline with BASP on plain TCP.
    auto plain = find(rows, "cfgactors-plain", n, opts.key_sizes.front());
    auto caf = find(rows, "caf", n);
    if (plain && caf) {
      std::printf("N=%-3d cfgactors-plain p50 = %.2fx raw CAF", n,
                  plain->percentile(50) / caf->percentile(50));
      if (auto cfg = find(rows, "cfgactors", n, opts.key_sizes.front()))
        std::printf("; cfgactors (sealed link) = %.2fx cfgactors-plain",
                    cfg->percentile(50) / plain->percentile(50));
      std::printf("\n");
    }
  }
  if (selected(opts, "cfgactors-etcd")) {
    std::printf("N=%-3d ", n);
    auto over = find(rows, "cfgactors-etcd", n, opts.key_sizes.front());
    if (over && etcd) {
      auto x = over->percentile(50) / etcd->percentile(50);
      std::printf("cfgactors-etcd p50 = %.2fx raw etcd watch (target <= "
                  "1.3x: %s)",
                  x, bench::verdict(x, 1.3).c_str());
      // etcd's own cost of the compare-and-set, no cfgactors in the path.
      if (auto txn = find(rows, "etcd-txn", n))
        std::printf("; etcd-txn = %.2fx raw etcd watch, cfgactors-etcd = "
                    "%.2fx etcd-txn",
                    txn->percentile(50) / etcd->percentile(50),
                    over->percentile(50) / txn->percentile(50));
      std::printf("\n");
    } else {
      std::printf("target not checked: %s not measured\n",
                  over ? "etcd" : "cfgactors-etcd");
    }
  }
}

/// With several --keys sizes: a keyed system's flip p50 at each size over
/// its p50 at the first size, same N, same run. A flip changes one key, so
/// the target is that its cost does not grow with the config: within 1.5x.
void print_growth(const std::vector<result>& rows, const options& opts,
                  int n) {
  if (opts.key_sizes.size() < 2)
    return;
  auto first = opts.key_sizes.front();
  for (auto& system : opts.systems) {
    if (!keyed(system))
      continue;
    auto base = find(rows, system, n, first);
    for (size_t i = 1; i < opts.key_sizes.size(); ++i) {
      auto keys = opts.key_sizes[i];
      std::printf("N=%-3d keys=%-7d ", n, keys);
      auto row = find(rows, system, n, keys);
      if (!base || !row) {
        std::printf("%s: target not checked, keys=%d or keys=%d not "
                    "measured\n", system.c_str(), first, keys);
        continue;
      }
      auto x = row->percentile(50) / base->percentile(50);
      std::printf("%s one-key change p50 = %.2fx keys=%d", system.c_str(), x,
                  first);
      std::printf(" (target within 1.5x of %d keys: %s)\n", first,
                  bench::verdict(x, 1.5).c_str());
    }
  }
}

/// The first three fields of /proc/loadavg: how busy the host was around
/// the run (the figures depend on it).
std::string load_average() {
  std::FILE* f = std::fopen("/proc/loadavg", "r");
  if (!f)
    return "unknown";
  double a = 0, b = 0, c = 0;
  auto n = std::fscanf(f, "%lf %lf %lf", &a, &b, &c);
  std::fclose(f);
  if (n != 3)
    return "unknown";
  char text[64];
  std::snprintf(text, sizeof(text), "%.2f %.2f %.2f", a, b, c);
  return text;
}

int coordinator(const options& opts) {
  std::printf("propagation: flip on one process -> subscribers in N worker "
              "processes; %d flips after %d warm-up, latency of a flip = max "
              "over the N workers of (receipt - CLOCK_MONOTONIC stamp)\n",
              opts.flips, opts.warmup);
  std::printf("%s (coordinator and workers of cfgactors, cfgactors-etcd and "
              "caf); cfgactors config: %s keys + bench.flip\netcd, etcd-txn and "
              "cfgactors-etcd: a single-member etcd of their own, plain HTTP "
              "on loopback, data on tmpfs unless --server-dir\nhost: %u "
              "cores, load average %s\n\n",
              to_string(opts.bench.caf).c_str(), join(opts.key_sizes).c_str(), std::thread::hardware_concurrency(),
              load_average().c_str());
  if (opts.key_sizes.size() > 1)
    for (int keys : opts.key_sizes)
      label_width = std::max(label_width,
                             static_cast<int>(std::string{"cfgactors-plain@"}.size()
                                              + std::to_string(keys).size()));
  print_header();
  std::fflush(stdout);
  // One system per name, and per size for a keyed one.
  std::map<std::pair<std::string, int>, std::unique_ptr<system_under_test>>
    systems;
  for (auto& name : opts.systems)
    for (int keys : keyed(name) ? opts.key_sizes : std::vector<int>{0}) {
      auto bench = opts.bench;
      if (keyed(name))
        bench.keys = keys;
      systems[{name, keys}] = make_system(name, bench);
    }
  std::vector<result> rows;
  bool failed = false;
  for (int n : opts.ns) {
    for (auto& name : opts.systems) {
      for (int keys : keyed(name) ? opts.key_sizes : std::vector<int>{0}) {
        if (interrupted)
          return 1;
        result r;
        try {
          r = run_once(*systems[{name, keys}], name, n, opts);
        } catch (const std::exception& e) {
          r.system = name;
          r.label = name;
          r.n = n;
          r.failed = e.what();
        }
        r.keys = keys;
        if (keyed(name) && opts.key_sizes.size() > 1)
          r.label = name + "@" + std::to_string(keys);
        failed = failed || !r.failed.empty();
        rows.push_back(std::move(r));
      }
    }
    // Ratios need the whole group of this N: print it once it is complete.
    for (auto& r : rows)
      if (r.n == n)
        print_row(r, rows);
    std::fflush(stdout);
  }
  std::printf("\n");
  for (int n : opts.ns)
    print_verdict(rows, opts, n);
  for (int n : opts.ns)
    print_growth(rows, opts, n);
  std::printf("load average at the end: %s\n", load_average().c_str());
  return failed ? 1 : 0;
}

int worker(const arg_map& args) {
  auto name = arg_or(args, "system");
  auto id = to_count(arg_or(args, "id"));
  bench_options opts;
  opts.caf = caf_settings_from(args);
  auto sys = make_system(name, opts);
  if (!sys || !id) {
    std::fprintf(stderr, "propagation worker: bad --system or --id\n");
    return 2;
  }
  try {
    return sys->run_worker(*id, args);
  } catch (const std::exception& e) {
    report_error(*id, name + " worker: " + e.what());
    return 1;
  }
}

} // namespace

int main(int argc, char** argv) {
  // The library logs an info line per event: warnings only, and on stderr,
  // so that stdout is the table.
  spdlog::set_default_logger(spdlog::stderr_color_mt("propagation"));
  spdlog::set_level(spdlog::level::warn);
  std::signal(SIGPIPE, SIG_IGN);
  if (bench::wants_help(argc, argv))
    return bench::help(usage_text);
  arg_map args;
  std::string why;
  if (!parse_args(argc, argv, args, why))
    return bench::refuse("propagation", why, usage_text);
  if (arg_or(args, "role") == "worker")
    return worker(args);
  args.erase("role");
  // Stop cleanly on ^C: workers, servers and temp dirs go with the bench.
  struct sigaction sa {};
  sa.sa_handler = on_interrupt;
  sigaction(SIGINT, &sa, nullptr);
  sigaction(SIGTERM, &sa, nullptr);
  auto opts = read_options(args);
  if (!opts)
    return 2;
  return coordinator(*opts);
}

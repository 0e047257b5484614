// bench/cluster_writes: what committing through etcd costs a writer. W
// concurrent writers each do `--writes` sets of keys of their own
// (consistency local) through (a) a standalone primary with its journal,
// (b) one node in etcd mode, (c) three nodes in etcd mode of one cluster,
// the writers spread over them (they race for etcd's head: a lost race is a
// CAS conflict, adopted and retried by the node). etcd is a 3-member cluster
// on loopback that the bench starts, so (b) and (c) pay a quorum commit.
// Journals and etcd's data live on tmpfs, so neither pays a disk.
//
//   cluster_writes [--writers 1,4,16] [--writes 300] [--server-dir /dev/shm]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cfgactors/cfgactors.hpp"
#include "counts.hpp"
#include "usage.hpp"

#include "propagation/etcd_server.hpp"
#include "propagation/process.hpp"

using namespace bench;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  std::vector<int> writers{1, 4, 16};
  int writes = 300;
  std::string server_dir; ///< journals and etcd (empty: /dev/shm or /tmp)
};

const char* usage_text
  = "usage: cluster_writes [--writers 1,4,16] [--writes 300] "
    "[--server-dir /dev/shm]\n";

/// The options, or nullopt with `why` naming what was refused.
std::optional<options> read_options(int argc, char** argv, std::string& why) {
  options opts;
  auto refuse = [&why](std::string what) {
    why = std::move(what);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    std::string value;
    if (auto eq = key.find('='); eq != std::string::npos) {
      value = key.substr(eq + 1);
      key.erase(eq);
    } else if (i + 1 < argc) {
      value = argv[++i];
    } else {
      return refuse("missing the value of " + key);
    }
    if (key == "--writers") {
      auto writers = bench::to_counts(value, 1, 256);
      if (!writers)
        return refuse("--writers: '" + value
                      + "': expected counts of 1 to 256, separated by "
                        "commas");
      opts.writers = std::move(*writers);
    } else if (key == "--writes") {
      auto n = bench::to_count(value);
      if (!n || *n < 1 || *n > 999999)
        return refuse("--writes: '" + value
                      + "' is not a count of 1 to 999999");
      opts.writes = *n;
    } else if (key == "--server-dir") {
      opts.server_dir = value;
    } else {
      return refuse("unknown option " + key);
    }
  }
  return opts;
}

/// One node in an actor system of its own, as it would run in its own
/// process (its scheduler, its etcd clients and watch), journal included.
class node_host {
public:
  explicit node_host(const std::string& base) : data_(base), sys_(cfg_) {
    // nop
  }

  ~node_host() {
    // A node goes before its actor system.
    node_.reset();
  }

  /// Empty once the node runs, else why not.
  std::string start(cfgactors::node_options opts) {
    auto n = cfgactors::node::primary(sys_, opts.data_dir(data_.path()));
    if (!n)
      return sys_.render(n.error());
    node_.emplace(std::move(*n));
    return {};
  }

  cfgactors::node& node() { return *node_; }

private:
  temp_dir data_;
  cfgactors::system_config cfg_;
  caf::actor_system sys_;
  std::optional<cfgactors::node> node_;
};

/// One row of the table.
struct result {
  std::string mode;
  int writers = 0;
  int writes = 0;
  int failed = 0;
  std::string first_failure;
  std::vector<double> latencies_ms; ///< of the writes that committed
  double seconds = 0;               ///< first write to last answer
  uint64_t cas_conflicts = 0;
  bool in_etcd = false;
  std::string error; ///< why the mode did not run

  /// Nearest-rank percentile.
  double percentile(double p) const {
    auto xs = latencies_ms;
    std::sort(xs.begin(), xs.end());
    auto rank = static_cast<size_t>(std::ceil(p / 100.0 * xs.size()));
    return xs[std::clamp<size_t>(rank, 1, xs.size()) - 1];
  }

  double throughput() const {
    return seconds > 0 ? latencies_ms.size() / seconds : 0;
  }
};

/// `nodes` nodes (none: a standalone primary), `writers` threads, writer k
/// on node k mod `nodes`.
result run(const std::string& mode, int nodes, int writers,
           const options& opts, const etcd_server& etcd, int run_id) {
  result out;
  out.mode = mode;
  out.writers = writers;
  out.writes = writers * opts.writes;
  out.in_etcd = nodes > 0;
  std::vector<std::unique_ptr<node_host>> hosts;
  auto cluster = "writes-" + std::to_string(run_id);
  for (int i = 0; i < std::max(nodes, 1); ++i) {
    auto& host = *hosts.emplace_back(
      std::make_unique<node_host>(opts.server_dir));
    auto nopts = cfgactors::node_options{}.node_name("n"
                                                     + std::to_string(i));
    if (nodes > 0)
      nopts.etcd(etcd.endpoints(), cluster);
    if (auto err = host.start(std::move(nopts)); !err.empty()) {
      out.error = "node n" + std::to_string(i) + ": " + err;
      return out;
    }
  }
  std::vector<std::vector<double>> latencies(static_cast<size_t>(writers));
  std::vector<std::string> failures(static_cast<size_t>(writers));
  std::atomic<int> failed{0};
  std::vector<std::thread> threads;
  auto started = steady::now();
  for (int k = 0; k < writers; ++k)
    threads.emplace_back([&, k] {
      auto& n = hosts[static_cast<size_t>(k) % hosts.size()]->node();
      auto& mine = latencies[static_cast<size_t>(k)];
      mine.reserve(static_cast<size_t>(opts.writes));
      auto prefix = "w" + std::to_string(k) + ".k";
      for (int i = 0; i < opts.writes; ++i) {
        auto t0 = steady::now();
        auto r = n.set(prefix + std::to_string(i), i);
        auto ms = std::chrono::duration<double, std::milli>(steady::now() - t0);
        if (r.result.ok()) {
          mine.push_back(ms.count());
        } else {
          ++failed;
          if (failures[static_cast<size_t>(k)].empty())
            failures[static_cast<size_t>(k)] = r.result.describe();
        }
      }
    });
  for (auto& t : threads)
    t.join();
  out.seconds = std::chrono::duration<double>(steady::now() - started).count();
  out.failed = failed;
  for (auto& f : failures)
    if (out.first_failure.empty())
      out.first_failure = f;
  for (auto& l : latencies)
    out.latencies_ms.insert(out.latencies_ms.end(), l.begin(), l.end());
  if (nodes > 0)
    for (auto& h : hosts)
      if (auto st = h->node().stats(); st && st->etcd)
        out.cas_conflicts += st->etcd->cas_conflicts;
  return out;
}

const result* standalone_of(const std::vector<result>& rows, int writers) {
  for (auto& r : rows)
    if (r.mode == "standalone" && r.writers == writers
        && !r.latencies_ms.empty())
      return &r;
  return nullptr;
}

void print_row(const result& r, const std::vector<result>& rows) {
  if (!r.error.empty()) {
    std::printf("%-11s %4d   failed: %s\n", r.mode.c_str(), r.writers,
                r.error.c_str());
    return;
  }
  if (r.latencies_ms.empty()) {
    std::printf("%-11s %4d %7d %6d   no write committed: %s\n",
                r.mode.c_str(), r.writers, r.writes, r.failed,
                r.first_failure.c_str());
    return;
  }
  char p50_x[16] = "-";
  char tput_x[16] = "-";
  if (auto base = standalone_of(rows, r.writers)) {
    std::snprintf(p50_x, sizeof(p50_x), "%.1f",
                  r.percentile(50) / base->percentile(50));
    std::snprintf(tput_x, sizeof(tput_x), "%.2f",
                  r.throughput() / base->throughput());
  }
  char conflicts[24] = "-";
  if (r.in_etcd)
    std::snprintf(conflicts, sizeof(conflicts), "%llu",
                  static_cast<unsigned long long>(r.cas_conflicts));
  std::printf("%-11s %4d %7d %6d %8.2f %8.2f %9.0f %9s %9s %9s\n",
              r.mode.c_str(), r.writers, r.writes, r.failed, r.percentile(50),
              r.percentile(99), r.throughput(), p50_x, tput_x, conflicts);
  if (r.failed > 0)
    std::printf("%-11s %4s   first failure: %s\n", "", "",
                r.first_failure.c_str());
}

} // namespace

int main(int argc, char** argv) {
  // The library logs an info line per event: warnings only, on stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("cluster_writes"));
  spdlog::set_level(spdlog::level::warn);
  if (bench::wants_help(argc, argv))
    return bench::help(usage_text);
  std::string why;
  auto opts = read_options(argc, argv, why);
  if (!opts)
    return bench::refuse("cluster_writes", why, usage_text);
  std::printf("cluster_writes: W writers x %d sets each of keys of their own, "
              "consistency local; latency = set() call to its answer\n"
              "standalone: node::primary with its journal; etcd-1: one node "
              "in etcd mode; etcd-3: three nodes in etcd mode, writer k on "
              "node k mod 3\netcd: 3 members on loopback, plain HTTP (no "
              "TLS, no auth), default durability; each node in a "
              "caf::actor_system of its own in this process; journals and "
              "etcd data on tmpfs unless --server-dir\nhost: %u cores\n\n",
              opts->writes, std::thread::hardware_concurrency());
  etcd_server etcd{opts->server_dir};
  if (auto err = etcd.start(3); !err.empty()) {
    std::fprintf(stderr, "cluster_writes: %s\n", err.c_str());
    return 1;
  }
  std::printf("%-11s %4s %7s %6s %8s %8s %9s %9s %9s %9s\n", "mode", "W",
              "writes", "failed", "p50 ms", "p99 ms", "writes/s", "p50 x sa",
              "w/s x sa", "cas confl");
  std::fflush(stdout);
  struct mode {
    const char* name;
    int nodes;
  };
  const mode modes[] = {{"standalone", 0}, {"etcd-1", 1}, {"etcd-3", 3}};
  std::vector<result> rows;
  bool broken = false;
  int run_id = 0;
  for (int w : opts->writers) {
    for (auto& m : modes) {
      rows.push_back(run(m.name, m.nodes, w, *opts, etcd, ++run_id));
      broken = broken || !rows.back().error.empty();
      print_row(rows.back(), rows);
      std::fflush(stdout);
    }
  }
  std::printf("\nx sa: against standalone at the same W (p50: times slower; "
              "writes/s: share of its throughput). cas confl: commits that "
              "lost the race for etcd's head, summed over the mode's nodes "
              "(each is adopted and retried; after 3 s of lost races the write fails).\n");
  return broken ? 1 : 0;
}

// bench/subscribers: one change to many local subscribers. For each size, a
// pipeline with that many subscriber actors (one actor each, subscribed
// through the store at the prefix the write touches) takes one write; the
// figure is the time from the write to the last subscriber having it, and
// the memory each subscriber costs (RSS delta over the spawning and
// subscribing, from /proc/self/statm). Next to it, raw CAF: as many plain
// actors, each sent the same change by one sender actor.
//
//   subscribers [--sizes 1000,10000,100000] [--writes 5]
//               [--scheduler sharing|stealing] [--threads 0]
//
// Each (system, size) runs in a child process of its own (this program,
// re-executed with --one): an RSS delta is only honest in a process whose
// allocator has not kept the memory of an earlier run.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <cstdlib>
#include <ctime>
#include <map>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <unistd.h>

#include <caf/all.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cfgactors/cfgactors.hpp"
#include "counts.hpp"
#include "usage.hpp"
#include "verdict.hpp"
#include "propagation/process.hpp"

using namespace cfgactors;
using bench::rss_bytes;
using bench::to_count;
using namespace std::chrono_literals;

namespace {

int64_t monotonic_ns() {
  timespec ts{};
  clock_gettime(CLOCK_MONOTONIC, &ts);
  return int64_t{ts.tv_sec} * 1000000000 + ts.tv_nsec;
}

/// What every subscriber of one run shares: the version the timed write
/// makes, and how many have it.
struct tally {
  std::atomic<uint64_t> target{UINT64_MAX};
  std::atomic<int> done{0};
  std::atomic<int64_t> last_ns{0};
  int expected = 0;

  void saw(uint64_t version) {
    if (version < target.load(std::memory_order_acquire))
      return;
    if (done.fetch_add(1, std::memory_order_acq_rel) + 1 == expected)
      last_ns.store(monotonic_ns(), std::memory_order_release);
  }

  /// Waits until all `expected` have the target; false after `limit`.
  bool await(std::chrono::seconds limit) {
    auto deadline = std::chrono::steady_clock::now() + limit;
    while (done.load(std::memory_order_acquire) < expected) {
      if (std::chrono::steady_clock::now() > deadline)
        return false;
      std::this_thread::sleep_for(20us);
    }
    return true;
  }

  void arm(uint64_t version) {
    done.store(0);
    last_ns.store(0);
    target.store(version, std::memory_order_release);
  }
};

subscriber_actor::behavior_type counting_subscriber(subscriber_actor::pointer,
                                                    std::shared_ptr<tally> t) {
  return {[t](const change& c) { t->saw(c.version); }};
}

caf::behavior plain_actor(caf::event_based_actor*, std::shared_ptr<tally> t) {
  return {[t](const change& c) { t->saw(c.version); }};
}

/// The one sender of the raw CAF run: on each change, sends it to all.
caf::behavior fan_out(caf::event_based_actor* self,
                      std::shared_ptr<std::vector<caf::actor>> to) {
  return {[self, to](const change& c) {
    for (auto& a : *to)
      self->send(a, c);
  }};
}

/// One run's figures, as the child prints them for the parent.
struct figures {
  int64_t rss_delta = 0;
  std::vector<int64_t> latencies_ns;
  std::vector<int64_t> commit_ns; ///< cfgactors: until the write's answer
};

json base_config() {
  json cfg = json::object();
  for (int i = 0; i < 100; ++i)
    cfg["app"]["k" + std::to_string(i)] = i;
  cfg["bench"]["flip"] = 0;
  return cfg;
}

std::optional<write_result> write(caf::scoped_actor& self,
                                  const validator_actor& validator,
                                  std::vector<operation> ops) {
  std::optional<write_result> out;
  self
    ->request(validator, 30s, write_atom::value,
              write_request{std::move(ops), "bench", 0, {}})
    .receive([&](write_result& r) { out = std::move(r); },
             [&](caf::error&) {});
  if (out && out->status != write_status::committed)
    out.reset();
  return out;
}

std::optional<figures> run_cfgactors(caf::actor_system& sys, int n,
                                     int writes) {
  auto pipe = spawn_pipeline(sys, {});
  caf::scoped_actor self{sys};
  auto first = write(self, pipe.validator,
                     {operation::replace_layer(std::string{defaults_layer},
                                               base_config())});
  if (!first)
    return std::nullopt;
  auto t = std::make_shared<tally>();
  t->expected = n;
  figures out;
  auto before = rss_bytes();
  std::vector<subscriber_actor> subs;
  subs.reserve(static_cast<size_t>(n));
  // Subscribed a window at a time: the answers come back as messages.
  constexpr int window = 1024;
  for (int i = 0; i < n; i += window) {
    int batch = std::min(window, n - i);
    for (int k = 0; k < batch; ++k) {
      subs.push_back(sys.spawn(counting_subscriber, t));
      self->send(pipe.store, subscribe_atom::value, std::string{"bench"},
                 subs.back());
    }
    bool ok = true;
    int got = 0;
    self->receive_for(got, batch)(
      [](uint64_t) {}, [&](caf::error&) { ok = false; },
      caf::after(30s) >> [&] { ok = false; });
    if (!ok)
      return std::nullopt;
  }
  out.rss_delta = rss_bytes() - before;
  auto version = first->version;
  for (int w = 1; w <= writes; ++w) {
    t->arm(++version);
    auto t0 = monotonic_ns();
    auto r = write(self, pipe.validator,
                   {operation::set("bench.flip", json(w))});
    auto committed = monotonic_ns();
    if (!r || r->version != version || !t->await(120s))
      return std::nullopt;
    out.commit_ns.push_back(committed - t0);
    out.latencies_ns.push_back(t->last_ns.load() - t0);
  }
  for (auto& s : subs)
    caf::anon_send_exit(s, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  return out;
}

std::optional<figures> run_caf(caf::actor_system& sys, int n, int writes) {
  auto t = std::make_shared<tally>();
  t->expected = n;
  figures out;
  auto before = rss_bytes();
  auto actors = std::make_shared<std::vector<caf::actor>>();
  actors->reserve(static_cast<size_t>(n));
  for (int i = 0; i < n; ++i)
    actors->push_back(sys.spawn(plain_actor, t));
  out.rss_delta = rss_bytes() - before;
  auto sender = sys.spawn(fan_out, actors);
  // The same message a subscriber gets: a change of one path, holding the
  // two snapshots by pointer.
  change c;
  c.prefix = "bench";
  c.paths = {"bench.flip"};
  c.hash = std::string(64, '0');
  for (int w = 1; w <= writes; ++w) {
    c.prev_version = c.version;
    c.version = static_cast<uint64_t>(w);
    t->arm(c.version);
    auto t0 = monotonic_ns();
    caf::anon_send(sender, c);
    if (!t->await(120s))
      return std::nullopt;
    out.latencies_ns.push_back(t->last_ns.load() - t0);
  }
  for (auto& a : *actors)
    caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
  caf::anon_send_exit(sender, caf::exit_reason::user_shutdown);
  return out;
}

/// CAF's scheduler for both systems: sharing, as cfgd runs it. (The
/// library's default is CAF's, stealing: there, one sender's fan-out to
/// 100,000 plain actors took 16 s against 0.5 s with sharing.)
struct scheduling {
  std::string policy = "sharing";
  int threads = 0; ///< 0: CAF's default
};

/// Child: one system at one size; prints one line for the parent.
int run_one(const std::string& system, int n, int writes,
            const scheduling& sched) {
  cfgactors::system_config cfg;
  cfg.set("scheduler.policy", caf::atom_from_string(sched.policy));
  if (sched.threads > 0)
    cfg.set("scheduler.max-threads", static_cast<size_t>(sched.threads));
  caf::actor_system sys{cfg};
  auto f = system == "cfgactors" ? run_cfgactors(sys, n, writes)
                                 : run_caf(sys, n, writes);
  if (!f) {
    std::printf("failed\n");
    return 1;
  }
  std::sort(f->latencies_ns.begin(), f->latencies_ns.end());
  std::sort(f->commit_ns.begin(), f->commit_ns.end());
  auto median = [](const std::vector<int64_t>& xs) {
    return xs.empty() ? int64_t{-1} : xs[(xs.size() - 1) / 2];
  };
  std::printf("one %" PRId64 " %" PRId64 " %" PRId64 " %" PRId64 "\n",
              f->rss_delta, median(f->latencies_ns), f->latencies_ns.back(),
              median(f->commit_ns));
  // Before the actor system's teardown: its end must not lose the line.
  std::fflush(stdout);
  return 0;
}

struct row {
  std::string system;
  int n = 0;
  bool ok = false;
  double rss_per = 0; ///< bytes per subscriber
  double p50_ms = 0;
  double max_ms = 0;
  double commit_ms = -1;
};

row run_child(const std::string& self_path, const std::string& system, int n,
              int writes, const scheduling& sched) {
  row r;
  r.system = system;
  r.n = n;
  // Every argument is a fixed word or a number: nothing for the shell to
  // interpret.
  auto cmd = "'" + self_path + "' --one " + system + " --n "
             + std::to_string(n) + " --writes " + std::to_string(writes)
             + " --scheduler " + sched.policy + " --threads "
             + std::to_string(sched.threads);
  std::FILE* p = popen(cmd.c_str(), "r");
  if (!p)
    return r;
  char line[256];
  int64_t rss = 0, p50 = 0, max = 0, commit = 0;
  while (std::fgets(line, sizeof(line), p))
    if (std::sscanf(line, "one %" SCNd64 " %" SCNd64 " %" SCNd64 " %" SCNd64,
                    &rss, &p50, &max, &commit)
        == 4)
      r.ok = true;
  auto status = pclose(p);
  if (status != 0)
    std::fprintf(stderr, "subscribers: %s at %d: child status %d\n",
                 system.c_str(), n, status);
  r.ok = status == 0 && r.ok;
  r.rss_per = static_cast<double>(rss) / n;
  r.p50_ms = static_cast<double>(p50) / 1e6;
  r.max_ms = static_cast<double>(max) / 1e6;
  r.commit_ms = commit >= 0 ? static_cast<double>(commit) / 1e6 : -1;
  return r;
}

const char* usage_text
  = "usage: subscribers [--sizes 1000,10000,100000] [--writes 5]\n"
    "                   [--scheduler sharing|stealing] [--threads 0]\n"
    "  sizes in 1..1000000, writes in 1..100, threads in 0..64\n";

int usage(const std::string& why) {
  return bench::refuse("subscribers", why, usage_text);
}

} // namespace

int main(int argc, char** argv) {
  // Warnings only, and on stderr: stdout is the table.
  spdlog::set_default_logger(spdlog::stderr_color_mt("subscribers"));
  spdlog::set_level(spdlog::level::warn);
  if (bench::wants_help(argc, argv))
    return bench::help(usage_text);
  std::vector<int> sizes{1000, 10000, 100000};
  int writes = 5;
  std::string one;
  int one_n = 0;
  scheduling sched;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      return usage("missing the value of " + arg);
    std::string value = argv[++i];
    if (arg == "--sizes") {
      auto given = bench::to_counts(value, 1, 1000000);
      if (!given)
        return usage("--sizes: '" + value
                     + "': expected counts in 1..1000000, separated by "
                       "commas");
      sizes = std::move(*given);
    } else if (arg == "--writes") {
      auto n = to_count(value);
      if (!n || *n < 1 || *n > 100)
        return usage("--writes: " + value + " is not a count in 1..100");
      writes = *n;
    } else if (arg == "--scheduler") {
      if (value != "stealing" && value != "sharing")
        return usage("--scheduler: " + value + " (stealing or sharing)");
      sched.policy = value;
    } else if (arg == "--threads") {
      auto n = to_count(value);
      if (!n || *n > 64)
        return usage("--threads: " + value + " is not a count in 0..64");
      sched.threads = *n;
    } else if (arg == "--one") {
      if (value != "cfgactors" && value != "caf")
        return usage("--one: " + value + " (cfgactors or caf)");
      one = value;
    } else if (arg == "--n") {
      auto n = to_count(value);
      if (!n || *n < 1 || *n > 1000000)
        return usage("--n: " + value + " is not a count in 1..1000000");
      one_n = *n;
    } else {
      return usage("unknown option " + arg);
    }
  }
  if (!one.empty())
    return one_n > 0 ? run_one(one, one_n, writes, sched)
                     : usage("--one needs --n");
  char self_path[4096];
  auto len = readlink("/proc/self/exe", self_path, sizeof(self_path) - 1);
  if (len <= 0)
    return usage("cannot find this program (/proc/self/exe)");
  self_path[len] = '\0';
  std::printf("subscribers: one write -> N local subscriber actors (one "
              "actor each, subscribed through the store at \"bench\"); "
              "time from the write to the last subscriber having it, median "
              "and max of %d writes;\nmemory per subscriber = RSS delta over "
              "spawning + subscribing / N (/proc/self/statm), each row in a "
              "process of its own;\ncaf: N plain actors, each sent the same "
              "change by one sender actor; scheduler.policy=%s "
              "scheduler.max-threads=%s; host: %u cores\n\n",
              writes, sched.policy.c_str(),
              sched.threads > 0 ? std::to_string(sched.threads).c_str()
                                : "default",
              std::thread::hardware_concurrency());
  std::printf("%-10s %11s %10s %10s %10s %10s %9s %9s\n", "system",
              "subscribers", "p50 ms", "max ms", "commit ms", "B/sub",
              "p50/caf", "mem/caf");
  std::fflush(stdout);
  std::vector<row> rows;
  bool failed = false;
  for (int n : sizes) {
    auto caf_row = run_child(self_path, "caf", n, writes, sched);
    auto cfg_row = run_child(self_path, "cfgactors", n, writes, sched);
    for (auto* r : {&cfg_row, &caf_row}) {
      if (!r->ok) {
        failed = true;
        std::printf("%-10s %11d   failed\n", r->system.c_str(), r->n);
        continue;
      }
      char commit[16] = "-";
      char vs_time[16] = "-";
      char vs_mem[16] = "-";
      if (r->commit_ms >= 0)
        std::snprintf(commit, sizeof(commit), "%.2f", r->commit_ms);
      if (r != &caf_row && caf_row.ok) {
        std::snprintf(vs_time, sizeof(vs_time), "%.2f",
                      r->p50_ms / caf_row.p50_ms);
        std::snprintf(vs_mem, sizeof(vs_mem), "%.2f",
                      r->rss_per / caf_row.rss_per);
      }
      std::printf("%-10s %11d %10.2f %10.2f %10s %10.0f %9s %9s\n",
                  r->system.c_str(), r->n, r->p50_ms, r->max_ms, commit,
                  r->rss_per, vs_time, vs_mem);
    }
    std::fflush(stdout);
    rows.push_back(cfg_row);
  }
  std::printf("\n");
  for (auto& r : rows) {
    if (!r.ok) {
      std::printf("N=%-7d target not checked: cfgactors failed\n", r.n);
      continue;
    }
    std::printf("N=%-7d write -> last subscriber p50 %.2f ms (target <= 50 "
                "ms: %s); %.0f B per subscriber (target <= 2 KiB each: %s)\n",
                r.n, r.p50_ms, bench::verdict(r.p50_ms, 50).c_str(), r.rss_per,
                bench::verdict(r.rss_per, 2048).c_str());
  }
  return failed ? 1 : 0;
}

// bench/reads: nanoseconds per read of one integer from a config of 100
// keys, with 1 and 2 reader threads while a writer commits 1,000 versions
// per second, for
//   setting<T>               a node's setting (one atomic load, a compare)
//   node::get<T>(path)       a node's cell, path walked per read
//   shared_mutex + map       std::shared_mutex + std::unordered_map of
//                            dotted keys, the usual hand-rolled store
//   mutex + shared_ptr       a std::mutex guarding a shared_ptr snapshot,
//                            path walked per read
// Each contender's writer commits through that contender's own mechanism:
// the node's writer through node::set (validator, store, cell updater).
#include <algorithm>
#include <ctime>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <mutex>
#include <shared_mutex>
#include <string>
#include <thread>
#include <unordered_map>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "cfgactors/cfgactors.hpp"
#include "usage.hpp"

using namespace cfgactors;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

constexpr auto read_time = 300ms;   ///< per run and reader thread
constexpr auto commit_every = 1ms;  ///< the writer's pace
constexpr int runs = 3;             ///< best of
constexpr const char* read_path = "limits.buffer_size";

/// 100 keys in 10 sections; `limits.buffer_size` is the one read.
json make_config(int64_t version) {
  json cfg = json::object();
  for (int s = 0; s < 10; ++s)
    for (int k = 0; k < 10; ++k)
      cfg["s" + std::to_string(s)]["k" + std::to_string(k)] = s * 10 + k;
  cfg["limits"]["buffer_size"] = version;
  return cfg;
}

/// Every leaf under its dotted key.
void flatten(const json& x, const std::string& prefix,
             std::unordered_map<std::string, json>& out) {
  if (!x.is_object()) {
    out[prefix] = x;
    return;
  }
  for (auto& [key, value] : x.items())
    flatten(value, prefix.empty() ? key : prefix + "." + key, out);
}

/// CPU time of the calling thread: a loaded machine deschedules readers,
/// which wall time would count as read time.
double thread_cpu_ns() {
  timespec ts{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return ts.tv_sec * 1e9 + ts.tv_nsec;
}

/// Nanoseconds of CPU per read on each of `threads` readers (their mean),
/// while a writer commits every `commit_every`. `read` is inlined into the
/// loop: no call through a function pointer is measured.
template <class Read, class Commit>
double run(Read read, Commit commit, int threads, double& commit_rate) {
  std::atomic<bool> stop_writer{false};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int64_t> sink{0};
  std::vector<double> ns(threads);
  uint64_t commits = 0;
  auto w0 = clock_type::now();
  std::thread writer{[&] {
    // A fixed pace: the next commit is due one period after the previous
    // was due, so a late commit is followed by a prompt one.
    int64_t v = 1;
    auto due = clock_type::now();
    while (!stop_writer.load()) {
      commit(++v);
      ++commits;
      due += commit_every;
      std::this_thread::sleep_until(due);
    }
  }};
  std::vector<std::thread> readers;
  for (int t = 0; t < threads; ++t)
    readers.emplace_back([&, t] {
      int64_t sum = read(); // first read of this thread: not measured
      ready.fetch_add(1);
      while (!go.load())
        std::this_thread::yield();
      uint64_t reads = 0;
      auto deadline = clock_type::now() + read_time;
      auto cpu0 = thread_cpu_ns();
      do {
        for (int i = 0; i < 4096; ++i)
          sum += read();
        reads += 4096;
      } while (clock_type::now() < deadline);
      ns[t] = (thread_cpu_ns() - cpu0) / static_cast<double>(reads);
      sink.fetch_add(sum);
    });
  while (ready.load() < threads)
    std::this_thread::yield();
  go = true;
  for (auto& r : readers)
    r.join();
  stop_writer = true;
  writer.join();
  commit_rate = commits / std::chrono::duration<double>(clock_type::now() - w0)
                            .count();
  if (sink.load() == 0)
    std::abort(); // the reads read nothing
  double total = 0;
  for (auto x : ns)
    total += x;
  return total / threads;
}

struct row {
  std::string name;
  double ns = 1e300;  ///< best of the runs
  double commit_rate = 0;
};

const char* usage_text
  = "usage: reads   (no options: each way of reading, 1 and 2 reader threads)\n";

} // namespace

int main(int argc, char** argv) {
  if (bench::wants_help(argc, argv))
    return bench::help(usage_text);
  if (argc > 1)
    return bench::refuse("reads", std::string{"takes no options: "} + argv[1],
                         usage_text);
  spdlog::set_level(spdlog::level::warn); // one info line per commit otherwise
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto started = node::primary(sys, node_options{}.defaults(make_config(1)));
  if (!started) {
    std::fprintf(stderr, "node: %s\n", sys.render(started.error()).c_str());
    return 1;
  }
  auto& n = *started;
  setting<int64_t> buffer_size{n, read_path, 0};
  auto node_commit = [&n](int64_t v) {
    if (!n.set(read_path, v).result.ok())
      std::abort();
  };
  std::shared_mutex map_mtx;
  std::unordered_map<std::string, json> map;
  flatten(make_config(1), "", map);
  std::mutex ptr_mtx;
  auto ptr = std::make_shared<const json>(make_config(1));
  auto map_read = [&] {
    std::shared_lock<std::shared_mutex> guard{map_mtx};
    auto i = map.find(read_path);
    return i != map.end() && i->second.is_number_integer()
             ? i->second.get<int64_t>()
             : int64_t{0};
  };
  auto map_commit = [&](int64_t v) {
    std::unique_lock<std::shared_mutex> guard{map_mtx};
    map[read_path] = v;
  };
  auto ptr_read = [&] {
    std::shared_ptr<const json> snap;
    {
      std::lock_guard<std::mutex> guard{ptr_mtx};
      snap = ptr;
    }
    int64_t x = 0;
    std::string err;
    if (auto* v = lookup(*snap, read_path))
      convert(*v, x, err);
    return x;
  };
  auto ptr_commit = [&](int64_t v) {
    auto next = std::make_shared<const json>(make_config(v));
    std::lock_guard<std::mutex> guard{ptr_mtx};
    ptr.swap(next);
  };
  auto setting_read = [&] { return buffer_size(); };
  auto get_read = [&] { return n.get<int64_t>(read_path, 0); };
  std::printf("%-30s %8s %10s %14s %12s\n", "contender", "readers",
              "ns/read", "vs baseline", "commits/s");
  bool met = true;
  std::string verdicts;
  for (int threads : {1, 2}) {
    std::vector<row> rows{{"setting<int64_t>"},
                          {"node::get<int64_t>(path)"},
                          {"shared_mutex + unordered_map"},
                          {"mutex + shared_ptr snapshot"}};
    auto measure = [&](row& r, auto read, auto commit) {
      double rate = 0;
      auto x = run(read, commit, threads, rate);
      if (x < r.ns) {
        r.ns = x;
        r.commit_rate = rate;
      }
    };
    for (int i = 0; i < runs; ++i) {
      measure(rows[0], setting_read, node_commit);
      measure(rows[1], get_read, node_commit);
      measure(rows[2], map_read, map_commit);
      measure(rows[3], ptr_read, ptr_commit);
    }
    auto baseline = rows[2].ns;
    for (auto& r : rows)
      std::printf("%-30s %8d %10.2f %13.1fx %12.0f\n", r.name.c_str(),
                  threads, r.ns, baseline / r.ns, r.commit_rate);
    std::fflush(stdout);
    auto ok = rows[0].ns <= 2.0 && baseline / rows[0].ns >= 10.0;
    met = met && ok;
    char line[160];
    std::snprintf(line, sizeof(line),
                  "  %d reader%s: %.2f ns, %.1fx the shared_mutex baseline: "
                  "%s\n",
                  threads, threads == 1 ? "" : "s", rows[0].ns,
                  baseline / rows[0].ns, ok ? "met" : "NOT met");
    verdicts += line;
  }
  std::printf("\ntarget: setting<T> <= 2 ns per read and >= 10x faster than "
              "shared_mutex + unordered_map\n%s",
              verdicts.c_str());
  std::printf("overall: %s\n", met ? "met" : "NOT met");
  std::printf("(ns/read: reader CPU time per read, mean over readers, best "
              "of %d runs of %lld ms; commits/s: the writer in that run)\n",
              runs, static_cast<long long>(read_time.count()));
}

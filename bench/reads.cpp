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
#include <atomic>
#include <chrono>
#include <cstdio>
#include <functional>
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

struct contender {
  std::string name;
  std::function<int64_t()> read;  ///< one read, any thread
  std::function<void(int64_t)> commit; ///< one version, from the writer
};

/// Nanoseconds per read on each of `threads` readers (their mean), while a
/// writer commits every `commit_every`.
double run(const contender& c, int threads, uint64_t& commits) {
  std::atomic<bool> stop_writer{false};
  std::atomic<int> ready{0};
  std::atomic<bool> go{false};
  std::atomic<int64_t> sink{0};
  std::vector<double> ns(threads);
  std::thread writer{[&] {
    int64_t v = 1;
    while (!stop_writer.load()) {
      c.commit(++v);
      ++commits;
      std::this_thread::sleep_for(commit_every);
    }
  }};
  std::vector<std::thread> readers;
  for (int t = 0; t < threads; ++t)
    readers.emplace_back([&, t] {
      int64_t sum = 0;
      c.read(); // first read of this thread: not part of the figure
      ready.fetch_add(1);
      while (!go.load())
        std::this_thread::yield();
      uint64_t reads = 0;
      auto t0 = clock_type::now();
      auto deadline = t0 + read_time;
      auto now = t0;
      do {
        for (int i = 0; i < 4096; ++i)
          sum += c.read();
        reads += 4096;
        now = clock_type::now();
      } while (now < deadline);
      ns[t] = std::chrono::duration<double, std::nano>(now - t0).count()
              / static_cast<double>(reads);
      sink.fetch_add(sum);
    });
  while (ready.load() < threads)
    std::this_thread::yield();
  go = true;
  for (auto& r : readers)
    r.join();
  stop_writer = true;
  writer.join();
  if (sink.load() == 0)
    std::abort(); // the reads read nothing
  double total = 0;
  for (auto x : ns)
    total += x;
  return total / threads;
}

} // namespace

int main() {
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
  std::vector<contender> contenders{
    {"setting<int64_t>", [&] { return buffer_size(); }, node_commit},
    {"node::get<int64_t>(path)",
     [&] { return n.get<int64_t>(read_path, 0); }, node_commit},
    {"shared_mutex + unordered_map",
     [&] {
       std::shared_lock<std::shared_mutex> guard{map_mtx};
       auto i = map.find(read_path);
       return i != map.end() && i->second.is_number_integer()
                ? i->second.get<int64_t>()
                : int64_t{0};
     },
     [&](int64_t v) {
       std::unique_lock<std::shared_mutex> guard{map_mtx};
       map[read_path] = v;
     }},
    {"mutex + shared_ptr snapshot",
     [&] {
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
     },
     [&](int64_t v) {
       auto next = std::make_shared<const json>(make_config(v));
       std::lock_guard<std::mutex> guard{ptr_mtx};
       ptr.swap(next);
     }},
  };
  std::printf("%-30s %8s %10s %14s %12s\n", "contender", "readers",
              "ns/read", "vs baseline", "commits/s");
  bool met = true;
  std::string verdicts;
  for (int threads : {1, 2}) {
    std::vector<double> best(contenders.size(), 1e300);
    std::vector<double> rate(contenders.size(), 0);
    for (int r = 0; r < runs; ++r)
      for (size_t i = 0; i < contenders.size(); ++i) {
        uint64_t commits = 0;
        auto t0 = clock_type::now();
        best[i] = std::min(best[i], run(contenders[i], threads, commits));
        rate[i] = commits / std::chrono::duration<double>(clock_type::now()
                                                          - t0)
                              .count();
      }
    auto baseline = best[2];
    for (size_t i = 0; i < contenders.size(); ++i)
      std::printf("%-30s %8d %10.2f %13.1fx %12.0f\n",
                  contenders[i].name.c_str(), threads, best[i],
                  baseline / best[i], rate[i]);
    auto ok = best[0] <= 2.0 && baseline / best[0] >= 10.0;
    met = met && ok;
    char line[160];
    std::snprintf(line, sizeof(line),
                  "  %d reader%s: %.2f ns, %.1fx the shared_mutex baseline: "
                  "%s\n",
                  threads, threads == 1 ? "" : "s", best[0],
                  baseline / best[0], ok ? "met" : "NOT met");
    verdicts += line;
    std::fflush(stdout);
  }
  std::printf("\ntarget: setting<T> <= 2 ns per read and >= 10x faster than "
              "shared_mutex + unordered_map\n%s",
              verdicts.c_str());
  std::printf("overall: %s\n", met ? "met" : "NOT met");
  std::printf("(baseline = shared_mutex + unordered_map in the same run; "
              "best of %d runs of %lld ms per row)\n",
              runs, static_cast<long long>(read_time.count()));
}

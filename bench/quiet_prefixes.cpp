// bench/quiet_prefixes: what subscriptions on prefixes a write does not
// touch cost it.
//
// Memory: a pipeline holds a config of `keys` keys (sections of 100); each
// of `prefixes` subscribers watches a section of its own, each of those
// sections is written once in turn (so each subscriber last saw a different
// version), then history_size + 10 writes go to a section nobody watches.
// The resident memory then (after malloc_trim) is compared with the same
// run without the subscribers: the difference, per quiet prefix, is what
// each keeps alive. A subscription that held on to the last snapshot it
// was given kept that version's whole tree (9.4 MiB at 100,000 keys).
//
// Time: commits per second of one-key writes (64 in flight) to a 100-key
// config with N subscribers, each on a prefix of its own that no write
// touches, for each N of `--idle`, next to N = 0 in the same run: a write
// costs what it changes when the router finds the subscriptions it touches
// without visiting the others.
//
//   quiet_prefixes [--keys 100000] [--prefixes 64] [--idle 1000,10000,100000]
//                  [--commits 20000]
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "cfgactors/cfgactors.hpp"
#include "counts.hpp"
#include "usage.hpp"
#include "propagation/process.hpp"

using namespace cfgactors;

namespace {

constexpr int per_section = 100;

json make_config(int keys) {
  json cfg = json::object();
  for (int i = 0; i < keys; ++i)
    cfg["s" + std::to_string(i / per_section)]["k" + std::to_string(i % per_section)] = i;
  return cfg;
}

struct seen_version {
  std::atomic<uint64_t> value{0};
};

using seen_list = std::shared_ptr<std::vector<seen_version>>;

subscriber_actor::behavior_type
recording_subscriber(subscriber_actor::pointer, seen_list seen, size_t index) {
  return {[seen, index](const change& c) {
    (*seen)[index].value.store(c.version, std::memory_order_release);
  }};
}

uint64_t commit(caf::scoped_actor& self, const pipeline& pipe,
                std::vector<operation> ops) {
  uint64_t version = 0;
  self->request(pipe.validator, caf::infinite, write_atom::value,
                write_request{std::move(ops), "bench", 0, {}})
    .receive(
      [&](write_result& r) {
        if (r.status != write_status::committed) {
          std::fprintf(stderr, "write not committed: %s\n",
                       to_string(r.status).c_str());
          std::exit(1);
        }
        version = r.version;
      },
      [](caf::error& err) {
        std::fprintf(stderr, "write failed: %s\n", to_string(err).c_str());
        std::exit(1);
      });
  return version;
}

/// Resident MiB once the quiet prefixes are quiet, with `prefixes`
/// subscribers (0: the baseline).
double resident_mib(caf::actor_system& sys, int keys, int prefixes) {
  auto pipe = spawn_pipeline(sys, pipeline_options{});
  caf::scoped_actor self{sys};
  commit(self, pipe, {operation::replace_layer("file:bench.yaml",
                                               make_config(keys))});
  auto seen = std::make_shared<std::vector<seen_version>>(prefixes);
  std::vector<caf::actor> subs;
  for (int i = 0; i < prefixes; ++i) {
    auto sub = sys.spawn(recording_subscriber, seen, static_cast<size_t>(i));
    subs.push_back(caf::actor_cast<caf::actor>(sub));
    self->request(pipe.store, caf::infinite, subscribe_atom::value,
                  "s" + std::to_string(i), sub)
      .receive([](uint64_t) {}, [](caf::error&) { std::abort(); });
  }
  // Each watched section once, in turn; wait for its subscriber to have
  // it, so that each last saw a version of its own.
  for (int i = 0; i < prefixes; ++i) {
    auto v = commit(self, pipe, {operation::set("s" + std::to_string(i) + ".k0",
                                                keys + i)});
    while ((*seen)[i].value.load(std::memory_order_acquire) < v)
      std::this_thread::yield();
  }
  // Then only a section nobody watches, until the history has let go of
  // every version the subscribers were given.
  auto quiet = "s" + std::to_string(keys / per_section - 1) + ".k0";
  auto writes = pipeline_options{}.storage.history_size + 10;
  for (std::size_t i = 0; i < writes; ++i)
    commit(self, pipe, {operation::set(quiet, static_cast<int64_t>(i))});
  // The subscribers' answers travel after their last change: let them land.
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  bench::reset_peak_rss(); // malloc_trim: what is still in use
  auto mib = static_cast<double>(bench::rss_bytes()) / (1 << 20);
  for (auto& s : subs)
    self->send_exit(s, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  return mib;
}

/// One-key commits per second with `idle` subscribers on prefixes that no
/// write touches (each its own: "quiet.<i>"), `commits` writes, 64 in
/// flight, until a subscriber on the written prefix has the last: the
/// router's work is part of the time (the store answers a write before the
/// router has passed it on).
double commits_per_second(caf::actor_system& sys, int idle, int commits) {
  auto pipe = spawn_pipeline(sys, pipeline_options{});
  caf::scoped_actor self{sys};
  commit(self, pipe, {operation::replace_layer("file:bench.yaml",
                                               make_config(100))});
  // The idle ones, and last the one that watches the written prefix.
  auto seen = std::make_shared<std::vector<seen_version>>(idle + 1);
  std::vector<caf::actor> subs;
  subs.reserve(idle + 1);
  for (int i = 0; i < idle; ++i) {
    auto sub = sys.spawn(recording_subscriber, seen, static_cast<size_t>(i));
    subs.push_back(caf::actor_cast<caf::actor>(sub));
    self->send(pipe.store, subscribe_atom::value,
               "quiet." + std::to_string(i), sub);
  }
  auto watcher = sys.spawn(recording_subscriber, seen,
                           static_cast<size_t>(idle));
  subs.push_back(caf::actor_cast<caf::actor>(watcher));
  self->send(pipe.store, subscribe_atom::value, std::string{"s0"}, watcher);
  for (int i = 0; i <= idle; ++i)
    self->receive([](uint64_t) {}, [](caf::error&) { std::abort(); });
  uint64_t last = 0;
  constexpr int window = 64;
  int sent = 0;
  auto send_one = [&] {
    self->send(pipe.validator, write_atom::value,
               write_request{{operation::set("s0.k0", ++sent)}, "bench", 0,
                             {}});
  };
  auto run = [&](int n) {
    int answered = 0;
    auto until = sent + n;
    auto first = std::min(until, sent + window);
    while (sent < first)
      send_one();
    while (answered < n)
      self->receive([&](write_result& r) {
        if (r.status != write_status::committed)
          std::abort();
        last = std::max(last, r.version);
        ++answered;
        if (sent < until)
          send_one();
      });
    while ((*seen)[idle].value.load(std::memory_order_acquire) < last)
      std::this_thread::yield();
  };
  run(200); // the history fills, the tree pool settles
  auto t0 = std::chrono::steady_clock::now();
  run(commits);
  std::chrono::duration<double> took = std::chrono::steady_clock::now() - t0;
  for (auto& s : subs)
    self->send_exit(s, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  return commits / took.count();
}

const char* usage_text
  = "usage: quiet_prefixes [--keys 100000] [--prefixes 64] "
    "[--idle 1000,10000,100000] [--commits 20000]\n";

int usage(const char* why) {
  return bench::refuse("quiet_prefixes", why, usage_text);
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn);
  if (bench::wants_help(argc, argv))
    return bench::help(usage_text);
  int keys = 100000;
  int prefixes = 64;
  std::vector<int> idle{1000, 10000, 100000};
  int commits = 20000;
  for (int i = 1; i < argc; ++i) {
    std::string arg = argv[i];
    if (i + 1 >= argc)
      return usage(("missing value after " + arg).c_str());
    std::string text = argv[++i];
    // Not a count: -1, which each range check below refuses.
    auto value = bench::to_count(text).value_or(-1);
    if (arg == "--keys")
      keys = value;
    else if (arg == "--prefixes")
      prefixes = value;
    else if (arg == "--commits")
      commits = value;
    else if (arg == "--idle") {
      auto counts = bench::to_counts(text, 1, 1000000);
      if (!counts)
        return usage(("--idle: " + text
                      + ": expected counts of 1 to 1000000, separated by "
                        "commas").c_str());
      idle = *counts;
    } else
      return usage(("unknown option " + arg).c_str());
  }
  if (commits < 1 || commits > 10000000)
    return usage("--commits: 1 to 10000000");
  // One more section than the watched ones: the quiet writes go there.
  if (keys < per_section * 2 || keys > 10000000)
    return usage("--keys: 200 to 10000000");
  if (prefixes < 1 || prefixes >= keys / per_section)
    return usage("--prefixes: 1 to one less than the sections (keys / 100)");
  caf::actor_system_config cfg;
  caf::actor_system sys{cfg};
  // The baseline first, then again after: the allocator's state after a
  // run is the noise the two baselines show.
  auto before = resident_mib(sys, keys, 0);
  auto with = resident_mib(sys, keys, prefixes);
  auto after = resident_mib(sys, keys, 0);
  auto base = std::max(before, after);
  auto each = std::max(0.0, with - base) / prefixes;
  // The peer: what one whole tree of the config takes, measured alone.
  bench::reset_peak_rss();
  auto empty = bench::rss_bytes();
  auto tree = std::make_unique<json>(make_config(keys));
  auto tree_mib = static_cast<double>(bench::rss_bytes() - empty) / (1 << 20);
  tree.reset();
  std::printf("keys=%d: resident MiB once quiet: without subscribers %.1f "
              "(again after: %.1f), with %d quiet prefixes %.1f\n",
              keys, before, after, prefixes, with);
  std::printf("keys=%d: %.2f MiB per quiet prefix; one whole tree of the "
              "config: %.2f MiB (%.2f trees per quiet prefix)\n",
              keys, each, tree_mib, tree_mib > 0 ? each / tree_mib : 0.0);
  // Time: the baseline with nobody idle, then each count.
  auto none = commits_per_second(sys, 0, commits);
  std::printf("one-key commits/s, 100-key config, %d commits: no idle "
              "subscribers %.0f\n", commits, none);
  for (auto n : idle) {
    auto rate = commits_per_second(sys, n, commits);
    std::printf("idle=%-7d %10.0f commits/s, %.2fx the time of none\n", n,
                rate, none / rate);
  }
  return 0;
}

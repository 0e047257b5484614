// bench/pipeline: commits per second through validator → store → topic router
// with 1 and 1,000 local subscribers, for configs of 100, 10,000 and 100,000
// keys, printed next to a baseline that does the same work without actors
// (apply the write, merge the layers, validate, hash, diff) in one thread.
// Like the validator, the baseline proves the first tree against the schema
// in full and every later one along the paths its write touched only.
// Every commit changes one key: how its cost grows with the config's size is
// printed last, as a multiple of the 100-key figure. CFG_BENCH_WRITE picks
// the kind of write (a set by default; a flag flip, an unset, a merge patch,
// or a set with the whole config in the runtime layer, where every write
// through the API or cfgctl lands).
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <map>
#include <string>
#include <string_view>
#include <vector>

#include <caf/all.hpp>
#include <spdlog/spdlog.h>

#include "cfgactors/cfgactors.hpp"
#include "counts.hpp"
#include "usage.hpp"
#include "verdict.hpp"
#include "model/hash_tree.hpp"
#include "propagation/process.hpp"
#include "write/apply.hpp"
#include "model/tree_diff.hpp"
#include "write/effective_tree.hpp"
#include "write/normalized_layer.hpp"
#include "write/touched.hpp"

using namespace cfgactors;
using clock_type = std::chrono::steady_clock;

namespace {

/// The one-key write each commit makes, and where the config lives.
struct write_kind {
  const char* name;
  /// The layer the config is written to: a file's, or the runtime layer.
  const char* layer;
  /// The `i`th write (i from 1): each changes one value.
  operation (*op)(int i);
  /// What the subscribers subscribe to: where the write changes.
  const char* topic = "s0";
};

constexpr write_kind write_kinds[] = {
  {"set", "file:bench.yaml",
   [](int i) { return operation::set("s0.k0", i); }},
  {"flag", "file:bench.yaml",
   [](int i) { return operation::flag("f0", i % 2 == 1); }, "features"},
  // Takes the runtime layer's value away and puts it back, in turns.
  {"unset", "file:bench.yaml",
   [](int i) {
     return i % 2 == 1 ? operation::unset("s0.k0")
                       : operation::set("s0.k0", i);
   }},
  {"patch", "file:bench.yaml",
   [](int i) { return operation::merge_patch(json{{"k0", i}}, "s0"); }},
  {"runtime", "runtime", [](int i) { return operation::set("s0.k0", i); }},
};

/// `sections` × `keys` integers: s0.k0 .. s{n}.k{m}, and ten flags.
json make_config(int total_keys) {
  json cfg = json::object();
  int per_section = 100;
  for (int i = 0; i < total_keys; ++i)
    cfg["s" + std::to_string(i / per_section)]["k" + std::to_string(i % per_section)] = i;
  for (int i = 0; i < 10; ++i)
    cfg["features"]["f" + std::to_string(i)] = false;
  return cfg;
}

/// A schema whose work grows with the config: every leaf is type-checked.
/// It has an x-normalize rule, as cfgd's embedded schema has: writes are
/// normalized as cfgd's are.
json_schema_ptr make_schema() {
  std::string err;
  auto schema = json_schema::compile(json::parse(R"({
    "$schema": "http://json-schema.org/draft-07/schema#",
    "type": "object",
    "properties": {
      "features": {"type": "object", "additionalProperties": {"type": "boolean"}},
      "owner": {"type": "string", "x-normalize": "trim"}
    },
    "additionalProperties": {
      "type": "object",
      "additionalProperties": {"type": "integer", "minimum": 0}
    }
  })"), &err);
  if (!schema) {
    std::fprintf(stderr, "schema: %s\n", err.c_str());
    std::exit(1);
  }
  return schema;
}

double seconds_since(clock_type::time_point t0) {
  return std::chrono::duration<double>(clock_type::now() - t0).count();
}

/// Seconds per commit spent in each step of the baseline: where the time of
/// a one-key commit goes as the config grows.
struct stage_times {
  static constexpr const char* names[] = {"apply", "merge", "validate",
                                          "hash", "diff"};
  double seconds[5] = {};
};

/// The same work the actors do per commit, on one thread, no messages: the
/// validator's merge (the last candidate's persistent tree, set again where
/// the layers changed), validation (along the touched paths, on a tree that
/// passed), the store's changed paths (a diff of two trees that share all
/// but the change) and hash along them. Each step is timed on its own into
/// `stages` (a clock read per step: ~50 ns); the touched paths, which
/// validation shares, count in the diff.
double baseline(const write_kind& kind, int keys, int commits,
                const validator_options& opts, stage_times& stages) {
  layer_stack layers;
  layers.put(kind.layer, make_config(keys));
  detail::effective_tree merged;
  layer_data current{merged.build(layers)};
  // As the validator's first write: the full pass, so later ones may build
  // on a tree the schema accepted.
  if (!check_candidate(current, opts).empty())
    std::abort();
  auto hashes = detail::hash_tree_of(*current.tree());
  auto t0 = clock_type::now();
  auto mark = t0;
  auto lap = [&](int stage) {
    auto now = clock_type::now();
    stages.seconds[stage] += std::chrono::duration<double>(now - mark).count();
    mark = now;
  };
  for (int i = 0; i < commits; ++i) {
    mark = clock_type::now();
    auto candidate = layers;
    validation_errors errors;
    write_request req{{kind.op(i + 1)}, "bench", 0, {}};
    if (detail::apply_operations(candidate, req, 128, errors) != errc::none)
      std::abort();
    // As the validator: x-normalize where the write changed a layer (every
    // version here passed this schema).
    detail::normalize_written(*opts.schema, layers, true, candidate);
    if (candidate == layers)
      std::abort();
    lap(0);
    layer_data effective{merged.build(candidate)};
    lap(1);
    // As the validator and the store do: what the changed layers touch, the
    // schema proved below it, the changed paths of the two trees, the hash
    // along those paths.
    auto roots = detail::touched_paths(layers, candidate);
    lap(4);
    errors = check_candidate(effective, opts, &roots);
    if (!errors.empty())
      std::abort();
    lap(2);
    auto paths = detail::changed_paths(*current.tree(), *effective.tree());
    lap(4);
    detail::path_trie changed;
    for (auto& text : paths)
      changed.add(*config_path::parse(text));
    hashes = detail::rehash(hashes, *effective.tree(), changed);
    if (hashes->hex().empty() || paths.empty())
      std::abort();
    lap(3);
    layers = std::move(candidate);
    current = std::move(effective);
  }
  for (auto& x : stages.seconds)
    x /= commits;
  return commits / seconds_since(t0);
}

struct counter {
  std::atomic<uint64_t> last_version{0};
};

caf::behavior counting_subscriber(caf::event_based_actor*,
                                  std::shared_ptr<std::vector<counter>> seen,
                                  size_t index) {
  return {[seen, index](const change& c) {
    (*seen)[index].last_version.store(c.version, std::memory_order_release);
  }};
}

struct actor_run {
  double rate = 0;
  /// Peak resident memory during the run, MiB (the whole process).
  double peak_mib = 0;
  /// Timed writes whose tree was a whole copy of the config
  /// (validator_stats::tree_copies): each costs the config's size.
  uint64_t tree_copies = 0;
};

/// Commits `commits` writes through the actors, `window` in flight, and waits
/// until every subscriber has the final version.
actor_run actors(caf::actor_system& sys, const write_kind& kind, int keys,
                 int subscribers, int commits,
                 int window, const validator_options& opts) {
  bench::reset_peak_rss();
  pipeline_options popts;
  popts.validation = opts;
  auto pipe = spawn_pipeline(sys, popts);
  caf::scoped_actor self{sys};
  auto seen = std::make_shared<std::vector<counter>>(subscribers);
  std::vector<caf::actor> subs;
  for (int i = 0; i < subscribers; ++i) {
    subs.push_back(sys.spawn(counting_subscriber, seen, i));
    self->request(pipe.store, caf::infinite, subscribe_atom::value,
                  std::string{kind.topic}, caf::actor_cast<subscriber_actor>(subs.back()))
      .receive([](uint64_t) {}, [](caf::error&) { std::abort(); });
  }
  uint64_t first = 0;
  self->request(pipe.validator, caf::infinite, write_atom::value,
                write_request{{operation::replace_layer(kind.layer,
                                                        make_config(keys))},
                              "bench", 0, {}})
    .receive([&](write_result& r) { first = r.version; },
             [](caf::error&) { std::abort(); });
  int sent = 0;
  uint64_t last = 0;
  auto t0 = clock_type::now();
  auto copies = [&] {
    uint64_t n = 0;
    self->request(pipe.validator, caf::infinite, stats_atom::value)
      .receive([&](validator_stats& x) { n = x.tree_copies; },
               [](caf::error&) { std::abort(); });
    return n;
  };
  uint64_t copies_before = 0;
  // `n` writes, `window` in flight, until every subscriber has the last;
  // the clock starts when the first `untimed` are answered.
  auto run_writes = [&](int n, int untimed) {
    int answered = 0;
    int until = sent + n;
    auto send_one = [&] {
      self->send(pipe.validator, write_atom::value,
                 write_request{{kind.op(++sent)}, "bench", 0,
                               {}});
    };
    auto first_batch = std::min(sent + window, until);
    while (sent < first_batch)
      send_one();
    while (answered < n) {
      self->receive([&](write_result& r) {
        if (r.status != write_status::committed)
          std::abort();
        last = r.version;
        if (++answered == untimed) {
          copies_before = copies();
          t0 = clock_type::now();
        }
        if (sent < until)
          send_one();
      });
    }
    for (auto& c : *seen)
      while (c.last_version.load(std::memory_order_acquire) < last)
        std::this_thread::yield();
  };
  // Steady state, as a daemon that has run a while has it: the history
  // full (each version evicts one) and `window` writes in flight. One
  // stream, without a pause.
  auto warmup = static_cast<int>(popts.storage.history_size) + window + 2;
  run_writes(warmup + commits, warmup);
  actor_run result{commits / seconds_since(t0), 0};
  result.tree_copies = copies() - copies_before;
  result.peak_mib = static_cast<double>(bench::peak_rss_bytes()) / (1 << 20);
  if (last != first + warmup + commits)
    std::abort();
  for (auto& s : subs)
    self->send_exit(s, caf::exit_reason::user_shutdown);
  shutdown(pipe);
  return result;
}

constexpr const char* usage =
  "usage: bench/pipeline [SCALE]   (timed commits x SCALE; default 1)\n"
  "environment: CFG_BENCH_SIZES=100,10000,100000 (the first is 100)\n"
  "  CFG_BENCH_ROUNDS=3  CFG_BENCH_COMMITS=20000 (a fifth with 1,000\n"
  "  subscribers)  CFG_BENCH_WINDOW=64 (writes in flight)\n"
  "  CFG_BENCH_ONLY=KEYS (that size alone)  CFG_BENCH_SUBS=N (with ONLY)\n"
  "  CFG_BENCH_SCHEDULER=stealing|sharing\n"
  "  CFG_BENCH_WRITE=set|flag|unset|patch|runtime (the one-key write; runtime:\n"
  "  a set with the config in the runtime layer)\n";

} // namespace

int main(int argc, char** argv) {
  spdlog::set_level(spdlog::level::warn); // one info line per commit otherwise
  if (bench::wants_help(argc, argv))
    return bench::help(usage);
  if (argc > 2)
    return bench::refuse("bench/pipeline",
                         std::string{"one argument at most, got "}
                           + std::to_string(argc - 1),
                         usage);
  // A bad number is refused, naming where it came from (std::atoi would
  // read "1e3" as 1 and "--help" as 0).
  bool bad_count = false;
  auto count_of = [&](const char* what, const char* text, int fallback,
                      int least, int most) {
    if (!text)
      return fallback;
    auto n = bench::to_count(text);
    if (!n || *n < least || *n > most) {
      std::fprintf(stderr, "bench/pipeline: %s: '%s' is not a count from "
                           "%d to %d\n%s", what, text, least, most, usage);
      bad_count = true;
      return fallback;
    }
    return *n;
  };
  const int scale = count_of("SCALE", argc == 2 ? argv[1] : nullptr, 1, 1,
                             1000);
  // CAF's default policy, which the library gets unless configured
  // otherwise; CFG_BENCH_SCHEDULER=sharing measures cfgd's default instead.
  std::string policy = "stealing";
  if (const char* env = std::getenv("CFG_BENCH_SCHEDULER"))
    policy = env;
  if (policy != "stealing" && policy != "sharing") {
    std::fprintf(stderr, "bench/pipeline: CFG_BENCH_SCHEDULER: '%s' is "
                         "neither stealing nor sharing\n", policy.c_str());
    return 2;
  }
  const write_kind* kind = &write_kinds[0];
  if (const char* env = std::getenv("CFG_BENCH_WRITE")) {
    auto it = std::find_if(std::begin(write_kinds), std::end(write_kinds),
                           [&](const write_kind& k) {
                             return std::string_view{k.name} == env;
                           });
    if (it == std::end(write_kinds)) {
      std::fprintf(stderr, "bench/pipeline: CFG_BENCH_WRITE: '%s' is none "
                           "of set, flag, unset, patch, runtime\n", env);
      return 2;
    }
    kind = &*it;
  }
  validator_options opts;
  opts.schema = make_schema();
  // CFG_BENCH_ROUNDS and CFG_BENCH_COMMITS (timed commits per size with one
  // subscriber; a fifth of them with 1,000): a short run for the smoke test.
  // Each bounded, so that no setting makes the bench allocate the host's
  // memory (or overflow the commits of SCALE x CFG_BENCH_COMMITS).
  auto env_count = [&](const char* name, int fallback, int least, int most) {
    return count_of(name, std::getenv(name), fallback, least, most);
  };
  const int rounds = env_count("CFG_BENCH_ROUNDS", 3, 1, 100);
  const int base_commits = env_count("CFG_BENCH_COMMITS", 20000, 1, 1000000);
  const int window = env_count("CFG_BENCH_WINDOW", 64, 1, 100000);
  // CFG_BENCH_ONLY=KEYS: that size alone (for a profiler; no ratios).
  const int only = env_count("CFG_BENCH_ONLY", 0, 100, 10000000);
  // CFG_BENCH_SUBS=N: with N subscribers alone (with CFG_BENCH_ONLY).
  std::vector<int> sub_counts{1, 1000};
  if (only != 0 && std::getenv("CFG_BENCH_SUBS"))
    sub_counts = {env_count("CFG_BENCH_SUBS", 1, 1, 1000000)};
  if (bad_count)
    return 2;
  // The same number of commits at every size: a commit costs what it
  // changes, and a few milliseconds of commits measure the scheduler's
  // mood more than the pipeline. 1,000 subscribers go slower (each holds
  // the tree of the version it last saw), so fewer.
  // CFG_BENCH_SIZES=100,10000: those sizes; 100 first, the one the others
  // are compared with (the issue's target is against 100 keys).
  std::vector<int> sizes{100, 10000, 100000};
  if (auto text = std::getenv("CFG_BENCH_SIZES")) {
    auto given = bench::to_counts(text, 100, 10000000);
    if (!given) {
      std::fprintf(stderr, "CFG_BENCH_SIZES: '%s': expected sizes of 100 "
                           "to 10000000 keys, separated by commas\n", text);
      return 2;
    }
    if (given->front() != 100) {
      std::fprintf(stderr, "CFG_BENCH_SIZES: '%s': the first size is 100, "
                           "the one the others are compared with\n", text);
      return 2;
    }
    sizes = std::move(*given);
  }
  const int smallest = sizes.front();
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom_from_string(policy));
  caf::actor_system sys{cfg};
  std::printf("write: %s (CFG_BENCH_WRITE), the config in layer %s\n",
              kind->name, kind->layer);
  std::printf("actors: timed after history_size + window + 2 = %zu writes "
              "(steady state: the history full, each version evicting one); "
              "baseline: the same steps on one thread\n",
              pipeline_options{}.storage.history_size + window + 2);
  std::printf("%d rounds, each every size in turn; a row is the median "
              "round, its range in brackets\n", rounds);
  std::printf("%-8s %-12s %-10s %16s %20s %16s %8s %12s %10s\n", "keys",
              "subscribers", "commits", "actors/s", "(range)", "baseline/s",
              "ratio", "tree copies", "peak MiB");
  auto commits_for = [&](int subscribers) {
    return (subscribers == 1 ? base_commits : std::max(1, base_commits / 5))
           * scale;
  };
  // (keys, subscribers) -> one entry per round.
  std::map<std::pair<int, int>, std::vector<double>> actor_rates;
  std::map<std::pair<int, int>, uint64_t> copies;
  std::map<std::pair<int, int>, double> peaks;
  std::map<int, std::vector<double>> base_rates;
  std::map<int, stage_times> base_stages;
  for (int round = 0; round < rounds; ++round)
    for (auto keys : sizes) {
      if (only != 0 && keys != only)
        continue;
      stage_times stages;
      base_rates[keys].push_back(
        baseline(*kind, keys, commits_for(1), opts, stages));
      for (std::size_t i = 0; i < std::size(stages.seconds); ++i)
        base_stages[keys].seconds[i] += stages.seconds[i] / rounds;
      for (int subscribers : sub_counts) {
        auto run = actors(sys, *kind, keys, subscribers,
                          commits_for(subscribers),
                          window, opts);
        actor_rates[{keys, subscribers}].push_back(run.rate);
        copies[{keys, subscribers}] += run.tree_copies;
        peaks[{keys, subscribers}] = std::max(peaks[{keys, subscribers}],
                                              run.peak_mib);
      }
    }
  auto median = [](std::vector<double> xs) {
    std::sort(xs.begin(), xs.end());
    return xs[xs.size() / 2];
  };
  for (auto keys : sizes)
    for (int subscribers : sub_counts) {
      auto& xs = actor_rates[{keys, subscribers}];
      if (xs.empty())
        continue;
      auto base = median(base_rates[keys]);
      char range[64];
      std::snprintf(range, sizeof range, "(%.0f-%.0f)",
                    *std::min_element(xs.begin(), xs.end()),
                    *std::max_element(xs.begin(), xs.end()));
      std::printf("%-8d %-12d %-10d %16.1f %20s %16.1f %8.2f %12llu %10.0f\n",
                  keys, subscribers, commits_for(subscribers), median(xs),
                  range, base, median(xs) / base,
                  static_cast<unsigned long long>(copies[{keys, subscribers}]),
                  peaks[{keys, subscribers}]);
    }
  if (only != 0)
    return 0;
  // The time of a one-key commit at each size over its time at 100 keys
  // (the rates' inverse ratio), for the actors and the baseline alike: of
  // the medians, and the spread of the same ratio taken round by round.
  auto ratio = [&](int keys, int subscribers) {
    return median(actor_rates[{smallest, subscribers}])
           / median(actor_rates[{keys, subscribers}]);
  };
  auto round_range = [&](int keys, int subscribers) {
    auto& small = actor_rates[{smallest, subscribers}];
    auto& big = actor_rates[{keys, subscribers}];
    std::vector<double> xs;
    for (std::size_t r = 0; r < small.size(); ++r)
      xs.push_back(small[r] / big[r]);
    std::sort(xs.begin(), xs.end());
    char out[64];
    std::snprintf(out, sizeof out, "(%.2f-%.2f)", xs.front(), xs.back());
    return std::string{out};
  };
  std::printf("\none-key commit time vs 100 keys (medians; by round in "
              "brackets):\n");
  std::printf("%-8s %26s %26s %14s\n", "keys", "actors 1 sub", "actors 1000",
              "baseline");
  for (auto keys : sizes)
    std::printf("%-8d %11.2fx %-14s %11.2fx %-14s %13.2fx\n", keys,
                ratio(keys, 1), round_range(keys, 1).c_str(),
                ratio(keys, 1000), round_range(keys, 1000).c_str(),
                median(base_rates[smallest]) / median(base_rates[keys]));
  // Where the baseline's time goes: the steps that walk the whole tree grow
  // with it, whatever the write touched.
  std::printf("\nbaseline per commit, by step (us, mean of the rounds):\n%-8s",
              "keys");
  for (auto name : stage_times::names)
    std::printf(" %10s", name);
  std::printf("\n");
  for (auto keys : sizes) {
    std::printf("%-8d", keys);
    for (auto x : base_stages[keys].seconds)
      std::printf(" %10.1f", x * 1e6);
    std::printf("\n");
  }
  std::printf("\n");
  for (auto keys : sizes) {
    if (keys == 100)
      continue;
    for (int subscribers : {1, 1000}) {
      auto x = ratio(keys, subscribers);
      std::printf("keys=%-6d one-key commit, %4d subscriber%s %.2fx the "
                  "100-key time ", keys, subscribers,
                  subscribers == 1 ? ": " : "s:", x);
      std::printf("(target within 1.5x of 100 keys: %s)\n",
                  bench::verdict(x, 1.5).c_str());
    }
  }
  std::printf("target: >= 20000 commits/s at 100 keys with 1 subscriber: "
              "%.0f/s\n", median(actor_rates[{100, 1}]));
  std::printf("scheduler: %s (CFG_BENCH_SCHEDULER=sharing|stealing)\n",
              policy.c_str());
}

// bench/journal: journaled commits per second. W writers (threads), each
// doing sequential sets of a key of its own through the validator of a
// pipeline with a journal (open_pipeline, --data-dir), with group commit on
// and off, the data dir on tmpfs (/dev/shm) and on the real disk. Next to
// it, the same W clients doing sequential puts on a single-member etcd on
// /dev/shm (default durability: an fsync per commit). A stage trace says
// where a commit's time goes: the journal alone (SQLite + fsync, one
// version per transaction), and the pipeline without a journal (validator,
// JSON, store, router).
//
//   journal [--writers 1,16] [--seconds 2] [--disk-dir DIR]
//           [--scheduler stealing|sharing] [--threads N] [--keys N]
//           [--layout file|runtime]
//
// --keys N: the pipelines start from a config of N keys (sections of 100),
// so that a commit's cost can be read against the config's size. The
// config is a file's layer, the writers' keys in the runtime layer; with
// --layout runtime it is in the runtime layer too, where every API write
// lands: each commit then changes the layer that holds the config.
//
// The scheduler: CAF's default (work stealing, a thread per core) unless
// told; cfgd runs `--scheduler sharing --threads 1` by default.
#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <sys/vfs.h>

#include <caf/all.hpp>

#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

#include "cfgactors/cfgactors.hpp"
#include "counts.hpp"
#include "usage.hpp"
#include "verdict.hpp"
#include "etcd/etcd_client.hpp"
#include "pipeline/journal.hpp"

#include "propagation/etcd_server.hpp"
#include "propagation/process.hpp"

using namespace bench;
using steady = std::chrono::steady_clock;

namespace {

struct options {
  std::vector<int> writers{1, 16};
  double seconds = 2;
  std::string disk_dir;          ///< empty: the current directory
  std::string scheduler;         ///< empty: CAF's default
  int threads = 0;               ///< 0: CAF's default
  int keys = 0;                  ///< the config's size besides the writers'
  std::string layout = "file";   ///< the layer holding those keys
};

const char* usage_text
  = "usage: journal [--writers 1,16] [--seconds 2] [--disk-dir DIR]\n"
    "               [--scheduler stealing|sharing] [--threads N]\n"
    "               [--keys N]   (a config of N keys, 0 to 1000000)\n"
    "               [--layout file|runtime]   (the layer holding them)\n";

/// A count from 1 to `max`, or nullopt.
std::optional<int> to_count(const std::string& text, int max) {
  auto n = bench::to_count(text);
  return n && *n >= 1 && *n <= max ? n : std::nullopt;
}

/// The options, or nullopt with `why` naming what was refused.
std::optional<options> read_options(int argc, char** argv, std::string& why) {
  options opts;
  auto refuse = [&why](std::string what) {
    why = std::move(what);
    return std::nullopt;
  };
  for (int i = 1; i < argc; ++i) {
    std::string key = argv[i];
    if (i + 1 >= argc)
      return refuse("missing the value of " + key);
    std::string value = argv[++i];
    if (key == "--writers") {
      auto writers = bench::to_counts(value, 1, 256);
      if (!writers)
        return refuse("--writers: '" + value
                      + "': expected counts of 1 to 256, separated by "
                        "commas");
      opts.writers = std::move(*writers);
    } else if (key == "--seconds") {
      auto n = to_count(value, 60);
      if (!n)
        return refuse("--seconds: '" + value + "' is not a count of 1 to 60");
      opts.seconds = *n;
    } else if (key == "--disk-dir") {
      opts.disk_dir = value;
    } else if (key == "--scheduler") {
      if (value != "stealing" && value != "sharing")
        return refuse("--scheduler: '" + value + "' (stealing or sharing)");
      opts.scheduler = value;
    } else if (key == "--threads") {
      auto n = to_count(value, 64);
      if (!n)
        return refuse("--threads: '" + value + "' is not a count of 1 to 64");
      opts.threads = *n;
    } else if (key == "--keys") {
      auto n = bench::to_count(value);
      if (!n || *n > 1000000)
        return refuse("--keys: '" + value + "' is not a count of 0 to 1000000");
      opts.keys = *n;
    } else if (key == "--layout") {
      if (value != "file" && value != "runtime")
        return refuse("--layout: '" + value + "' (file or runtime)");
      opts.layout = value;
    } else {
      return refuse("unknown option " + key);
    }
  }
  return opts;
}

/// The file system type of `dir`, as df -T names the common ones.
std::string fs_type(const std::string& dir) {
  struct statfs st {};
  if (::statfs(dir.c_str(), &st) != 0)
    return "?";
  switch (static_cast<unsigned long>(st.f_type)) {
    case 0x01021994:
      return "tmpfs";
    case 0xEF53:
      return "ext4";
    case 0x58465342:
      return "xfs";
    case 0x9123683E:
      return "btrfs";
    case 0x794c7630:
      return "overlay";
    default: {
      char buf[24];
      std::snprintf(buf, sizeof(buf), "0x%lx",
                    static_cast<unsigned long>(st.f_type));
      return buf;
    }
  }
}

/// `writers` threads each make `one = make(k)` and call `one(i)` in a loop
/// for `seconds`; the rate of calls that returned true. Failures are
/// counted in `failed`.
template <class Make>
double rate(int writers, double seconds, int& failed, Make make) {
  std::atomic<long> done{0};
  std::atomic<int> bad{0};
  auto until = steady::now() + std::chrono::duration_cast<steady::duration>(
                                 std::chrono::duration<double>(seconds));
  std::vector<std::thread> threads;
  auto started = steady::now();
  for (int k = 0; k < writers; ++k)
    threads.emplace_back([&, k] {
      auto one = make(k);
      for (int i = 0; steady::now() < until; ++i) {
        if (one(i))
          ++done;
        else
          ++bad;
      }
    });
  for (auto& t : threads)
    t.join();
  failed = bad;
  auto took = std::chrono::duration<double>(steady::now() - started).count();
  return done / took;
}

struct pipeline_row {
  double per_second = 0;
  int failed = 0;
  std::string error;
};

/// The scheduler the pipelines run on (--scheduler, --threads).
options scheduling;

/// Commits through a pipeline on `dir` (a journal) or in memory (empty).
pipeline_row pipeline_rate(const std::string& dir, bool group_commit,
                           int writers, double seconds) {
  pipeline_row out;
  std::optional<temp_dir> data;
  cfgactors::pipeline_options popts;
  if (!dir.empty()) {
    data.emplace(dir);
    popts.storage.data_dir = data->path() + "/data";
  }
  popts.storage.group_commit = group_commit;
  cfgactors::system_config cfg;
  if (!scheduling.scheduler.empty())
    cfg.set("scheduler.policy", caf::atom_from_string(scheduling.scheduler));
  if (scheduling.threads > 0)
    cfg.set("scheduler.max-threads", scheduling.threads);
  caf::actor_system sys{cfg};
  auto p = cfgactors::open_pipeline(sys, popts);
  if (!p) {
    out.error = sys.render(p.error());
    return out;
  }
  if (scheduling.keys > 0) {
    cfgactors::json config = cfgactors::json::object();
    for (int i = 0; i < scheduling.keys; ++i)
      config["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
    caf::scoped_actor self{sys};
    self
      ->request(p->validator, std::chrono::seconds{60},
                cfgactors::write_atom::value,
                cfgactors::write_request{
                  {cfgactors::operation::replace_layer(
                    scheduling.layout == "runtime" ? "runtime"
                                                   : "file:bench.yaml",
                    std::move(config))},
                  "bench"})
      .receive([&](cfgactors::write_result& r) {
                 if (!r.ok())
                   out.error = "the config of --keys was refused";
               },
               [&](caf::error& e) { out.error = sys.render(e); });
    if (!out.error.empty())
      return out;
  }
  std::string first_error;
  out.per_second = rate(writers, seconds, out.failed, [&](int k) {
    // One blocking actor per writer thread, made on that thread.
    auto self = std::make_shared<caf::scoped_actor>(sys);
    auto key = "w" + std::to_string(k);
    auto validator = p->validator;
    return [self, key, validator](int i) {
      bool ok = false;
      (*self)
        ->request(validator, std::chrono::seconds{30},
                  cfgactors::write_atom::value,
                  cfgactors::write_request{
                    {cfgactors::operation::set(key, i)}, "bench"})
        .receive([&](cfgactors::write_result& r) { ok = r.ok(); },
                 [&](caf::error&) {});
      return ok;
    };
  });
  cfgactors::shutdown(*p);
  return out;
}

/// The journal alone: one version per transaction, the same row each time
/// but its number (SQLite + the fsync of synchronous=FULL).
double journal_rate(const std::string& dir, double seconds) {
  temp_dir data{dir};
  auto db = cfgactors::detail::journal::open(data.path() + "/data", 0);
  if (!db)
    return 0;
  cfgactors::layer_stack layers;
  layers.put("runtime", cfgactors::json{{"w0", 1}});
  auto effective = layers.effective();
  uint64_t version = 0;
  int failed = 0;
  return rate(1, seconds, failed, [&](int) {
    return [&](int) {
      auto snap = cfgactors::snapshot::make(++version, "bench", layers,
                                            effective, 0);
      return !(*db)->append(*snap);
    };
  });
}

double etcd_rate(const etcd_server& etcd, int writers, double seconds,
                 int& failed) {
  std::vector<std::unique_ptr<cfgactors::detail::etcd_client>> clients;
  for (int k = 0; k < writers; ++k) {
    cfgactors::detail::etcd_options eo;
    eo.endpoints = etcd.endpoints();
    clients.push_back(std::make_unique<cfgactors::detail::etcd_client>(eo));
  }
  return rate(writers, seconds, failed, [&](int k) {
    auto& client = *clients[static_cast<size_t>(k)];
    auto key = "bench/w" + std::to_string(k);
    return [&client, key](int i) {
      cfgactors::detail::etcd_error err;
      return client.put(key, std::to_string(i), 0, err).has_value();
    };
  });
}

} // namespace

int main(int argc, char** argv) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("journal"));
  spdlog::set_level(spdlog::level::warn);
  if (bench::wants_help(argc, argv))
    return bench::help(usage_text);
  std::string why;
  auto opts = read_options(argc, argv, why);
  if (!opts)
    return bench::refuse("journal", why, usage_text);
  std::string shm = "/dev/shm";
  std::string disk = opts->disk_dir.empty() ? "." : opts->disk_dir;
  std::printf("journal: W writers, each doing sequential sets of a key of "
              "its own through open_pipeline's validator (one version per "
              "write), %.0f s per row; etcd: W clients, each doing "
              "sequential puts (single member, data on /dev/shm)\n"
              "tmpfs dir: %s (%s); disk dir: %s (%s)\n"
              "scheduler: %s, %s\nconfig: %d keys besides the writers' "
              "(--keys), in the %s layer (--layout)\n\n",
              opts->seconds, shm.c_str(), fs_type(shm).c_str(), disk.c_str(),
              fs_type(disk).c_str(),
              opts->scheduler.empty() ? "CAF's default policy"
                                      : opts->scheduler.c_str(),
              opts->threads > 0
                ? (std::to_string(opts->threads) + " threads").c_str()
                : "CAF's default threads",
              opts->keys,
              opts->layout == "runtime" ? "runtime" : "file's");
  scheduling = *opts;
  etcd_server etcd{shm};
  auto etcd_error = etcd_server::program().empty() ? "etcd is not in $PATH"
                                                   : etcd.start(1);
  std::printf("%-26s %4s %10s %8s %8s\n", "system", "W", "commits/s",
              "failed", "x etcd");
  double etcd_16 = 0;
  double group_16 = 0;
  double shm_group_16 = 0;
  for (auto w : opts->writers) {
    double etcd_w = 0;
    if (etcd_error.empty()) {
      int failed = 0;
      etcd_w = etcd_rate(etcd, w, opts->seconds, failed);
      std::printf("%-26s %4d %10.0f %8d %8s\n", "etcd put (tmpfs)", w, etcd_w,
                  failed, "-");
    } else {
      std::printf("%-26s %4d   skipped: %s\n", "etcd put (tmpfs)", w,
                  etcd_error.c_str());
    }
    for (auto& [where, dir] : {std::pair{"tmpfs", shm}, {"disk", disk}})
      for (auto group : {true, false}) {
        auto row = pipeline_rate(dir, group, w, opts->seconds);
        auto name = std::string{"journal "} + where
                    + (group ? " group" : " no-group");
        if (!row.error.empty()) {
          std::printf("%-26s %4d   failed: %s\n", name.c_str(), w,
                      row.error.c_str());
          continue;
        }
        char ratio[32] = "-";
        if (etcd_w > 0)
          std::snprintf(ratio, sizeof(ratio), "%.1f", row.per_second / etcd_w);
        std::printf("%-26s %4d %10.0f %8d %8s\n", name.c_str(), w,
                    row.per_second, row.failed, ratio);
        if (w == 16 && group && std::string{where} == "disk")
          group_16 = row.per_second;
        if (w == 16 && group && std::string{where} == "tmpfs")
          shm_group_16 = row.per_second;
      }
    if (w == 16)
      etcd_16 = etcd_w;
  }
  // Where a commit's time goes.
  std::printf("\nstage trace:\n");
  for (auto w : {1, 16}) {
    auto mem = pipeline_rate({}, true, w, opts->seconds);
    std::printf("  pipeline without journal, %2d writers (validator, JSON, "
                "store, router, writer round trip): %.0f commits/s = %.1f us "
                "each\n",
                w, mem.per_second,
                mem.per_second > 0 ? 1e6 / mem.per_second : 0.0);
  }
  for (auto& [where, dir] : {std::pair{"tmpfs", shm}, {"disk", disk}}) {
    auto j = journal_rate(dir, opts->seconds);
    std::printf("  journal append alone, %-5s (SQLite + fsync, 1 version per "
                "transaction): %.0f/s = %.1f us each\n",
                where, j, j > 0 ? 1e6 / j : 0.0);
  }
  // Like for like: etcd's data is on tmpfs, so is the journal here.
  if (etcd_16 > 0 && shm_group_16 > 0) {
    auto ratio = shm_group_16 / etcd_16;
    std::printf("\n16 writers >= 10x etcd's single-member put rate: ");
    if (ratio >= 10)
      std::printf("met (tmpfs %.1fx; journal on disk %.1fx)\n", ratio,
                  group_16 / etcd_16);
    else
      std::printf("%s (tmpfs %.1fx; journal on disk %.1fx)\n",
                  bench::missed_by(10 / ratio).c_str(), ratio,
                  group_16 / etcd_16);
  } else {
    std::printf("\n16 writers >= 10x etcd's single-member put rate: not "
                "measured (%s)\n",
                etcd_16 > 0 ? "no 16-writer journal row" : "no etcd figure");
  }
  return 0;
}

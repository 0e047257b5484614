// The systems the propagation bench compares. Each has a coordinator side
// (what the workers connect to, and how a flip is published) and a worker
// side (a separate process that subscribes and reports what it receives).
#pragma once

#include <cstdint>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace bench {

/// `--key=value` arguments, as parsed from the command line.
using arg_map = std::map<std::string, std::string>;

/// The CAF settings of every CAF process (caf_settings.hpp applies them).
struct caf_settings {
  std::string scheduler = "sharing"; ///< scheduler.policy
  int threads = 0;     ///< scheduler.max-threads; 0 = CAF's default
  int io_workers = -1; ///< middleman.workers; -1 = CAF's default
};

/// What every system's coordinator side may need to know.
struct bench_options {
  caf_settings caf;
  int keys = 100;                    ///< size of the cfgactors config
  /// Where redis-server and etcd keep their data (empty: /dev/shm or /tmp).
  std::string server_dir;
  /// Where the time goes: every flip's commit and receipts, and what a
  /// cfgactors-etcd worker's own raw watch saw, as lines on stderr.
  bool trace = false;
};

/// One run of one system with N workers, coordinator side.
class publisher {
public:
  virtual ~publisher() = default;

  /// What a worker needs to find the system (appended to its command line).
  virtual std::vector<std::string> worker_args() const = 0;

  /// Publishes flip `index` carrying `stamp_ns` (taken just before this
  /// call). Returns why it failed, or an empty string.
  virtual std::string publish(uint64_t index, int64_t stamp_ns) = 0;
};

/// One system under test, across all runs of a bench invocation.
class system_under_test {
public:
  virtual ~system_under_test() = default;

  /// Why it cannot run on this host (e.g. its server is not installed), or
  /// an empty string.
  virtual std::string unavailable() const { return {}; }

  /// Starts what all runs share (a server) the first time it is called.
  /// Returns why it failed, or an empty string.
  virtual std::string start() { return {}; }

  /// Sets up one run; on failure returns null and says why in `error`.
  virtual std::unique_ptr<publisher> open_run(std::string& error) = 0;

  /// The worker's main: subscribe, report `ready`, report every flip, and
  /// return when the coordinator closes the worker's stdin.
  virtual int run_worker(int id, const arg_map& args) = 0;
};

std::unique_ptr<system_under_test> make_cfgactors_system(const bench_options&);
std::unique_ptr<system_under_test>
make_cfgactors_plain_system(const bench_options&);
std::unique_ptr<system_under_test> make_caf_system(const bench_options&);
std::unique_ptr<system_under_test> make_redis_system(const bench_options&);
std::unique_ptr<system_under_test> make_etcd_system(const bench_options&);
std::unique_ptr<system_under_test> make_etcd_txn_system(const bench_options&);
std::unique_ptr<system_under_test>
make_cfgactors_etcd_system(const bench_options&);

/// `args[key]` or `fallback`.
inline std::string arg_or(const arg_map& args, const std::string& key,
                          const std::string& fallback = {}) {
  auto i = args.find(key);
  return i != args.end() ? i->second : fallback;
}

} // namespace bench

// The seed's "Thread-Safe Updates" (ThreadSafeConfig, atomic_update,
// add_listener), without a lock on the read side: reader threads read through
// setting<T>, get<T> and whole snapshots while a writer commits transactions
// that change `buffer_size` and `database.host` together. A reader never sees
// the values of two transactions within one version, and never goes back.
#include <atomic>
#include <chrono>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;

namespace {

constexpr int rounds = 200;
constexpr int readers = 3;

/// The invariant every transaction keeps: host `db-<i>` goes with 1000 + i.
bool matches(int size, const std::string& host) {
  return host == "db-" + std::to_string(size - 1000);
}

struct reader_log {
  uint64_t reads = 0;
  uint64_t mixed = 0;     ///< a pair from one version that breaks the invariant
  uint64_t backwards = 0; ///< a version or value older than one seen before
  uint64_t first = 0;
  uint64_t last = 0;
};

} // namespace

int main() {
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  spdlog::set_level(spdlog::level::warn); // 200 commits: keep stderr short
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json"));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  // atomic_update(): both values in one transaction, one version.
  auto update = [&](int i) {
    return n->transaction()
      .set("buffer_size", 1000 + i)
      .set("database.host", "db-" + std::to_string(i))
      .commit();
  };
  auto first = update(0);
  // add_listener(): each change carries the whole snapshot it belongs to.
  auto listener_mixed = std::make_shared<std::atomic<int>>(0);
  auto sub = n->subscribe("database", [listener_mixed](const change& c) {
    if (!matches(c.after->effective->value("buffer_size", 0),
                 c.new_value().value("host", "")))
      ++*listener_mixed;
  });
  setting<int> size{*n, "buffer_size", 0};
  setting<std::string> host{*n, "database.host", ""};
  std::atomic<bool> done{false};
  std::vector<reader_log> logs(readers);
  std::vector<std::thread> threads;
  for (int k = 0; k < readers; ++k)
    threads.emplace_back([&, k] {
      auto& log = logs[k];
      int last_size = 0;
      do { // at least once, however late this thread gets a core
        // Two settings, each with the version it was read from.
        auto [s, v1] = size.with_version();
        auto [h, v2] = host.with_version();
        if (v1 == v2 && !matches(s, h))
          ++log.mixed;
        if (v1 < log.last || v2 < v1)
          ++log.backwards;
        log.first = log.first == 0 ? v1 : log.first;
        log.last = v2;
        // One snapshot: everything in it belongs to one version.
        auto snap = n->snapshot();
        if (!matches(snap->effective->value("buffer_size", 0),
                     (*snap->effective)["database"].value("host", "")))
          ++log.mixed;
        // A plain typed read; sizes only grow, so neither may this.
        auto now = n->get<int>("buffer_size", 0);
        if (now < last_size)
          ++log.backwards;
        last_size = now;
        log.reads += 3;
        std::this_thread::yield();
      } while (!done);
    });
  bool ok = first.result.status == write_status::committed;
  uint64_t last_version = first.result.version;
  for (int i = 1; i <= rounds && ok; ++i) {
    auto r = update(i);
    ok = r.result.status == write_status::committed;
    last_version = r.result.version;
  }
  done = true;
  for (auto& t : threads)
    t.join();
  std::cout << "writer: " << rounds + 1 << " transactions, versions "
            << first.result.version << ".." << last_version
            << (ok ? "" : " (a transaction FAILED)") << '\n';
  for (int k = 0; k < readers; ++k) {
    auto& log = logs[k];
    std::cout << "reader " << k << ": " << log.reads << " reads, versions "
              << log.first << ".." << log.last << ", " << log.mixed
              << " mixed, " << log.backwards << " backwards\n";
    ok = ok && log.reads > 0 && log.mixed == 0 && log.backwards == 0;
  }
  std::cout << "config_read version=" << size.with_version().second
            << " buffer_size=" << size() << " host=" << host() << '\n';
  ok = ok && size() == 1000 + rounds && host() == "db-" + std::to_string(rounds)
       && size.with_version().second == last_version;
  if (sub)
    n->unsubscribe(*sub);
  std::cout << "listener: " << *listener_mixed << " mixed\n";
  ok = ok && sub && *listener_mixed == 0;
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

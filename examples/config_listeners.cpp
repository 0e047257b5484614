// The seed's configuration server hands every change to its listeners as an
// (old_config, new_config) pair:
//
//     for listener in self.listeners:
//         await listener(old_config, new_config)
//
// Here the listeners hang off one every-version subscription: however slow
// they are, each sees every version in order, old to new, never a fold.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <functional>
#include <iostream>
#include <mutex>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

using listener = std::function<void(const json& old_config,
                                    const json& new_config)>;

/// What the listeners saw: each (old, new) buffer_size pair.
struct pairs_seen {
  std::mutex mtx;
  std::condition_variable cv;
  std::vector<std::pair<json, json>> pairs;
  uint64_t last_version = 0;
};

} // namespace

int main() {
  spdlog::set_default_logger(spdlog::stderr_color_mt("example"));
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom("sharing"));
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(CFGACTORS_EXAMPLES_DIR "/config.yaml")
                                .schema(CFGACTORS_EXAMPLES_DIR "/schema.json"));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  auto seen = std::make_shared<pairs_seen>();
  // The seed's listeners: a slow one that records, and one that logs.
  std::vector<listener> listeners{
    [seen](const json& old_config, const json& new_config) {
      std::this_thread::sleep_for(2ms); // e.g. reopening a connection pool
      std::lock_guard<std::mutex> guard{seen->mtx};
      seen->pairs.emplace_back(old_config.value("buffer_size", json{}),
                               new_config.value("buffer_size", json{}));
    },
    [](const json& old_config, const json& new_config) {
      if (old_config.value("buffer_size", 0) % 10 == 0)
        std::cout << "listener: buffer_size " << old_config["buffer_size"]
                  << " -> " << new_config["buffer_size"] << '\n';
    },
  };
  std::atomic<uint64_t> resyncs{0};
  auto sub = n->subscribe(
    "",
    [&listeners, seen, &resyncs](const change& c) {
      if (c.resync) // fell behind max_pending: one step to the current
        ++resyncs;
      for (auto& l : listeners)
        l(*c.before->effective, *c.after->effective);
      std::lock_guard<std::mutex> guard{seen->mtx};
      seen->last_version = c.version;
      seen->cv.notify_all();
    },
    delivery::every_version(64));
  // The default subscription folds what arrives while it is busy.
  std::atomic<uint64_t> folded_calls{0};
  auto latest = n->subscribe("", [&folded_calls](const change&) {
    std::this_thread::sleep_for(2ms);
    ++folded_calls;
  });
  check(sub && latest, "subscribed");
  const int writes = 50;
  auto first = n->snapshot()->effective->value("buffer_size", 0);
  uint64_t last = 0;
  for (int i = 1; i <= writes; ++i)
    last = n->set("buffer_size", first + i).result.version;
  {
    std::unique_lock<std::mutex> guard{seen->mtx};
    seen->cv.wait_for(guard, 20s,
                      [&] { return seen->last_version >= last; });
  }
  std::vector<std::pair<json, json>> pairs;
  {
    std::lock_guard<std::mutex> guard{seen->mtx};
    pairs = seen->pairs;
  }
  std::cout << writes << " quick writes: the every-version listeners saw "
            << pairs.size() << " (old, new) pairs, " << resyncs.load()
            << " resyncs; the default subscriber was called "
            << folded_calls.load() << " times\n";
  check(pairs.size() == static_cast<size_t>(writes), "a pair per version");
  int in_order = 0;
  for (int i = 0; i < static_cast<int>(pairs.size()); ++i)
    in_order += pairs[i].first == first + i && pairs[i].second == first + i + 1;
  check(in_order == writes, "each pair is (previous, next), in order");
  check(resyncs == 0, "nothing fell behind 64 pending");
  n->unsubscribe(*sub);
  n->unsubscribe(*latest);
  n->stop();
  if (!ok)
    return 1;
  std::cout << "example ok\n";
}

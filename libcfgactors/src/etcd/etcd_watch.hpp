// Private etcd watch over the JSON gateway: one streaming POST /v3/watch on
// its own connection and thread, delivering batches of events in order.
#pragma once

#include <cstdint>
#include <functional>
#include <atomic>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "etcd/etcd_json.hpp"
#include "etcd/etcd_options.hpp"

namespace cfgactors::detail {

class etcd_connection;

struct etcd_watch_event {
  enum class type { put, del };
  type what = type::put;
  etcd_kv kv; ///< for del: the key and its mod_revision only
};

struct etcd_watch_batch {
  int64_t revision = 0; ///< the header's: the store's revision when sent
  std::vector<etcd_watch_event> events;
  bool progress = false; ///< a progress notification without events
};

/// Watches [key, range_end) (just `key` if `range_end` is empty) from
/// `start_revision` (0: from now). It does not judge a quiet stream: etcd
/// sends progress notifications rarely (every ~10 minutes), so the owner
/// decides whether the cluster is alive by other means, and stop()s.
class etcd_watch {
public:
  using batch_handler = std::function<void(etcd_watch_batch)>;
  /// `compact_revision` > 0: etcd canceled the watch because
  /// `start_revision` was compacted; restart from a fresh range.
  using end_handler = std::function<void(etcd_error, int64_t compact_revision)>;

  /// Starts the watch thread, which tries the endpoints in order until one
  /// accepts the watch. Both handlers run on that thread: `on_batch` for
  /// each message with events or a progress notification, `on_end` once if
  /// the watch ends other than by stop().
  etcd_watch(etcd_options opts, std::string key, std::string range_end,
             int64_t start_revision, batch_handler on_batch,
             end_handler on_end);

  /// stop()
  ~etcd_watch();

  etcd_watch(const etcd_watch&) = delete;
  etcd_watch& operator=(const etcd_watch&) = delete;

  /// Closes the connection and joins the thread; no handler runs after it
  /// returns. Thread-safe; from within a handler it only ends the watch
  /// (the destructor, called from elsewhere, joins).
  void stop();

private:
  void run();
  bool open_stream(etcd_error& err);
  bool create_on(const std::string& endpoint, etcd_error& err);
  bool on_message(const nlohmann::json& msg, etcd_error& err,
                  int64_t& compact_revision);

  etcd_options opts_;
  std::string key_, range_end_;
  int64_t start_revision_;
  batch_handler on_batch_;
  end_handler on_end_;
  std::unique_ptr<etcd_connection> conn_;
  std::atomic<bool> stopping_{false};
  std::mutex join_mutex_;
  std::thread thread_;
};

} // namespace cfgactors::detail

// Private helper of file_source: a thread that watches the directories of
// some files with inotify and reports each burst of events that concern
// them once, after a quiet period.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <thread>
#include <vector>

namespace cfgactors::detail {

/// Watches the directory of each file, not the file: editors replace a file
/// by renaming another over it, and Kubernetes swaps a symlink to a new
/// directory; a watch on the file's inode would miss both. The directory of
/// each file's resolved symlink target is watched as well, and re-resolved
/// after every burst. Events are filtered to the files' names and to names
/// starting with `..` (Kubernetes' `..data` and its timestamped directories).
class inotify_watcher {
public:
  /// Runs on the watcher's thread once a burst has been quiet for `debounce`:
  /// how many relevant events it had, and whether the directory of every
  /// file is still watched (false: changes may go unseen, poll instead).
  using callback = std::function<void(uint64_t events, bool complete)>;

  /// Creates the inotify instance and the watches; events from now on are
  /// queued until `start`. Returns nullptr with `error` set when inotify is
  /// unavailable or the directory of a file cannot be watched.
  static std::unique_ptr<inotify_watcher>
  make(std::vector<std::string> paths, std::chrono::milliseconds debounce,
       std::string& error);

  inotify_watcher(const inotify_watcher&) = delete;
  inotify_watcher& operator=(const inotify_watcher&) = delete;

  /// Stops and joins the thread (detaches it when called on that thread).
  ~inotify_watcher();

  /// Starts the thread; `f` is called on it after each burst.
  void start(callback f);

private:
  struct impl;

  explicit inotify_watcher(std::shared_ptr<impl> ptr);

  // Shared with the thread, which may outlive this object by a moment when
  // the destructor runs on the thread itself.
  std::shared_ptr<impl> impl_;
  std::thread thread_;
};

} // namespace cfgactors::detail

// The inotify thread of file_source: poll() on the inotify descriptor and an
// eventfd that stops it, a trailing debounce, and a callback per burst.
#include "sources/inotify_watcher.hpp"

#include <algorithm>
#include <cerrno>
#include <climits>
#include <cstdlib>
#include <cstring>
#include <map>
#include <optional>
#include <set>
#include <system_error>
#include <utility>

#include <poll.h>
#include <sys/eventfd.h>
#include <sys/inotify.h>
#include <unistd.h>

namespace cfgactors::detail {

namespace {

constexpr uint32_t watch_mask = IN_CREATE | IN_DELETE | IN_MODIFY
                                | IN_CLOSE_WRITE | IN_ATTRIB | IN_MOVED_FROM
                                | IN_MOVED_TO | IN_DELETE_SELF | IN_MOVE_SELF
                                | IN_ONLYDIR;

std::string os_error(int code) {
  return std::error_code{code, std::generic_category()}.message();
}

/// `a/b/c.yaml` → {`a/b`, `c.yaml`}; `c.yaml` → {`.`, `c.yaml`}.
std::pair<std::string, std::string> split_path(const std::string& path) {
  auto slash = path.find_last_of('/');
  if (slash == std::string::npos)
    return {".", path};
  return {slash == 0 ? "/" : path.substr(0, slash), path.substr(slash + 1)};
}

std::optional<std::string> resolved(const std::string& path) {
  char buf[PATH_MAX];
  if (::realpath(path.c_str(), buf) == nullptr)
    return std::nullopt;
  return std::string{buf};
}

} // namespace

struct inotify_watcher::impl {
  int inotify_fd = -1;
  int stop_fd = -1;
  std::vector<std::string> paths;
  std::chrono::milliseconds debounce{0};
  std::map<int, std::set<std::string>> watches; ///< descriptor → names
  callback on_burst;

  ~impl() {
    if (inotify_fd >= 0)
      ::close(inotify_fd);
    if (stop_fd >= 0)
      ::close(stop_fd);
  }

  /// (Re)establishes the watches: the directory of each file and of its
  /// resolved target (which moves when a symlink is swapped). inotify returns
  /// the same descriptor for the same directory, so names merge per
  /// descriptor. Returns false, with `error`, if a file's own directory
  /// cannot be watched.
  bool refresh(std::string* error = nullptr) {
    std::map<int, std::set<std::string>> next;
    auto complete = true;
    auto add = [&](const std::string& dir, std::string name) {
      auto wd = ::inotify_add_watch(inotify_fd, dir.c_str(), watch_mask);
      if (wd < 0)
        return errno;
      next[wd].insert(std::move(name));
      return 0;
    };
    for (auto& path : paths) {
      auto [dir, name] = split_path(path);
      if (auto err = add(dir, name); err != 0) {
        complete = false;
        if (error && error->empty())
          *error = "cannot watch " + dir + ": " + os_error(err);
      }
      // Best effort: the parent's watch already sees a symlink swap.
      if (auto target = resolved(path)) {
        auto [target_dir, target_name] = split_path(*target);
        add(target_dir, target_name);
      }
    }
    for (auto& [wd, names] : watches)
      if (next.count(wd) == 0)
        ::inotify_rm_watch(inotify_fd, wd); // may be gone with its directory
    watches = std::move(next);
    return complete;
  }

  bool relevant(const inotify_event& ev) const {
    if ((ev.mask & IN_Q_OVERFLOW) != 0)
      return true; // events were lost: anything may have changed
    auto i = watches.find(ev.wd);
    if (i == watches.end())
      return false; // e.g. IN_IGNORED of a watch refresh() removed
    if (ev.len == 0)
      return true; // the directory itself was deleted or moved
    std::string name{ev.name};
    return name.compare(0, 2, "..") == 0 || i->second.count(name) > 0;
  }

  /// Reads every queued event; returns how many matter.
  uint64_t drain() {
    alignas(inotify_event) char buf[8192];
    uint64_t count = 0;
    for (;;) {
      auto n = ::read(inotify_fd, buf, sizeof(buf));
      if (n <= 0)
        return count; // EAGAIN: the queue is empty
      for (auto pos = buf; pos < buf + n;) {
        auto ev = reinterpret_cast<const inotify_event*>(pos);
        if (relevant(*ev))
          ++count;
        pos += sizeof(inotify_event) + ev->len;
      }
    }
  }

  void run() {
    using clock = std::chrono::steady_clock;
    // A file rewritten without pause would never let a trailing debounce
    // expire: report at the latest this long after a burst began.
    auto max_delay = std::max(debounce * 10, std::chrono::milliseconds{1000});
    // While `count > 0` a burst is open: it began at `first` and is
    // reported at `deadline`.
    clock::time_point first;
    clock::time_point deadline;
    uint64_t count = 0;
    for (;;) {
      auto timeout = -1;
      if (count > 0) {
        auto left = std::chrono::ceil<std::chrono::milliseconds>(
          deadline - clock::now());
        timeout = static_cast<int>(std::max<int64_t>(left.count(), 0));
      }
      pollfd fds[2] = {{stop_fd, POLLIN, 0}, {inotify_fd, POLLIN, 0}};
      if (::poll(fds, 2, timeout) < 0) {
        if (errno == EINTR)
          continue;
        on_burst(count, false); // cannot watch any longer: let the owner poll
        return;
      }
      if (fds[0].revents != 0)
        return;
      if ((fds[1].revents & POLLIN) != 0) {
        if (auto n = drain(); n > 0) {
          auto now = clock::now();
          if (count == 0)
            first = now;
          count += n;
          deadline = std::min(now + debounce, first + max_delay);
        }
      }
      if (count > 0 && clock::now() >= deadline) {
        // Watch the new target before the owner reads it: a change after
        // the read is then seen.
        auto complete = refresh();
        on_burst(count, complete);
        count = 0;
      }
    }
  }
};

std::unique_ptr<inotify_watcher>
inotify_watcher::make(std::vector<std::string> paths,
                      std::chrono::milliseconds debounce, std::string& error) {
  auto ptr = std::make_shared<impl>();
  ptr->paths = std::move(paths);
  ptr->debounce = std::max(debounce, std::chrono::milliseconds{0});
  ptr->inotify_fd = ::inotify_init1(IN_NONBLOCK | IN_CLOEXEC);
  if (ptr->inotify_fd < 0) {
    error = "inotify_init1: " + os_error(errno);
    return nullptr;
  }
  ptr->stop_fd = ::eventfd(0, EFD_CLOEXEC);
  if (ptr->stop_fd < 0) {
    error = "eventfd: " + os_error(errno);
    return nullptr;
  }
  if (!ptr->refresh(&error))
    return nullptr;
  return std::unique_ptr<inotify_watcher>{new inotify_watcher(std::move(ptr))};
}

inotify_watcher::inotify_watcher(std::shared_ptr<impl> ptr)
  : impl_(std::move(ptr)) {
  // nop
}

inotify_watcher::~inotify_watcher() {
  if (!thread_.joinable())
    return;
  uint64_t one = 1;
  while (::write(impl_->stop_fd, &one, sizeof(one)) < 0 && errno == EINTR) {
    // retry
  }
  // The callback may drop the last reference to the owner, which then
  // destroys this object on the thread itself.
  if (thread_.get_id() == std::this_thread::get_id())
    thread_.detach();
  else
    thread_.join();
}

void inotify_watcher::start(callback f) {
  impl_->on_burst = std::move(f);
  thread_ = std::thread{[ptr = impl_] { ptr->run(); }};
}

} // namespace cfgactors::detail

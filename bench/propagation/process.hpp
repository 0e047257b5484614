// Child processes and the bits of POSIX plumbing the propagation bench needs:
// every process it starts is killed and reaped when its handle goes away,
// and dies with the bench if the bench dies first.
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <sys/types.h>
#include <vector>

namespace bench {

/// A file descriptor closed on destruction.
class unique_fd {
public:
  unique_fd() = default;
  explicit unique_fd(int fd) : fd_(fd) {}
  unique_fd(unique_fd&& other) noexcept : fd_(other.release()) {}
  unique_fd& operator=(unique_fd&& other) noexcept;
  unique_fd(const unique_fd&) = delete;
  unique_fd& operator=(const unique_fd&) = delete;
  ~unique_fd() { reset(); }

  int get() const { return fd_; }
  int release();
  void reset(int fd = -1);
  explicit operator bool() const { return fd_ >= 0; }

private:
  int fd_ = -1;
};

/// Both ends of a pipe, close-on-exec.
struct pipe_fds {
  unique_fd read;
  unique_fd write;
};

pipe_fds make_pipe();

/// How to start a child.
struct spawn_spec {
  std::vector<std::string> argv;   ///< argv[0] is the program (a path)
  int stdin_fd = -1;               ///< becomes fd 0; -1: /dev/null
  int stdout_fd = -1;              ///< becomes fd 1; -1: inherited
  int stderr_fd = -1;              ///< becomes fd 2; -1: inherited
  int report_fd = -1;              ///< becomes fd 3; -1: none
};

/// A running child. On destruction: SIGTERM, a grace period, then SIGKILL,
/// and always reaped. Children also get SIGKILL when the bench dies.
class child {
public:
  explicit child(const spawn_spec& spec);
  child(child&& other) noexcept;
  child& operator=(child&&) = delete;
  child(const child&) = delete;
  ~child();

  pid_t pid() const { return pid_; }

  /// The exit status text if the child has ended, else nullopt.
  std::optional<std::string> exited();

  /// Ended by itself with exit code 0.
  bool succeeded() const { return status_ && code_ == 0; }

  /// Waits up to `grace` for the child to end by itself, then kills it.
  void stop(std::chrono::milliseconds grace);

  /// SIGTERM, then `stop(grace)`.
  void terminate(std::chrono::milliseconds grace);

private:
  void reaped(int status);

  pid_t pid_ = -1;
  std::optional<std::string> status_;
  int code_ = -1; ///< exit code; -1 when killed by a signal
};

/// Worker side: blocks until the coordinator closes the worker's stdin (or
/// dies): the lifeline that ends a worker without signals.
void await_lifeline_end();

/// The full path of `program` in $PATH, or empty.
std::string find_program(const std::string& program);

/// A TCP port on 127.0.0.1 that was free a moment ago (for servers that
/// cannot report the port they bound).
uint16_t free_port();

/// A fresh directory under `base` (by default /dev/shm, a tmpfs, when there
/// is one, else /tmp); removed with its contents on destruction.
class temp_dir {
public:
  explicit temp_dir(const std::string& base = {});
  ~temp_dir();
  temp_dir(const temp_dir&) = delete;
  temp_dir& operator=(const temp_dir&) = delete;
  const std::string& path() const { return path_; }

private:
  std::string path_;
};

/// A server the bench runs for itself (redis-server, etcd): data and log in
/// a temp dir of its own; on destruction the server is stopped first, then
/// the directory removed.
class server_process {
public:
  /// `base`: where its temp dir goes (see temp_dir).
  explicit server_process(std::string base = {}) : base_(std::move(base)) {}

  /// Starts `argv` with stdout and stderr going to `dir()/server.log`.
  void start(const std::vector<std::string>& argv);

  /// The server's directory, made on first use.
  const std::string& dir();

  /// Empty while the server runs, else how it ended and its log's tail.
  std::string failure();

  /// Calls `probe` (empty: the server answered, else why not) every
  /// `interval` until it answers, the server ends or `timeout` passes.
  /// Empty once it answered, else what went wrong, prefixed by `name`.
  std::string await_ready(const std::string& name,
                          std::chrono::milliseconds timeout,
                          std::chrono::milliseconds interval,
                          const std::function<std::string()>& probe);

private:
  std::string base_;
  std::optional<temp_dir> dir_;
  std::optional<child> proc_; ///< stopped before the directory goes
};

/// The last `max` bytes of a file (a server's log, for an error message).
std::string tail_of(const std::string& file, std::size_t max = 2000);

/// This process's resident set size in bytes (the second field of
/// /proc/self/statm), or -1 if it cannot be read.
int64_t rss_bytes();

/// This process's peak resident set size in bytes since the last
/// reset_peak_rss() (VmHWM in /proc/self/status), or -1.
int64_t peak_rss_bytes();

/// Starts a new peak: VmHWM drops to the present resident size (Linux:
/// clear_refs 5), after the allocator gave back what it holds freed.
void reset_peak_rss();

} // namespace bench

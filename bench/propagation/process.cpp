#include "process.hpp"

#include <cerrno>
#include <cstdio>
#include <csignal>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <system_error>
#include <thread>

#include <arpa/inet.h>
#include <malloc.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

namespace bench {

namespace {

[[noreturn]] void fail(const char* what) {
  throw std::system_error(errno, std::generic_category(), what);
}

std::string describe_status(int status) {
  if (WIFEXITED(status))
    return "exit code " + std::to_string(WEXITSTATUS(status));
  if (WIFSIGNALED(status))
    return std::string{"signal "} + strsignal(WTERMSIG(status));
  return "status " + std::to_string(status);
}

} // namespace

unique_fd& unique_fd::operator=(unique_fd&& other) noexcept {
  if (this != &other)
    reset(other.release());
  return *this;
}

int unique_fd::release() {
  auto fd = fd_;
  fd_ = -1;
  return fd;
}

void unique_fd::reset(int fd) {
  if (fd_ >= 0)
    ::close(fd_);
  fd_ = fd;
}

pipe_fds make_pipe() {
  int fds[2];
  if (::pipe2(fds, O_CLOEXEC) != 0)
    fail("pipe2");
  return {unique_fd{fds[0]}, unique_fd{fds[1]}};
}

child::child(const spawn_spec& spec) {
  // Everything the child needs is prepared before fork: between fork and
  // exec of a multi-threaded parent only async-signal-safe calls are allowed.
  std::vector<char*> argv;
  for (auto& arg : spec.argv)
    argv.push_back(const_cast<char*>(arg.c_str()));
  argv.push_back(nullptr);
  unique_fd null_fd{::open("/dev/null", O_RDONLY | O_CLOEXEC)};
  if (!null_fd)
    fail("open /dev/null");
  int in = spec.stdin_fd >= 0 ? spec.stdin_fd : null_fd.get();
  auto parent = ::getpid();
  pid_ = ::fork();
  if (pid_ < 0)
    fail("fork");
  if (pid_ == 0) {
    // Dies with the bench: no worker or server outlives a crashed run.
    ::prctl(PR_SET_PDEATHSIG, SIGKILL);
    if (::getppid() != parent)
      ::_exit(127);
    ::signal(SIGPIPE, SIG_DFL);
    ::dup2(in, 0);
    if (spec.stdout_fd >= 0)
      ::dup2(spec.stdout_fd, 1);
    if (spec.stderr_fd >= 0)
      ::dup2(spec.stderr_fd, 2);
    if (spec.report_fd == 3)
      ::fcntl(3, F_SETFD, 0); // dup2 onto itself keeps close-on-exec
    else if (spec.report_fd >= 0)
      ::dup2(spec.report_fd, 3);
    ::execv(argv[0], argv.data());
    ::_exit(127);
  }
}

child::child(child&& other) noexcept
  : pid_(other.pid_), status_(std::move(other.status_)), code_(other.code_) {
  other.pid_ = -1;
}

child::~child() {
  if (pid_ > 0 && !status_)
    terminate(std::chrono::milliseconds{2000});
}

std::optional<std::string> child::exited() {
  if (status_ || pid_ <= 0)
    return status_;
  int status = 0;
  if (::waitpid(pid_, &status, WNOHANG) == pid_)
    reaped(status);
  return status_;
}

void child::stop(std::chrono::milliseconds grace) {
  auto deadline = std::chrono::steady_clock::now() + grace;
  while (!exited() && std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds{5});
  if (status_ || pid_ <= 0)
    return;
  ::kill(pid_, SIGKILL);
  int status = 0;
  while (::waitpid(pid_, &status, 0) < 0 && errno == EINTR) {
    // retry
  }
  reaped(status);
}

void child::reaped(int status) {
  status_ = describe_status(status);
  code_ = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

void child::terminate(std::chrono::milliseconds grace) {
  if (pid_ > 0 && !exited())
    ::kill(pid_, SIGTERM);
  stop(grace);
}

void await_lifeline_end() {
  char buf[64];
  for (;;) {
    auto got = ::read(0, buf, sizeof(buf));
    if (got == 0 || (got < 0 && errno != EINTR))
      return;
  }
}

std::string find_program(const std::string& program) {
  const char* path = std::getenv("PATH");
  std::istringstream dirs{path ? path : "/usr/local/bin:/usr/bin:/bin"};
  for (std::string dir; std::getline(dirs, dir, ':');) {
    auto candidate = (dir.empty() ? std::string{"."} : dir) + "/" + program;
    if (::access(candidate.c_str(), X_OK) == 0)
      return candidate;
  }
  return {};
}

uint16_t free_port() {
  unique_fd fd{::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)};
  if (!fd)
    fail("socket");
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::bind(fd.get(), reinterpret_cast<sockaddr*>(&addr), sizeof(addr)) != 0)
    fail("bind 127.0.0.1:0");
  socklen_t len = sizeof(addr);
  if (::getsockname(fd.get(), reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    fail("getsockname");
  return ntohs(addr.sin_port);
}

temp_dir::temp_dir(const std::string& base) {
  std::error_code ec;
  auto dir = !base.empty() ? base
             : std::filesystem::is_directory("/dev/shm", ec) ? "/dev/shm"
                                                             : "/tmp";
  std::string pattern = dir + "/cfg-propagation.XXXXXX";
  if (!::mkdtemp(pattern.data()))
    throw std::system_error(errno, std::generic_category(),
                            "mkdtemp in " + dir);
  path_ = pattern;
}

temp_dir::~temp_dir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

const std::string& server_process::dir() {
  if (!dir_)
    dir_.emplace(base_);
  return dir_->path();
}

void server_process::start(const std::vector<std::string>& argv) {
  auto log = dir() + "/server.log";
  unique_fd log_fd{
    ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)};
  if (!log_fd)
    fail("open server log");
  spawn_spec spec;
  spec.argv = argv;
  spec.stdout_fd = log_fd.get();
  spec.stderr_fd = log_fd.get();
  proc_.emplace(spec);
}

std::string server_process::failure() {
  if (!proc_)
    return "not started";
  auto status = proc_->exited();
  if (!status)
    return {};
  return "exited (" + *status + "): " + tail_of(dir() + "/server.log");
}

std::string
server_process::await_ready(const std::string& name,
                            std::chrono::milliseconds timeout,
                            std::chrono::milliseconds interval,
                            const std::function<std::string()>& probe) {
  auto deadline = std::chrono::steady_clock::now() + timeout;
  std::string error;
  while (std::chrono::steady_clock::now() < deadline) {
    if (auto why = failure(); !why.empty())
      return name + " " + why;
    error = probe();
    if (error.empty())
      return {};
    std::this_thread::sleep_for(interval);
  }
  return name + " did not answer within "
         + std::to_string(timeout.count() / 1000) + " s: " + error;
}

std::string tail_of(const std::string& file, std::size_t max) {
  std::ifstream in{file, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in},
                   std::istreambuf_iterator<char>{}};
  if (text.size() > max)
    text.erase(0, text.size() - max);
  return text;
}

int64_t rss_bytes() {
  std::FILE* f = std::fopen("/proc/self/statm", "r");
  if (!f)
    return -1;
  long size = 0, resident = 0;
  auto n = std::fscanf(f, "%ld %ld", &size, &resident);
  std::fclose(f);
  return n == 2 ? int64_t{resident} * sysconf(_SC_PAGESIZE) : -1;
}

int64_t peak_rss_bytes() {
  std::ifstream in{"/proc/self/status"};
  std::string line;
  while (std::getline(in, line))
    if (line.rfind("VmHWM:", 0) == 0)
      return std::atoll(line.c_str() + 6) * 1024;
  return -1;
}

void reset_peak_rss() {
  malloc_trim(0);
  std::ofstream{"/proc/self/clear_refs"} << "5";
}

} // namespace bench

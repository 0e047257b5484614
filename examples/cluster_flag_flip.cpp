// A cluster-wide flag flip across two processes: the write returns only when
// every replica has applied it, and says which did. This program is both
// sides: it starts a primary on config.yaml with a cluster port, then runs
// itself again as a second process (`--replica PORT`) that joins as a
// replica and subscribes to `features`. The primary flips
// `features.new_algorithm` with consistency::all and lists who acked; the
// replica reports that it saw the flip and exits 0. Needs the middleman.
#include <chrono>
#include <condition_variable>
#include <csignal>
#include <iostream>
#include <memory>
#include <mutex>
#include <string>
#include <thread>

#include <fcntl.h>
#include <poll.h>
#include <sys/wait.h>
#include <unistd.h>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <cfgactors/cfgactors.hpp>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

using namespace cfgactors;
using namespace std::chrono_literals;
using clock_type = std::chrono::steady_clock;

namespace {

struct node_config : system_config {
  node_config() {
    load<caf::io::middleman>();
    set("scheduler.policy", caf::atom("sharing"));
  }
};

/// The second process: join, subscribe to `features`, wait for the flip.
int run_replica(uint16_t port) {
  // stdout is the story the parent reads; library events go to stderr.
  spdlog::set_default_logger(spdlog::stderr_color_mt("replica"));
  std::cout << std::boolalpha;
  node_config cfg;
  caf::actor_system sys{cfg};
  auto n = node::replica(sys, "127.0.0.1", port, node_options{}.node_name(
                           "replica-" + std::to_string(::getpid())));
  if (!n) {
    std::cout << "FAILED to join: " << sys.render(n.error()) << std::endl;
    return 1;
  }
  struct flip_seen {
    std::mutex mtx;
    std::condition_variable cv;
    uint64_t version = 0;
  };
  auto seen = std::make_shared<flip_seen>();
  auto sub = n->subscribe("features", [seen](const change& c) {
    auto& features = c.new_value();
    auto flag = features.find("new_algorithm");
    if (flag != features.end() && *flag == true) {
      std::lock_guard<std::mutex> guard{seen->mtx};
      seen->version = c.version;
      seen->cv.notify_all();
    }
  });
  // The parent flips only after this line.
  std::cout << "replica ready name=" << n->name() << " version="
            << n->version() << " new_algorithm="
            << n->get<bool>("features.new_algorithm", false) << std::endl;
  std::unique_lock<std::mutex> guard{seen->mtx};
  seen->cv.wait_for(guard, 15s, [&] { return seen->version != 0; });
  auto on = n->get<bool>("features.new_algorithm", false);
  std::cout << "replica saw features.new_algorithm=true in version "
            << seen->version << ", reads " << on << std::endl;
  return sub && seen->version != 0 && on ? 0 : 1;
}

/// Echoes the child's stdout line by line until a line contains `text`;
/// false at end of output or after `timeout`.
bool wait_for_line(int fd, std::string& buf, const std::string& text,
                   std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  for (;;) {
    if (auto nl = buf.find('\n'); nl != std::string::npos) {
      auto line = buf.substr(0, nl);
      buf.erase(0, nl + 1);
      std::cout << "  [replica] " << line << '\n';
      if (line.find(text) != std::string::npos)
        return true;
      continue;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
      deadline - clock_type::now());
    pollfd p{fd, POLLIN, 0};
    if (left.count() <= 0 || ::poll(&p, 1, static_cast<int>(left.count())) <= 0)
      return false;
    char chunk[512];
    auto k = ::read(fd, chunk, sizeof(chunk));
    if (k <= 0)
      return false;
    buf.append(chunk, static_cast<size_t>(k));
  }
}

/// The child's exit status, or -1 when it had to be killed after `timeout`.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  auto deadline = clock_type::now() + timeout;
  int status = 0;
  while (::waitpid(pid, &status, WNOHANG) == 0) {
    if (clock_type::now() > deadline) {
      ::kill(pid, SIGKILL);
      ::waitpid(pid, &status, 0);
      return -1;
    }
    std::this_thread::sleep_for(20ms);
  }
  return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

} // namespace

int main(int argc, char** argv) {
  if (argc == 3 && std::string{argv[1]} == "--replica")
    return run_replica(static_cast<uint16_t>(std::stoi(argv[2])));
  std::string dir = CFGACTORS_EXAMPLES_DIR;
  spdlog::set_default_logger(spdlog::stderr_color_mt("primary"));
  std::cout << std::boolalpha;
  node_config cfg;
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(dir + "/config.yaml")
                                .schema(dir + "/schema.json")
                                .cluster_port(0)
                                .node_name("primary"));
  if (!n) {
    std::cout << "FAILED: " << sys.render(n.error()) << '\n';
    return 1;
  }
  std::cout << "primary on port " << n->cluster_port() << '\n' << std::flush;
  // The second process, its stdout on a pipe to this one.
  int out[2];
  if (::pipe2(out, O_CLOEXEC) != 0)
    return 1;
  auto port = std::to_string(n->cluster_port());
  char self_exe[] = "/proc/self/exe";
  char flag[] = "--replica";
  char* child_argv[] = {self_exe, flag, port.data(), nullptr};
  auto pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close_range(3, ~0U, 0); // not the primary's sockets
    ::execv(self_exe, child_argv);
    ::_exit(127);
  }
  ::close(out[1]);
  bool ok = true;
  auto check = [&](bool cond, const std::string& what) {
    if (!cond) {
      std::cout << "FAILED: " << what << '\n';
      ok = false;
    }
  };
  check(pid > 0, "fork");
  std::string buf;
  auto name = "replica-" + std::to_string(pid);
  check(pid > 0 && wait_for_line(out[0], buf, "replica ready", 20s),
        "the replica joins");
  if (ok) {
    auto r = n->flag("new_algorithm", true, consistency::all, 5s);
    std::string acked;
    for (auto& x : r.acked)
      acked += (acked.empty() ? "" : ", ") + x;
    std::cout << "flip new_algorithm on: " << r.result.describe()
              << " consistency=" << to_string(r.level)
              << " satisfied=" << r.satisfied << " acked=[" << acked
              << "] missing=" << r.missing.size() << '\n';
    check(r.result.status == write_status::committed && r.satisfied,
          "the flip is committed and every replica applied it");
    check(acked == name, "the replica is listed as having acked");
    check(wait_for_line(out[0], buf, "replica saw", 15s),
          "the replica's subscriber saw the flip");
  }
  if (!ok && pid > 0)
    ::kill(pid, SIGTERM);
  auto status = pid > 0 ? wait_exit(pid, 10s) : -1;
  std::cout << "replica exit status " << status << '\n';
  check(status == 0, "the replica exits 0");
  ::close(out[0]);
  n->stop();
  std::cout << (ok ? "example ok" : "example FAILED") << '\n';
  return ok ? 0 : 1;
}

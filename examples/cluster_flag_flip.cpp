// A cluster-wide flag flip across two processes. This program starts a
// primary with a cluster port, then runs itself as a second process
// (`--replica PORT`, stdout piped back) that joins as a replica and subscribes
// to `features`. The primary flips `features.new_algorithm` with
// consistency::all, which returns once every replica applied it, naming them.
#include <atomic>
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <string>
#include <thread>
#include <vector>

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
using std::chrono::steady_clock;

namespace {

struct node_config : system_config {
  node_config() {
    load<caf::io::middleman>();
    set("scheduler.policy", caf::atom("sharing"));
  }
};

/// The second process: join, subscribe to `features`, wait for the flip.
int run_replica(uint16_t port) {
  spdlog::set_default_logger(spdlog::stderr_color_mt("replica"));
  node_config cfg;
  caf::actor_system sys{cfg};
  auto n = node::replica(sys, "127.0.0.1", port, node_options{}.node_name(
                           "replica-" + std::to_string(::getpid())));
  if (!n) {
    std::cout << "FAILED to join: " << sys.render(n.error()) << std::endl;
    return 1;
  }
  auto seen = std::make_shared<std::atomic<uint64_t>>(0);
  auto sub = n->subscribe("features", [seen](const change& c) {
    auto& features = c.new_value();
    if (features.is_object() && features.value("new_algorithm", json{}) == true)
      *seen = c.version;
  });
  // The parent flips only after this line.
  std::cout << "ready: " << n->name() << " at version " << n->version()
            << std::endl;
  for (int i = 0; i < 600 && *seen == 0; ++i)
    std::this_thread::sleep_for(25ms);
  auto on = n->get<bool>("features.new_algorithm", false);
  std::cout << "saw features.new_algorithm=true in version " << *seen
            << ", reads " << std::boolalpha << on << std::endl;
  return sub && *seen != 0 && on ? 0 : 1;
}

/// Echoes the child's lines until one starts with `prefix`; false at the
/// end of its output or after `timeout`.
bool wait_for_line(int fd, const std::string& prefix,
                   std::chrono::milliseconds timeout) {
  std::string line;
  char ch;
  for (auto end = steady_clock::now() + timeout; steady_clock::now() < end;) {
    pollfd p{fd, POLLIN, 0};
    if (::poll(&p, 1, 100) <= 0)
      continue;
    if (::read(fd, &ch, 1) != 1)
      return false; // the child's output ended
    if (ch != '\n') {
      line += ch;
      continue;
    }
    std::cout << "  [replica] " << line << '\n';
    if (line.rfind(prefix, 0) == 0)
      return true;
    line.clear();
  }
  return false;
}

/// The child's exit status; -1 when it had to be killed after `timeout`.
int wait_exit(pid_t pid, std::chrono::milliseconds timeout) {
  int status = 0;
  for (auto end = steady_clock::now() + timeout;
       ::waitpid(pid, &status, WNOHANG) == 0;) {
    if (steady_clock::now() > end) {
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
  spdlog::set_default_logger(spdlog::stderr_color_mt("primary"));
  node_config cfg;
  caf::actor_system sys{cfg};
  auto n = node::primary(sys, node_options{}
                                .file(CFGACTORS_EXAMPLES_DIR "/config.yaml")
                                .cluster_port(0)
                                .node_name("primary"));
  int out[2];
  if (!n || ::pipe2(out, O_CLOEXEC) != 0) {
    std::cout << "FAILED: " << (n ? "pipe" : sys.render(n.error())) << '\n';
    return 1;
  }
  std::cout << "primary on port " << n->cluster_port() << std::endl;
  // Everything the child needs is ready before fork: it only execs.
  auto port = std::to_string(n->cluster_port());
  char exe[] = "/proc/self/exe";
  char flag[] = "--replica";
  char* child_argv[] = {exe, flag, port.data(), nullptr};
  auto pid = ::fork();
  if (pid == 0) {
    ::dup2(out[1], STDOUT_FILENO);
    ::close_range(3, ~0U, 0); // not the primary's sockets
    ::execv(exe, child_argv);
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
  auto name = "replica-" + std::to_string(pid);
  check(pid > 0 && wait_for_line(out[0], "ready", 20s), "the replica joins");
  if (ok) {
    auto r = n->flag("new_algorithm", true, consistency::all, 5s);
    std::cout << "flip new_algorithm on (consistency all): "
              << r.result.describe() << ", acked by";
    for (auto& x : r.acked)
      std::cout << ' ' << x;
    std::cout << ", missing " << r.missing.size() << '\n';
    check(r.result.status == write_status::committed && r.satisfied,
          "the flip is committed and every replica applied it");
    check(r.acked == std::vector<std::string>{name}, "the replica acked it");
    check(wait_for_line(out[0], "saw", 15s), "the replica's subscriber saw it");
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

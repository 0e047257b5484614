// Test fixture: a real single-member etcd (/usr/bin/etcd) on free loopback
// ports, its data dir under /dev/shm, killed and removed at the end.
#pragma once

#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

#include "cfgactors_test.hpp"

#include "etcd/etcd_client.hpp"

namespace cfgactors::test {

/// A loopback port nobody listens on right now.
inline int free_port() {
  auto fd = ::socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  socklen_t len = sizeof(addr);
  if (fd < 0 || ::bind(fd, reinterpret_cast<sockaddr*>(&addr), len) != 0
      || ::getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0)
    CAF_FAIL("cannot find a free port");
  ::close(fd);
  return ntohs(addr.sin_port);
}

/// A directory under /dev/shm (etcd fsyncs; tmpfs makes that free).
struct shm_dir {
  std::filesystem::path path;

  explicit shm_dir(const std::string& name) {
    std::string pattern = "/dev/shm/cfgactors-" + name + "-XXXXXX";
    if (mkdtemp(pattern.data()) == nullptr)
      CAF_FAIL("mkdtemp under /dev/shm failed");
    path = pattern;
  }

  shm_dir(const shm_dir&) = delete;
  shm_dir& operator=(const shm_dir&) = delete;

  ~shm_dir() {
    std::error_code ec;
    std::filesystem::remove_all(path, ec);
  }

  std::string file(const std::string& name) const {
    return (path / name).string();
  }
};

class etcd_server {
public:
  static constexpr const char* program = "/usr/bin/etcd";

  /// Starts etcd and waits until it answers; `https` needs the files of
  /// make_certs() in `dir`. Extra flags go last.
  explicit etcd_server(const shm_dir& dir, bool https = false,
                       std::vector<std::string> extra = {})
    : dir_(dir) {
    if (::access(program, X_OK) != 0)
      CAF_FAIL(program << " is missing: install etcd-server");
    auto client = std::string{https ? "https" : "http"} + "://127.0.0.1:"
                  + std::to_string(free_port());
    auto peer = "http://127.0.0.1:" + std::to_string(free_port());
    endpoint_ = client;
    std::vector<std::string> args{
      program, "--name", "t", "--data-dir", dir.file("data"),
      "--listen-client-urls", client, "--advertise-client-urls", client,
      "--listen-peer-urls", peer, "--initial-advertise-peer-urls", peer,
      "--initial-cluster", "t=" + peer, "--logger", "zap", "--log-outputs",
      "stderr", "--log-level", "error",
      // One member elects itself after one election timeout.
      "--heartbeat-interval", "10", "--election-timeout", "100"};
    if (https)
      for (std::string arg :
           {std::string{"--client-cert-auth"},
            "--trusted-ca-file=" + dir.file("ca.crt"),
            "--cert-file=" + dir.file("server.crt"),
            "--key-file=" + dir.file("server.key")})
        args.push_back(arg);
    args.insert(args.end(), extra.begin(), extra.end());
    std::vector<char*> argv;
    for (auto& arg : args)
      argv.push_back(arg.data());
    argv.push_back(nullptr);
    auto log = dir.file("etcd.log");
    pid_ = ::fork();
    if (pid_ < 0)
      CAF_FAIL("fork failed");
    if (pid_ == 0) {
      ::prctl(PR_SET_PDEATHSIG, SIGKILL); // no orphan if the test crashes
      auto fd = ::open(log.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0600);
      ::dup2(fd, 1);
      ::dup2(fd, 2);
      ::execv(program, argv.data());
      ::_exit(127);
    }
    await_ready(https);
  }

  etcd_server(const etcd_server&) = delete;
  etcd_server& operator=(const etcd_server&) = delete;

  ~etcd_server() {
    kill();
  }

  /// SIGKILLs etcd now (a lost quorum, as its clients see it).
  void kill() {
    if (pid_ <= 0)
      return;
    ::kill(pid_, SIGKILL);
    ::waitpid(pid_, nullptr, 0);
    pid_ = -1;
  }

  const std::string& endpoint() const {
    return endpoint_;
  }

  /// Options for a client of this server (with the test certs on https).
  detail::etcd_options options() const {
    detail::etcd_options opts;
    opts.endpoints = {endpoint_};
    if (endpoint_.rfind("https", 0) == 0) {
      opts.cacert = dir_.file("ca.crt");
      opts.cert = dir_.file("client.crt");
      opts.key = dir_.file("client.key");
    }
    return opts;
  }

private:
  void await_ready(bool) {
    detail::etcd_client client{options()};
    auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(15);
    detail::etcd_error err;
    while (std::chrono::steady_clock::now() < deadline) {
      if (client.range("ready?", {}, err))
        return;
      if (::waitpid(pid_, nullptr, WNOHANG) == pid_)
        break;
      std::this_thread::sleep_for(std::chrono::milliseconds(20));
    }
    std::ifstream in{dir_.file("etcd.log")};
    std::stringstream text;
    text << in.rdbuf();
    CAF_FAIL("etcd did not answer: " << err.message << "\n" << text.str());
  }

  const shm_dir& dir_;
  std::string endpoint_;
  pid_t pid_ = -1;
};

/// A CA, a server certificate for IP 127.0.0.1 and a client certificate
/// signed by it, plus another CA of the same key type and a client
/// certificate it signed ("other-client"), all written to `dir`.
inline void make_certs(const shm_dir& dir) {
  std::string script = R"(set -e
cd ")" + dir.path.string() + R"("
key() { openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$1.key" 2>/dev/null; }
ca() { key "$1"; openssl req -x509 -new -key "$1.key" -subj "/CN=$1" -days 1 -out "$1.crt"; }
leaf() { # name ca extensions
  key "$1"
  openssl req -new -key "$1.key" -subj "/CN=$1" -out "$1.csr"
  printf '%s\n' "$3" > "$1.ext"
  openssl x509 -req -in "$1.csr" -CA "$2.crt" -CAkey "$2.key" -CAcreateserial \
    -days 1 -extfile "$1.ext" -out "$1.crt" 2>/dev/null
}
ca ca
ca other-ca
# The gateway inside etcd dials etcd with the server certificate as its
# client certificate, hence clientAuth too.
leaf server ca "subjectAltName=IP:127.0.0.1
extendedKeyUsage=serverAuth,clientAuth"
leaf client ca "extendedKeyUsage=clientAuth"
leaf other-client other-ca "extendedKeyUsage=clientAuth"
)";
  auto file = dir.file("make-certs.sh");
  std::ofstream{file} << script;
  if (std::system(("sh " + file + " > " + dir.file("make-certs.log") + " 2>&1")
                    .c_str())
      != 0)
    CAF_FAIL("openssl failed; see " << dir.file("make-certs.log"));
}

} // namespace cfgactors::test

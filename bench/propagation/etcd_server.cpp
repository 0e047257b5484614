#include "etcd_server.hpp"

#include <chrono>

#include "etcd/etcd_client.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;

/// Empty once `endpoint` answers a linearizable read (it has a leader).
std::string probe(const std::string& endpoint) {
  cfgactors::detail::etcd_options opts;
  opts.endpoints = {endpoint};
  opts.connect_timeout = 500ms;
  opts.request_timeout = 1000ms;
  cfgactors::detail::etcd_client client{opts};
  cfgactors::detail::etcd_error err;
  if (!client.range("bench.probe", {}, err))
    return err.message;
  return {};
}

} // namespace

etcd_server::etcd_server(std::string base) : base_(std::move(base)) {
  // nop
}

etcd_server::~etcd_server() {
  // Members go first (server_process stops before its directory goes).
  members_.clear();
}

std::string etcd_server::program() {
  return find_program("etcd");
}

std::string etcd_server::start(int members) {
  if (!members_.empty()) {
    for (auto& m : members_)
      if (auto why = m->failure(); !why.empty())
        return "etcd " + why;
    return {};
  }
  auto etcd = program();
  if (etcd.empty())
    return "etcd not found";
  std::vector<std::string> names;
  std::vector<std::string> peers;
  std::string initial;
  for (int i = 0; i < members; ++i) {
    ports_.push_back(free_port());
    endpoints_.push_back("http://127.0.0.1:" + std::to_string(ports_.back()));
    names.push_back("bench" + std::to_string(i));
    peers.push_back("http://127.0.0.1:" + std::to_string(free_port()));
    initial += (i > 0 ? "," : "") + names.back() + "=" + peers.back();
  }
  // All members first: none has a leader until a majority runs.
  for (int i = 0; i < members; ++i) {
    auto& m = *members_.emplace_back(std::make_unique<server_process>(base_));
    m.start({etcd, "--name", names[i], "--data-dir", m.dir() + "/etcd",
             "--listen-client-urls", endpoints_[i], "--advertise-client-urls",
             endpoints_[i], "--listen-peer-urls", peers[i],
             "--initial-advertise-peer-urls", peers[i], "--initial-cluster",
             initial, "--initial-cluster-state", "new", "--logger", "zap",
             "--log-outputs", "stderr", "--log-level", "warn"});
  }
  for (int i = 0; i < members; ++i) {
    auto err = members_[i]->await_ready("etcd " + names[i], 30s, 50ms,
                                        [&] { return probe(endpoints_[i]); });
    if (!err.empty())
      return err;
  }
  return {};
}

} // namespace bench

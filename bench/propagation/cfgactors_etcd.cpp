// cfgactors over etcd: the coordinator runs its own single-member etcd (the
// one the raw etcd system runs, etcd_server) and a node in etcd mode, and
// writes each flip through that node (validate, then one etcd transaction);
// every worker runs a node in etcd mode of the same cluster (name: w<id>)
// with a subscriber actor, so a flip reaches it through the node's watch,
// its validator's adopt, its store and its router.
#include <atomic>
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <memory>
#include <optional>

#include <caf/all.hpp>

#include "cfgactors/cfgactors.hpp"
#include "etcd/etcd_keys.hpp"
#include "etcd/etcd_watch.hpp"
#include "etcd/version_record.hpp"

#include "caf_settings.hpp"
#include "etcd_server.hpp"
#include "flip_subscriber.hpp"
#include "process.hpp"
#include "report.hpp"
#include "system.hpp"

namespace bench {

namespace {

struct etcd_node_config : cfgactors::system_config {
  explicit etcd_node_config(const caf_settings& settings) {
    apply(settings, *this);
  }
};

/// Every node of a run holds the same defaults: the first commits them, the
/// others find them in etcd and propose nothing new.
cfgactors::node_options node_options(const std::string& endpoint,
                                     const std::string& cluster,
                                     const std::string& name, int keys) {
  return cfgactors::node_options{}
    .etcd({endpoint}, cluster)
    .node_name(name)
    .defaults(base_config(keys));
}

/// `--trace`: a raw watch of the worker's own on the cluster's prefix (the
/// node's follower watches the same), so a flip's receipt splits into the
/// watch and the node's adopt path. Prints one line per flip seen and, at
/// the end, how many events the prefix carried.
class trace_watch {
public:
  trace_watch(int id, const std::string& endpoint, const std::string& cluster)
    : id_(id), keys_(cluster) {
    cfgactors::detail::etcd_options opts;
    opts.endpoints = {endpoint};
    watch_ = std::make_unique<cfgactors::detail::etcd_watch>(
      opts, keys_.root(), cfgactors::detail::prefix_end(keys_.root()), 0,
      [this](cfgactors::detail::etcd_watch_batch b) { on_batch(b); },
      [](cfgactors::detail::etcd_error, int64_t) {});
  }

  ~trace_watch() {
    watch_->stop();
    std::fprintf(stderr, "trace cfgactors-etcd - events %d %" PRIu64 " %" PRIu64
                 "\n", id_, events_.load(), versions_.load());
  }

private:
  void on_batch(const cfgactors::detail::etcd_watch_batch& b) {
    auto now = monotonic_ns();
    for (auto& ev : b.events) {
      ++events_;
      if (keys_.version_of(ev.kv.key) == 0)
        continue;
      ++versions_;
      auto rec = cfgactors::detail::decode_version_record(ev.kv.value,
                                                          ev.kv.key);
      if (!rec)
        continue;
      for (auto& l : rec->layers) {
        auto bench = l.data->find("bench");
        if (bench == l.data->end() || !bench->contains("flip"))
          continue;
        auto& flip = bench->at("flip");
        std::fprintf(stderr, "trace cfgactors-etcd - watch %" PRIu64
                     " %d %" PRId64 "\n", flip.value("i", uint64_t{0}), id_,
                     (now - flip.value("t", int64_t{0})) / 1000);
      }
    }
  }

  int id_;
  cfgactors::detail::etcd_keys keys_;
  std::atomic<uint64_t> events_{0};
  std::atomic<uint64_t> versions_{0};
  std::unique_ptr<cfgactors::detail::etcd_watch> watch_;
};

class cfgactors_etcd_publisher : public publisher {
public:
  cfgactors_etcd_publisher(const bench_options& opts, std::string endpoint,
                           std::string cluster)
    : settings_(opts.caf), keys_(opts.keys), trace_(opts.trace),
      endpoint_(std::move(endpoint)),
      cluster_(std::move(cluster)), cfg_(opts.caf), sys_(cfg_) {
    // nop
  }

  ~cfgactors_etcd_publisher() override {
    // A node goes before its actor system.
    node_.reset();
  }

  std::string open() {
    auto n = cfgactors::node::primary(
      sys_, node_options(endpoint_, cluster_, "coordinator", keys_));
    if (!n)
      return "coordinator node: " + sys_.render(n.error());
    node_.emplace(std::move(*n));
    return {};
  }

  std::vector<std::string> worker_args() const override {
    auto args = to_args(settings_);
    args.push_back("--etcd=" + endpoint_);
    args.push_back("--cluster=" + cluster_);
    args.push_back("--keys=" + std::to_string(keys_));
    args.push_back(std::string{"--trace="} + (trace_ ? "1" : "0"));
    return args;
  }

  std::string publish(uint64_t index, int64_t stamp_ns) override {
    auto r = node_->set("bench.flip",
                        cfgactors::json{{"i", index}, {"t", stamp_ns}});
    return r.result.ok() ? std::string{} : r.result.describe();
  }

private:
  caf_settings settings_;
  int keys_;
  bool trace_;
  std::string endpoint_;
  std::string cluster_;
  etcd_node_config cfg_;
  caf::actor_system sys_;
  std::optional<cfgactors::node> node_;
};

class cfgactors_etcd_system : public system_under_test {
public:
  explicit cfgactors_etcd_system(bench_options opts)
    : opts_(std::move(opts)), server_(opts_.server_dir) {
    // nop
  }

  std::string unavailable() const override {
    return etcd_server::program().empty() ? "etcd not found" : std::string{};
  }

  std::string start() override {
    return server_.start();
  }

  /// Each run is a cluster of its own: no history or node records of an
  /// earlier run in its prefix.
  std::unique_ptr<publisher> open_run(std::string& error) override {
    auto pub = std::make_unique<cfgactors_etcd_publisher>(
      opts_, server_.endpoints().front(), "bench-" + std::to_string(++runs_));
    error = pub->open();
    if (!error.empty())
      return nullptr;
    return pub;
  }

  int run_worker(int id, const arg_map& args) override {
    etcd_node_config cfg{caf_settings_from(args)};
    caf::actor_system sys{cfg};
    auto n = cfgactors::node::primary(
      sys, node_options(arg_or(args, "etcd"), arg_or(args, "cluster"),
                        "w" + std::to_string(id),
                        std::stoi(arg_or(args, "keys", "100"))));
    if (!n) {
      report_error(id, "cfgactors-etcd worker: " + sys.render(n.error()));
      return 1;
    }
    std::optional<trace_watch> trace;
    if (arg_or(args, "trace") == "1")
      trace.emplace(id, arg_or(args, "etcd"), arg_or(args, "cluster"));
    auto sub = sys.spawn(flip_subscriber, id);
    // The actor system waits for every actor: the subscriber ends first.
    struct stop_guard {
      cfgactors::node& n;
      cfgactors::subscriber_actor& sub;
      ~stop_guard() {
        n.stop();
        caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
      }
    } guard{*n, sub};
    if (auto s = n->subscribe_actor("bench", sub); !s) {
      report_error(id, "cfgactors-etcd worker: subscribe: "
                         + sys.render(s.error()));
      return 1;
    }
    report_ready(id);
    await_lifeline_end();
    return 0;
  }

private:
  bench_options opts_;
  etcd_server server_;
  int runs_ = 0;
};

} // namespace

std::unique_ptr<system_under_test>
make_cfgactors_etcd_system(const bench_options& opts) {
  return std::make_unique<cfgactors_etcd_system>(opts);
}

} // namespace bench

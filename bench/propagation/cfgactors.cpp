// cfgactors: the coordinator runs a pipeline (validator → store → router)
// and the primary behind its link gate (as a node publishes it: every byte
// sealed, peers authenticated), and writes each flip through the validator;
// every worker runs a replica and a subscriber actor on it. cfgactors-plain
// is the same over plain BASP, as raw CAF connects (the primary published
// by the middleman, no link): what the sealed link costs a flip. No node
// runs that way: it answers any peer.
#include <chrono>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "cfgactors/cfgactors.hpp"
#include "cluster/primary.hpp"
#include "cluster/replica.hpp"
#include "link/link_dialer.hpp"
#include "link/primary_gate.hpp"
#include "pipeline/pipeline_core.hpp"

#include "caf_settings.hpp"
#include "flip_subscriber.hpp"
#include "process.hpp"
#include "report.hpp"
#include "system.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;

struct node_config : cfgactors::system_config {
  node_config(const caf_settings& settings) {
    load<caf::io::middleman>();
    apply(settings, *this);
  }
};

/// The link both ends use: no secret (loopback), the node's defaults.
cfgactors::detail::link_options link_options() {
  return {};
}

class cfgactors_publisher : public publisher {
public:
  cfgactors_publisher(const bench_options& opts, bool sealed)
    : settings_(opts.caf), cfg_(opts.caf), sys_(cfg_),
      self_(sys_), sealed_(sealed) {
    // nop
  }

  ~cfgactors_publisher() override {
    if (gate_)
      gate_->close();
    link_->stop();
    // A published actor keeps the system alive: end it explicitly.
    if (node_)
      caf::anon_send_exit(node_, caf::exit_reason::user_shutdown);
    if (pipeline_.validator)
      cfgactors::shutdown(pipeline_.handles());
  }

  std::string open(int keys) {
    pipeline_ = *cfgactors::detail::open_pipeline_core(sys_, {});
    auto err = write({cfgactors::operation::replace_layer(
      std::string{cfgactors::defaults_layer}, base_config(keys))});
    if (!err.empty())
      return "initial config: " + err;
    node_ = cfgactors::spawn_primary(sys_, pipeline_.store, pipeline_.validator, {});
    if (!sealed_) {
      auto port = sys_.middleman().publish(caf::actor_cast<caf::actor>(node_),
                                           0, "127.0.0.1", true);
      if (!port)
        return "publish: " + sys_.render(port.error());
      port_ = *port;
      return {};
    }
    auto gate = cfgactors::detail::open_primary_gate(
      sys_, link_, node_, "127.0.0.1", 0, link_options());
    if (!gate)
      return "cluster port: " + sys_.render(gate.error());
    gate_ = *gate;
    port_ = gate_->port();
    return {};
  }

  std::vector<std::string> worker_args() const override {
    return bench::worker_args(settings_, port_);
  }

  std::string publish(uint64_t index, int64_t stamp_ns) override {
    return write({cfgactors::operation::set(
      "bench.flip", cfgactors::json{{"i", index}, {"t", stamp_ns}})});
  }

private:
  /// One write through the validator: the full admission path (merge,
  /// validate, commit); the answer comes once the version exists.
  std::string write(std::vector<cfgactors::operation> ops) {
    std::string error;
    cfgactors::write_request req{std::move(ops), "bench", 0, {}};
    self_
      ->request(pipeline_.validator, std::chrono::seconds{10},
                cfgactors::write_atom::value, std::move(req))
      .receive(
        [&](cfgactors::write_result& r) {
          if (r.status != cfgactors::write_status::committed)
            error = r.describe();
        },
        [&](caf::error& err) { error = sys_.render(err); });
    return error;
  }

  caf_settings settings_;
  node_config cfg_;
  caf::actor_system sys_;
  cfgactors::detail::pipeline_core pipeline_;
  cfgactors::primary_actor node_;
  cfgactors::detail::link_context_ptr link_
    = std::make_shared<cfgactors::detail::link_context>();
  cfgactors::detail::link_gate_ptr gate_;
  uint16_t port_ = 0;
  caf::scoped_actor self_;
  bool sealed_;
};

class cfgactors_system : public system_under_test {
public:
  cfgactors_system(bench_options opts, bool sealed)
    : opts_(std::move(opts)), sealed_(sealed) {
    // nop
  }

  std::unique_ptr<publisher> open_run(std::string& error) override {
    auto pub = std::make_unique<cfgactors_publisher>(opts_, sealed_);
    error = pub->open(opts_.keys);
    if (!error.empty())
      return nullptr;
    return pub;
  }

  int run_worker(int id, const arg_map& args) override {
    node_config cfg{caf_settings_from(args)};
    caf::actor_system sys{cfg};
    cfgactors::replica_options ropts;
    ropts.node = "w" + std::to_string(id);
    ropts.host = arg_or(args, "host", "127.0.0.1");
    ropts.port = static_cast<uint16_t>(std::stoi(arg_or(args, "port", "0")));
    ropts.min_backoff = 20ms;
    ropts.max_backoff = 500ms;
    cfgactors::detail::link_context_ptr link; // plain: BASP connects itself
    if (sealed_) {
      link = std::make_shared<cfgactors::detail::link_context>();
      ropts.dialer = std::make_shared<cfgactors::detail::link_dialer>(
        link, link_options());
    }
    auto replica = cfgactors::spawn_replica(sys, ropts);
    auto sub = sys.spawn(flip_subscriber, id);
    struct stop_guard {
      cfgactors::replica_actor& replica;
      cfgactors::subscriber_actor& sub;
      ~stop_guard() {
        caf::anon_send_exit(sub, caf::exit_reason::user_shutdown);
        caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
      }
    } guard{replica, sub};
    std::string error;
    {
      caf::scoped_actor self{sys};
      self
        ->request(replica, 10s, cfgactors::subscribe_atom::value,
                  std::string{"bench"}, sub)
        .receive([](uint64_t) {},
                 [&](caf::error& err) { error = sys.render(err); });
      // Ready once the replica follows the primary's stream.
      auto deadline = std::chrono::steady_clock::now() + 60s;
      bool connected = false;
      while (error.empty() && !connected
             && std::chrono::steady_clock::now() < deadline) {
        self->request(replica, 10s, cfgactors::status_atom::value)
          .receive(
            [&](cfgactors::replica_status& st) { connected = st.connected; },
            [&](caf::error& err) { error = sys.render(err); });
        if (!connected)
          std::this_thread::sleep_for(10ms);
      }
      if (error.empty() && !connected)
        error = "the replica did not connect to " + ropts.host + ":"
                + std::to_string(ropts.port) + " within 60 s";
    }
    if (!error.empty()) {
      report_error(id, "cfgactors worker: " + error);
      return 1;
    }
    report_ready(id);
    await_lifeline_end();
    return 0;
  }

private:
  bench_options opts_;
  bool sealed_;
};

} // namespace

std::unique_ptr<system_under_test>
make_cfgactors_system(const bench_options& opts) {
  return std::make_unique<cfgactors_system>(opts, true);
}

std::unique_ptr<system_under_test>
make_cfgactors_plain_system(const bench_options& opts) {
  return std::make_unique<cfgactors_system>(opts, false);
}

} // namespace bench

// Raw CAF, the floor: the coordinator publishes a plain actor, each worker
// connects with remote_actor and enlists an actor of its own, and every flip
// is one message (index, stamp) from the published actor to each of them.
#include <chrono>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include "caf_settings.hpp"
#include "process.hpp"
#include "report.hpp"
#include "system.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;

using enlist_atom = caf::atom_constant<caf::atom("enlist")>;
using flip_atom = caf::atom_constant<caf::atom("flip")>;

struct caf_config : caf::actor_system_config {
  caf_config(const caf_settings& settings) {
    load<caf::io::middleman>();
    apply(settings, *this);
  }
};

struct hub_state {
  static inline const char* name = "bench.hub";
  std::vector<caf::actor> workers;
};

/// The published actor: keeps the enlisted workers, fans each flip out.
caf::behavior hub(caf::stateful_actor<hub_state>* self, size_t expected) {
  self->state.workers.reserve(expected);
  return {
    [self](enlist_atom, caf::actor& worker) {
      self->state.workers.push_back(std::move(worker));
      return static_cast<uint64_t>(self->state.workers.size());
    },
    [self](flip_atom, uint64_t index, int64_t stamp) {
      for (auto& worker : self->state.workers)
        self->send(worker, flip_atom::value, index, stamp);
    },
  };
}

caf::behavior flip_receiver(caf::event_based_actor*, int id) {
  return {
    [id](flip_atom, uint64_t index, int64_t stamp) {
      report_flip(id, index, monotonic_ns() - stamp);
    },
  };
}

class caf_publisher : public publisher {
public:
  explicit caf_publisher(const bench_options& opts)
    : settings_(opts.caf), cfg_(opts.caf), sys_(cfg_) {
    // nop
  }

  ~caf_publisher() override {
    if (hub_)
      caf::anon_send_exit(hub_, caf::exit_reason::user_shutdown);
  }

  std::string open() {
    hub_ = sys_.spawn(hub, size_t{32});
    auto port = sys_.middleman().publish(hub_, 0, "127.0.0.1", true);
    if (!port)
      return "publish: " + sys_.render(port.error());
    port_ = *port;
    return {};
  }

  std::vector<std::string> worker_args() const override {
    return bench::worker_args(settings_, port_);
  }

  std::string publish(uint64_t index, int64_t stamp_ns) override {
    caf::anon_send(hub_, flip_atom::value, index, stamp_ns);
    return {};
  }

private:
  caf_settings settings_;
  caf_config cfg_;
  caf::actor_system sys_;
  caf::actor hub_;
  uint16_t port_ = 0;
};

class caf_system : public system_under_test {
public:
  explicit caf_system(bench_options opts) : opts_(std::move(opts)) {
    // nop
  }

  std::unique_ptr<publisher> open_run(std::string& error) override {
    auto pub = std::make_unique<caf_publisher>(opts_);
    error = pub->open();
    if (!error.empty())
      return nullptr;
    return pub;
  }

  int run_worker(int id, const arg_map& args) override {
    caf_config cfg{caf_settings_from(args)};
    caf::actor_system sys{cfg};
    auto host = arg_or(args, "host", "127.0.0.1");
    auto port = static_cast<uint16_t>(std::stoi(arg_or(args, "port", "0")));
    auto hub_hdl = sys.middleman().remote_actor(host, port);
    if (!hub_hdl) {
      report_error(id, "caf worker: remote_actor " + host + ":"
                         + std::to_string(port) + ": "
                         + sys.render(hub_hdl.error()));
      return 1;
    }
    auto me = sys.spawn(flip_receiver, id);
    std::string error;
    {
      caf::scoped_actor self{sys};
      self->request(*hub_hdl, 10s, enlist_atom::value, me)
        .receive([](uint64_t) {},
                 [&](caf::error& err) { error = sys.render(err); });
    }
    if (!error.empty()) {
      caf::anon_send_exit(me, caf::exit_reason::user_shutdown);
      report_error(id, "caf worker: enlist: " + error);
      return 1;
    }
    report_ready(id);
    await_lifeline_end();
    caf::anon_send_exit(me, caf::exit_reason::user_shutdown);
    return 0;
  }

private:
  bench_options opts_;
};

} // namespace

std::unique_ptr<system_under_test> make_caf_system(const bench_options& opts) {
  return std::make_unique<caf_system>(opts);
}

} // namespace bench

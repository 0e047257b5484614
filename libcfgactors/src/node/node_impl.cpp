#include "node/node_impl.hpp"

#include <utility>

#include <caf/exit_reason.hpp>
#include <caf/io/middleman.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include "cfgactors/errc.hpp"
#include "cfgactors/sources.hpp"
#include "core/log.hpp"

namespace cfgactors::detail {

namespace {

using namespace std::chrono_literals;

/// Slack for the transport of a majority/all write: the primary answers at
/// the write's own timeout, with the replicas still missing.
constexpr auto transport_slack = 2s;

/// How long stop() waits for one actor to end.
constexpr auto exit_timeout = 10s;

write_result no_answer(caf::actor_system& sys, const caf::error& err) {
  auto code = errc::unavailable;
  if (err.category() == errc_category)
    code = static_cast<errc>(err.code());
  else if (err == caf::sec::request_timeout)
    code = errc::timeout;
  return write_result::reject(code, "", "node", sys.render(err));
}

} // namespace

void end_and_wait(caf::actor_system& sys,
                  const std::vector<caf::actor>& actors) {
  caf::scoped_actor self{sys};
  size_t pending = 0;
  for (auto& a : actors) {
    if (!a)
      continue;
    self->monitor(a);
    self->send_exit(a, caf::exit_reason::user_shutdown);
    ++pending;
  }
  for (; pending > 0; --pending) {
    bool gone = false;
    self->receive([&](caf::down_msg&) { gone = true; },
                  caf::after(exit_timeout) >> [] {});
    if (!gone) {
      log().warn("event=node_stop_timeout actors_left={}", pending);
      return;
    }
  }
}

node_impl::node_impl(caf::actor_system& sys) : sys(sys) {
  // nop
}

node_impl::~node_impl() {
  stop();
}

bool node_impl::stopped() const {
  std::lock_guard<std::mutex> guard{mtx_};
  return stopped_;
}

void node_impl::stop() {
  std::vector<caf::actor> workers;
  {
    std::lock_guard<std::mutex> guard{mtx_};
    if (stopped_)
      return;
    stopped_ = true;
    for (auto& [id, worker] : workers_)
      workers.push_back(worker);
    workers_.clear();
  }
  auto as_actor = [](const auto& hdl) {
    return caf::actor_cast<caf::actor>(hdl);
  };
  // Sources first: nothing proposes while the pipeline goes down.
  std::vector<caf::actor> first;
  for (auto& src : sources)
    first.push_back(as_actor(src));
  end_and_wait(sys, first);
  // The port closes before the primary goes, so that no replica joins a
  // node that is leaving.
  if (gate)
    gate->close();
  if (port != 0 && published->load()) {
    if (auto res = sys.middleman().unpublish(primary, port); !res)
      log().warn("event=node_unpublish_failed port={} error=\"{}\"", port,
                 sys.render(res.error()));
  }
  port = 0;
  workers.push_back(updater);
  workers.push_back(as_actor(primary));
  // The watch stops handing versions to the validator.
  workers.push_back(as_actor(etcd_follower));
  end_and_wait(sys, workers);
  // Last the write path (or the replica, whose router is linked to it).
  end_and_wait(sys, {as_actor(pipeline.validator), as_actor(pipeline.store),
                     as_actor(pipeline.router), as_actor(replica)});
  // Each blocks in etcd for one call at most (its client's timeouts).
  end_and_wait(sys, {as_actor(etcd_presence), as_actor(etcd_committer)});
  // The links go last: BASP sees them close, every peer sees us leave.
  if (link)
    link->stop();
  log().info("event=node_stopped node=\"{}\" version={}", name,
             cell->load()->version);
}

consistent_write_result
node_impl::write(write_request req, consistency level,
                  std::chrono::milliseconds timeout) const {
  if (timeout.count() <= 0)
    timeout = write_timeout;
  if (req.origin.empty())
    req.origin = "node:" + name;
  consistent_write_result out;
  out.level = level;
  if (stopped()) {
    out.result = write_result::reject(errc::unavailable, "", "node",
                                      "node \"" + name + "\" is stopped");
    return out;
  }
  auto transport = level == consistency::local ? timeout
                                               : timeout + transport_slack;
  auto ms = static_cast<uint32_t>(timeout.count());
  caf::scoped_actor self{sys};
  self->request(writer, transport, write_atom::value, std::move(req), level, ms)
    .receive([&](consistent_write_result& r) { out = std::move(r); },
             [&](caf::error& err) { out.result = no_answer(sys, err); });
  // Read your writes: this node's reads show the version once we answer.
  if (out.result.ok() && !cell->wait_for(out.result.version, timeout))
    log().warn("event=node_write_not_visible node=\"{}\" version={}", name,
               out.result.version);
  return out;
}

caf::expected<uint64_t> node_impl::attach(const std::string& prefix,
                                           delivery how,
                                           caf::actor worker) const {
  auto id = ask<uint64_t>(sys, store, std::chrono::milliseconds{10s},
                          subscribe_atom::value, prefix,
                          caf::actor_cast<subscriber_actor>(worker), how);
  if (id) {
    std::lock_guard<std::mutex> guard{mtx_};
    if (!stopped_) {
      workers_.emplace(*id, worker);
      return id;
    }
    id = make_error(errc::unavailable, "node \"" + name + "\" is stopped");
  }
  end_and_wait(sys, {worker});
  return id;
}

bool node_impl::detach(uint64_t id, const caf::actor& worker) const {
  {
    std::lock_guard<std::mutex> guard{mtx_};
    auto i = workers_.find(id);
    if (i == workers_.end() || i->second != worker)
      return false;
    workers_.erase(i);
  }
  end_and_wait(sys, {worker});
  return true;
}

} // namespace cfgactors::detail

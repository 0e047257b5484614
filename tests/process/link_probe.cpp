// An attacker's probe of a primary's cluster port, for the process tests:
// it tries one kind of attempt and prints what came of it as one JSON line
//   {"attempt": KIND, "linked": bool, "admitted": bool, "detail": "..."}
// and exits 0 whenever it ran. "linked": BASP reached the primary (without
// a secret file, plain CAF `remote_actor`; with one, the cluster link with
// that secret). "admitted": the primary took anything of the attempt (a
// snapshot, a change, a committed write, a forget, an accepted proof).
//
// Usage: link_probe --primary HOST:PORT --attempt KIND [--secret-file F]
//                   [--replica NAME] [--names N]
// KIND: write, hello, ack, takeover, forget, names.
#include <chrono>
#include <fstream>
#include <future>
#include <iostream>
#include <sstream>
#include <thread>

#include <caf/all.hpp>
#include <caf/io/all.hpp>

#include <CLI/CLI.hpp>

#include "cfgactors/system_config.hpp"
#include "cluster/cluster_auth.hpp"
#include "cluster/link_probe.hpp"
#include "link/basp_handoff.hpp"
#include "link/link_dialer.hpp"

using namespace cfgactors;
using namespace std::chrono_literals;

namespace {

struct probe_config : system_config {
  probe_config() {
    load<caf::io::middleman>();
  }
};

struct outcome {
  bool linked = false;
  bool admitted = false;
  std::string detail;
};

/// BASP's handle of the primary: through the cluster link with `secret`,
/// or (no secret file) straight at the port as any CAF node would.
caf::expected<primary_actor> reach(caf::actor_system& sys,
                                   const std::string& host, uint16_t port,
                                   const std::optional<std::string>& secret,
                                   detail::link_context_ptr ctx) {
  caf::scoped_actor self{sys};
  if (!secret) {
    caf::expected<primary_actor> out{caf::sec::request_timeout};
    self
      ->request(sys.middleman().actor_handle(), 15s, caf::connect_atom::value,
                host, port)
      .receive(
        [&](caf::node_id&, caf::strong_actor_ptr& ptr,
            std::set<std::string>&) {
          if (ptr)
            out = caf::actor_cast<primary_actor>(std::move(ptr));
          else
            out = caf::make_error(caf::sec::no_actor_published_at_port);
        },
        [&](caf::error& err) { out = std::move(err); });
    return out;
  }
  detail::link_options opts;
  opts.secret = *secret;
  auto dialer = std::make_shared<detail::link_dialer>(ctx, opts);
  std::promise<detail::link_result> done;
  auto result = done.get_future();
  dialer->dial(host, port,
               [&done](detail::link_result r) { done.set_value(std::move(r)); });
  auto r = result.get();
  if (r.fd < 0)
    return caf::make_error(caf::sec::cannot_connect_to_node, r.error);
  caf::expected<primary_actor> out{caf::sec::request_timeout};
  self
    ->request(detail::basp_broker(sys), 10s, caf::connect_atom::value,
              detail::basp_scribe(sys, r.fd), port)
    .receive(
      [&](caf::node_id&, caf::strong_actor_ptr& ptr,
          std::set<std::string>&) {
        out = caf::actor_cast<primary_actor>(std::move(ptr));
      },
      [&](caf::error& err) { out = std::move(err); });
  return out;
}

/// Runs one attempt through a linked primary; `secret` is what the probe
/// proves at the actor level too (none: the empty one).
outcome attempt(caf::actor_system& sys, const primary_actor& prim,
                const std::string& kind, const std::string& secret,
                const std::string& replica, int names) {
  outcome out;
  out.linked = true;
  auto log = std::make_shared<test::link_log>();
  auto probe = sys.spawn(test::link_probe, log);
  auto as_probe = [&](auto&&... xs) {
    caf::send_as(probe, prim, std::forward<decltype(xs)>(xs)...);
  };
  // The actor-level handshake, with the probe's secret.
  as_probe(auth_atom::value);
  std::this_thread::sleep_for(500ms);
  std::string session;
  if (!log->challenges.empty()) {
    auto nonce = detail::random_nonce();
    auto node_id = caf::to_string(sys.node());
    detail::auth_context ctx{log->challenges.front().nonce, nonce, replica,
                             node_id};
    as_probe(auth_proof{replica, log->challenges.front().nonce, nonce,
                        detail::client_proof(secret, ctx)});
    std::this_thread::sleep_for(500ms);
    session = detail::session_of(secret, ctx);
  }
  if (kind == "write") {
    write_request req{{operation::set("probe.owned", true)}, "api:admin", 0,
                      {}};
    as_probe(linked_write{session, req, consistency::local, 0});
  } else if (kind == "hello") {
    as_probe(hello{"probe", 0, "", session, ""});
  } else if (kind == "ack") {
    // Acks for the named replica at every version a write may wait for.
    for (uint64_t v = 1; v <= 200; ++v)
      as_probe(ack{replica, v, "", session});
  } else if (kind == "takeover") {
    as_probe(hello{replica, 0, "", session, ""});
  } else if (kind == "forget") {
    as_probe(forget_atom::value, replica);
  } else if (kind == "names") {
    for (int i = 0; i < names; ++i)
      as_probe(hello{"ghost-" + std::to_string(i), 0, "", session, ""});
  }
  std::this_thread::sleep_for(1500ms);
  caf::anon_send_exit(probe, caf::exit_reason::user_shutdown);
  std::ostringstream detail;
  detail << log->challenges.size() << " challenges, " << log->accepts.size()
         << " accepts, " << log->snapshots.size() << " snapshots, "
         << log->changes.size() << " changes, " << log->writes.size()
         << " writes, " << log->errors.size() << " errors";
  for (auto& w : log->writes)
    if (w.result.ok())
      out.admitted = true;
  for (auto x : log->forgotten)
    if (x)
      out.admitted = true;
  if (!log->accepts.empty() || !log->snapshots.empty()
      || !log->changes.empty())
    out.admitted = true;
  if (!log->errors.empty())
    detail << "; first error: " << sys.render(log->errors.front());
  out.detail = detail.str();
  return out;
}

std::string json_string(const std::string& x) {
  return json(x).dump();
}

} // namespace

int main(int argc, char** argv) {
  CLI::App app{"probes a cfgactors primary's cluster port as an attacker"};
  std::string primary;
  std::string kind;
  std::string secret_file;
  std::string replica = "replica-b";
  int names = 300;
  app.add_option("--primary", primary, "HOST:PORT")->required();
  app.add_option("--attempt", kind, "write|hello|ack|takeover|forget|names")
    ->required()
    ->check(CLI::IsMember({"write", "hello", "ack", "takeover", "forget",
                           "names"}));
  app.add_option("--secret-file", secret_file, "the secret to prove");
  app.add_option("--replica", replica, "the replica to impersonate");
  app.add_option("--names", names, "names to register");
  CLI11_PARSE(app, argc, argv);
  auto colon = primary.rfind(':');
  if (colon == std::string::npos) {
    std::cerr << "link_probe: --primary wants HOST:PORT\n";
    return 2;
  }
  auto host = primary.substr(0, colon);
  auto port = static_cast<uint16_t>(std::stoi(primary.substr(colon + 1)));
  std::optional<std::string> secret;
  if (!secret_file.empty()) {
    std::ifstream in{secret_file};
    std::string line;
    if (!in || !std::getline(in, line)) {
      std::cerr << "link_probe: cannot read " << secret_file << "\n";
      return 2;
    }
    secret = line;
  }
  outcome out;
  {
    probe_config cfg;
    caf::actor_system sys{cfg};
    auto ctx = std::make_shared<detail::link_context>();
    auto prim = reach(sys, host, port, secret, ctx);
    if (!prim)
      out.detail = "not linked: " + sys.render(prim.error());
    else
      out = attempt(sys, *prim, kind, secret.value_or(""), replica, names);
    ctx->stop();
  }
  std::cout << "{\"attempt\": " << json_string(kind)
            << ", \"linked\": " << (out.linked ? "true" : "false")
            << ", \"admitted\": " << (out.admitted ? "true" : "false")
            << ", \"detail\": " << json_string(out.detail) << "}"
            << std::endl;
  return 0;
}

// cfgd: runs one cfgactors::node (a primary, or a replica with --join) and
// serves it over HTTP and WebSocket until SIGINT or SIGTERM.
#include <chrono>
#include <csignal>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <utility>

#include <sys/resource.h>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <caf/actor_system.hpp>

#include <spdlog/spdlog.h>

#include "cfgactors/node.hpp"
#include "cfgactors/node_options.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"

#include "api/auth.hpp"
#include "api/console.hpp"
#include "api/whoami.hpp"
#include "api/context.hpp"
#include "api/host_guard.hpp"
#include "api/metrics.hpp"
#include "api/reads.hpp"
#include "api/writes.hpp"
#include "api/ws.hpp"
#include "api/ofrep.hpp"
#include "api/ofrep_events.hpp"
#include "embedded_defaults.hpp"
#include "http/server.hpp"
#include "log_level.hpp"
#include "logging.hpp"
#include "options.hpp"

namespace {

using namespace std::chrono_literals;

/// What cfgd starts from besides its files: the embedded defaults and the
/// schema that guards them.
struct initial_config {
  std::optional<cfgactors::json> defaults; ///< the embedded config.yaml
  cfgactors::json_schema_ptr schema;
  std::string schema_name = "none"; ///< for the startup log
};

void fail(const std::string& message) {
  std::cerr << "cfgd: " << message << std::endl;
}

/// Reads the schema. Without --file, the embedded example config becomes the
/// `defaults` layer and, without --schema, the embedded schema checks it.
std::optional<initial_config> load_inputs(const cfgd::options& opts) {
  initial_config init;
  std::string error;
  if (!opts.schema.empty()) {
    init.schema = cfgactors::json_schema::from_file(opts.schema, &error);
    if (!init.schema) {
      fail("schema: " + error);
      return std::nullopt;
    }
    init.schema_name = opts.schema;
  }
  if (!opts.files.empty() || opts.join)
    return init;
  auto doc = cfgactors::parse_document(cfgd::embedded::config_yaml,
                                       cfgactors::document_format::yaml,
                                       "embedded:config.yaml");
  if (!doc) {
    fail(doc.error->str());
    return std::nullopt;
  }
  if (!init.schema) {
    auto schema_doc = cfgactors::parse_document(
      cfgd::embedded::schema_json, cfgactors::document_format::json,
      "embedded:schema.json");
    if (!schema_doc) {
      fail(schema_doc.error->str());
      return std::nullopt;
    }
    init.schema = cfgactors::json_schema::compile(schema_doc.value, &error);
    if (!init.schema) {
      fail("embedded schema: " + error);
      return std::nullopt;
    }
    init.schema_name = "embedded:schema.json";
  }
  init.defaults = std::move(doc.value);
  return init;
}

/// The node cfgd runs, from its options: a primary on the files, schema,
/// environment and remote sources given (or on the embedded defaults), or
/// with --join a replica, which takes its config from the primary only.
cfgactors::node_options node_options_of(const cfgd::options& opts,
                                        initial_config& init) {
  using std::chrono::milliseconds;
  cfgactors::node_options n;
  n.node_name(opts.node_name)
    .history(opts.history)
    .write_timeout(milliseconds{opts.write_timeout_ms})
    .ack_delay(milliseconds{opts.ack_delay_ms})
    .cluster_secrets(opts.cluster_secrets)
    .scheduler(opts.scheduler)
    .threads(opts.threads);
  if (opts.io_workers >= 0)
    n.io_workers(static_cast<std::size_t>(opts.io_workers));
  // Read and checked by the node, which refuses a cluster port beyond
  // loopback without it.
  if (!opts.cluster_secret_file.empty())
    n.cluster_secret_file(opts.cluster_secret_file);
  n.link_timeout(milliseconds{opts.link_timeout_ms})
    .handshake_timeout(milliseconds{opts.handshake_timeout_ms})
    .connect_timeout(milliseconds{opts.connect_timeout_ms});
  if (opts.join) {
    // cfgd starts before its primary may be up: serve stale, connect later.
    n.join_timeout(milliseconds{0});
    for (auto& f : opts.files) // refused by the node, with a clear error
      n.file(f.path);
    if (!opts.schema.empty())
      n.schema(opts.schema);
    if (!opts.data_dir.empty())
      n.data_dir(opts.data_dir);
    return n;
  }
  for (auto& f : opts.files)
    f.optional ? n.optional_file(f.path) : n.file(f.path);
  n.file_debounce(milliseconds{opts.debounce_ms})
    .file_poll(milliseconds{opts.file_poll_ms})
    .forget_after(milliseconds{opts.forget_after_ms})
    .data_dir(opts.data_dir)
    .secrets_key_file(opts.secrets_key_file)
    .retention(opts.retention);
  if (init.schema)
    n.schema(init.schema);
  if (init.defaults)
    n.defaults(std::move(*init.defaults), "defaults:embedded");
  if (!opts.env_prefix.empty()) {
    cfgactors::env_source_options env;
    env.prefix = opts.env_prefix;
    env.separator = opts.env_separator;
    env.key_case = opts.env_preserve_case ? cfgactors::env_key_case::preserve
                                          : cfgactors::env_key_case::lower;
    env.map = opts.env_map;
    n.env(std::move(env)).env_poll(milliseconds{opts.env_poll_ms});
  }
  if (!opts.remote.empty()) {
    n.remote(opts.remote, opts.remote_token)
      .remote_poll(milliseconds{opts.remote_interval_ms})
      .remote_tls(opts.remote_ca_file, opts.remote_cert_file,
                  opts.remote_key_file);
    if (opts.remote_backoff_ms > 0 || opts.remote_max_backoff_ms != 60000)
      n.remote_backoff(milliseconds{opts.remote_backoff_ms > 0
                                      ? opts.remote_backoff_ms
                                      : 2 * opts.remote_interval_ms},
                       milliseconds{opts.remote_max_backoff_ms});
  }
  if (!opts.ws.empty())
    n.ws(opts.ws, opts.ws_token)
      .ws_service(opts.service, opts.service_version)
      .ws_backoff(milliseconds{opts.ws_min_backoff_ms},
                  milliseconds{opts.ws_max_backoff_ms})
      .ws_heartbeat(milliseconds{opts.ws_heartbeat_ms})
      .ws_tls(opts.ws_ca_file, opts.ws_cert_file, opts.ws_key_file);
  if (opts.remote_required)
    n.remote_required(milliseconds{opts.remote_required_timeout_ms});
  if (opts.cluster_listen)
    n.cluster_port(opts.cluster_listen->port, opts.cluster_listen->host)
      .max_replicas(opts.max_replicas);
  if (!opts.etcd.empty()) {
    n.etcd(opts.etcd, opts.cluster_name)
      .etcd_tls(opts.etcd_cacert, opts.etcd_cert, opts.etcd_key)
      .etcd_history(opts.etcd_history)
      .etcd_max_request_bytes(opts.etcd_max_request_bytes)
      .api_address(opts.http.host + ":" + std::to_string(opts.http.port));
    if (!opts.etcd_user.empty())
      n.etcd_auth(opts.etcd_user, opts.etcd_password_file);
    if (!opts.etcd_secrets_key_file.empty())
      n.etcd_secrets_key_file(opts.etcd_secrets_key_file);
    // Started while etcd is down: serve the journal's version, stale.
    n.join_timeout(milliseconds{5000});
  }
  if (opts.advertise)
    n.advertise((opts.advertise->host.find(':') != std::string::npos
                   ? "[" + opts.advertise->host + "]"
                   : opts.advertise->host)
                + ":"
                + std::to_string(opts.advertise->port));
  return n;
}

/// Every connection is a descriptor, and the usual soft limit (1,024 under
/// systemd or a login shell) is below --max-connections plus cfgd's own
/// files: past it accept fails (EMFILE) and clients wait. The hard limit is
/// what the administrator allows, so cfgd takes all of it.
void raise_fd_limit(std::size_t max_connections) {
  rlimit lim{};
  if (getrlimit(RLIMIT_NOFILE, &lim) != 0)
    return;
  if (lim.rlim_cur < lim.rlim_max) {
    auto before = lim.rlim_cur;
    lim.rlim_cur = lim.rlim_max;
    if (setrlimit(RLIMIT_NOFILE, &lim) == 0)
      spdlog::info("event=fd_limit_raised from={} to={}", before,
                   lim.rlim_cur);
    else
      lim.rlim_cur = before;
  }
  // Some room for the journal, the watched files, the actor system's pipes.
  constexpr rlim_t own_files = 64;
  if (lim.rlim_cur != RLIM_INFINITY
      && lim.rlim_cur < max_connections + own_files)
    spdlog::warn("event=fd_limit_low limit={} max_connections={} "
                 "reason=\"connections past the limit fail to be accepted\"",
                 lim.rlim_cur, max_connections);
}

/// `127.0.0.1:7070`, `[::1]:7070`.
std::string address_text(const boost::asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address().to_string();
  if (ep.address().is_v6())
    addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

int run(const cfgd::options& opts, initial_config init) {
  auto nopts = node_options_of(opts, init);
  cfgactors::system_config cfg;
  nopts.configure(cfg, opts.join.has_value());
  caf::actor_system sys{cfg};
  // A file that does not parse, a refused first config, a journal that
  // cannot be trusted or a port in use stop cfgd here, naming what and where.
  auto started = opts.join ? cfgactors::node::replica(sys, opts.join->host,
                                                      opts.join->port,
                                                      std::move(nopts))
                           : cfgactors::node::primary(sys, std::move(nopts));
  if (!started) {
    fail(sys.render(started.error()));
    return cfgd::exit_failure;
  }
  // Declared after the node, so that everything holding it (routes,
  // sessions) is gone before the node stops and the system shuts down.
  auto& n = *started;
  if (n.cluster_port() != 0)
    spdlog::info("event=cluster_listening address={} port={} secret={} "
                 "advertised={}",
                 opts.cluster_listen->host, n.cluster_port(),
                 opts.cluster_secret_file.empty() ? "none" : "file",
                 n.advertised());
  spdlog::info("event=cfgd_starting node=\"{}\" files={} env=\"{}\" "
               "remote=\"{}\" ws=\"{}\" schema=\"{}\" scheduler={} threads={} "
               "history={} data_dir=\"{}\" retention={}",
               opts.node_name, opts.files.size(), opts.env_prefix, opts.remote,
               opts.ws, init.schema_name, opts.scheduler, opts.threads,
               opts.history, opts.data_dir, opts.retention);
  auto log_follower = cfgd::follow_log_level(n);
  if (!log_follower) {
    fail("logging.level: " + sys.render(log_follower.error()));
    return cfgd::exit_failure;
  }
  // Shared with every answer still on its way from an actor.
  auto ioc = std::make_shared<boost::asio::io_context>(1);
  boost::asio::signal_set signals{*ioc, SIGINT, SIGTERM};
  auto auth = std::make_shared<const cfgd::authorizer>(opts.tokens,
                                                       opts.reads_need_token);
  auto ctx = std::make_shared<const cfgd::api_context>(
    n, sys, auth, 5000ms, static_cast<uint32_t>(opts.history),
    opts.max_timeout_ms);
  auto routes = std::make_shared<cfgd::http::router>();
  cfgd::add_read_routes(*routes, ctx);
  cfgd::add_write_routes(*routes, ctx, auth);
  auto hub = std::make_shared<cfgd::ws_hub>(ioc, ctx, auth);
  // Host and Origin are judged once the bound port is known (below).
  std::shared_ptr<const cfgd::host_guard> hosts;
  routes->add_upgrade("/ws", [hub, &hosts](boost::beast::tcp_stream& stream,
                                           cfgd::http::request& req,
                                           cfgd::http::connection_ticket t) {
    if (auto refusal = hosts->check(req))
      return std::optional{std::move(*refusal)};
    return hub->upgrade(stream, req, std::move(t));
  });
  if (auto err = hub->start()) {
    fail(*err);
    return cfgd::exit_failure;
  }
  auto events = std::make_shared<cfgd::ofrep_events>(
    ioc, ctx, opts.ofrep_max_streams);
  cfgd::add_ofrep_routes(*routes, ctx, events);
  if (auto err = events->start()) {
    hub->stop();
    fail(*err);
    return cfgd::exit_failure;
  }
  cfgd::add_metrics_route(*routes, ctx, auth, hub, events);
  cfgd::add_console_routes(*routes);
  cfgd::add_whoami_route(*routes, auth);
  cfgd::http::server_limits limits;
  limits.max_connections = opts.max_connections;
  limits.max_per_peer = opts.max_connections_per_peer;
  cfgd::http::server server{ioc, routes, limits};
  if (auto err = server.listen(opts.http.host, opts.http.port)) {
    hub->stop();
    events->stop();
    fail(*err);
    return cfgd::exit_failure;
  }
  hosts = std::make_shared<const cfgd::host_guard>(
    opts.http.host, server.local_endpoint().port(), opts.allowed_hosts,
    opts.allowed_origins);
  routes->set_gate(
    [hosts](const cfgd::http::request& req) { return hosts->check(req); });
  auto address = address_text(server.local_endpoint());
  int stop_signal = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec)
      return;
    stop_signal = signo;
    hub->stop();
    events->stop();
    server.stop();
    ioc->stop();
  });
  auto first = n.snapshot();
  spdlog::info("event=cfgd_listening address={} version={} hash={}", address,
               first->version, first->hash.substr(0, 12));
  std::cout << "cfgd listening on http://" << address << " (version "
            << first->version << ")" << std::endl;
  ioc->run();
  spdlog::info("event=cfgd_stopping signal={}", stop_signal);
  hub->stop();
  events->stop();
  server.stop();
  return cfgd::exit_ok;
}

} // namespace

int main(int argc, char** argv) {
  int code = cfgd::exit_ok;
  auto opts = cfgd::parse_options(argc, argv, code);
  if (!opts)
    return code;
  cfgd::setup_logging(opts->logs);
  raise_fd_limit(opts->max_connections);
  auto init = load_inputs(*opts);
  if (!init)
    return cfgd::exit_failure;
  try {
    return run(*opts, std::move(*init));
  } catch (const std::exception& e) {
    fail(std::string{"fatal: "} + e.what());
    return cfgd::exit_failure;
  }
}

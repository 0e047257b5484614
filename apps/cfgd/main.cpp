// cfgd: loads the initial layers, runs the validator → store → router
// pipeline, and serves it over HTTP until SIGINT or SIGTERM.
#include <chrono>
#include <csignal>
#include <filesystem>
#include <iostream>
#include <optional>
#include <string>
#include <system_error>
#include <utility>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/signal_set.hpp>

#include <caf/actor_system.hpp>
#include <caf/atom.hpp>
#include <caf/scoped_actor.hpp>
#include <caf/send.hpp>

#include <spdlog/spdlog.h>

#include <caf/io/middleman.hpp>

#include "cfgactors/cluster.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/operation.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/sources.hpp"
#include "cfgactors/system_config.hpp"
#include "cfgactors/write_result.hpp"

#include "auth.hpp"
#include "config_api.hpp"
#include "embedded_defaults.hpp"
#include "http_server.hpp"
#include "log_level.hpp"
#include "logging.hpp"
#include "metrics_api.hpp"
#include "options.hpp"
#include "write_api.hpp"
#include "ws_api.hpp"

namespace {

using namespace std::chrono_literals;

/// What cfgd starts from: the first write and the schema that guards it.
struct initial_config {
  cfgactors::write_request write;
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
  if (!opts.files.empty())
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
  init.write.ops.push_back(cfgactors::operation::replace_layer(
    std::string{cfgactors::defaults_layer}, std::move(doc.value)));
  init.write.origin = "defaults:embedded";
  return init;
}

/// The sources the options ask for, lowest precedence first. Files and the
/// environment must read cleanly at start (cfgd refuses to start on a
/// broken local config); remote sources may be down: cfgd then starts on
/// what it has and keeps retrying.
std::optional<std::vector<cfgactors::source_actor>>
spawn_sources(caf::actor_system& sys, const cfgd::options& opts,
              const cfgactors::pipeline& nodes,
              const cfgactors::json_schema_ptr& schema) {
  cfgactors::sources_options sopts;
  for (auto& f : opts.files)
    sopts.files.files.push_back(cfgactors::file_spec{f.path, f.optional});
  sopts.files.debounce = std::chrono::milliseconds{opts.debounce_ms};
  sopts.files.poll_interval = std::chrono::milliseconds{opts.file_poll_ms};
  if (!opts.env_prefix.empty()) {
    cfgactors::env_source_options eopts;
    eopts.prefix = opts.env_prefix;
    eopts.poll_interval = std::chrono::milliseconds{opts.env_poll_ms};
    eopts.schema = schema;
    sopts.env = std::move(eopts);
  }
  if (!opts.remote.empty()) {
    cfgactors::http_source_options hopts;
    hopts.endpoint = opts.remote;
    hopts.token = opts.remote_token;
    hopts.interval = std::chrono::milliseconds{opts.remote_interval_ms};
    sopts.remote = std::move(hopts);
  }
  if (!opts.ws.empty()) {
    cfgactors::ws_source_options wopts;
    wopts.endpoint = opts.ws;
    wopts.token = opts.ws_token;
    wopts.service = opts.service;
    sopts.ws = std::move(wopts);
  }
  auto sources = cfgactors::spawn_sources(sys, nodes.validator, nodes.store,
                                          std::move(sopts));
  if (!sources) {
    fail(sys.render(sources.error()));
    return std::nullopt;
  }
  return std::move(*sources);
}

/// `127.0.0.1:7070`, `[::1]:7070`.
std::string address_text(const boost::asio::ip::tcp::endpoint& ep) {
  auto addr = ep.address().to_string();
  if (ep.address().is_v6())
    addr = "[" + addr + "]";
  return addr + ":" + std::to_string(ep.port());
}

int run(const cfgd::options& opts, initial_config init) {
  cfgactors::system_config cfg;
  if (opts.scheduler == "stealing")
    cfg.set("scheduler.policy", caf::atom("stealing"));
  else
    cfg.set("scheduler.policy", caf::atom("sharing"));
  if (opts.threads > 0)
    cfg.set("scheduler.max-threads", opts.threads);
  if (opts.io_workers >= 0)
    cfg.set("middleman.workers", static_cast<size_t>(opts.io_workers));
  if (opts.cluster_port != 0 || opts.join)
    cfg.load<caf::io::middleman>();
  caf::actor_system sys{cfg};
  // Declared after the actor system so that everything holding actor
  // handles (routes, sessions) is gone before the system shuts down.
  boost::asio::io_context ioc{1};
  boost::asio::signal_set signals{ioc, SIGINT, SIGTERM};
  // A primary runs the pipeline and its node actor; a replica mirrors a
  // primary and stands in for store and validator (writes are forwarded).
  cfgactors::pipeline nodes;
  cfgactors::primary_actor primary;
  cfgactors::replica_actor replica;
  if (opts.join) {
    cfgactors::replica_options ropts;
    ropts.node = opts.node_name;
    ropts.history_size = opts.history;
    ropts.host = opts.join->host;
    ropts.port = opts.join->port;
    ropts.ack_delay = std::chrono::milliseconds{opts.ack_delay_ms};
    replica = cfgactors::spawn_replica(sys, ropts);
    nodes.store = caf::actor_cast<cfgactors::store_actor>(replica);
    nodes.validator = caf::actor_cast<cfgactors::validator_actor>(replica);
    init.write.ops.clear();
  } else {
    cfgactors::pipeline_options popts;
    popts.validation.schema = init.schema;
    // A malformed feature flag is refused at write time, with its path.
    cfgactors::rule_set rules;
    cfgactors::add_feature_rules(rules);
    popts.validation.rules
      = std::make_shared<const cfgactors::rule_set>(std::move(rules));
    popts.storage.history_size = opts.history;
    popts.storage.data_dir = opts.data_dir;
    popts.storage.retention = opts.retention;
    // A journal that cannot be opened or trusted stops cfgd here: starting
    // empty would hand out version numbers already used.
    auto opened = cfgactors::open_pipeline(sys, popts);
    if (!opened) {
      fail(sys.render(opened.error()));
      return cfgd::exit_failure;
    }
    nodes = std::move(*opened);
    cfgactors::primary_options nopts;
    nopts.node = opts.node_name;
    nopts.write_timeout = std::chrono::milliseconds{opts.write_timeout_ms};
    nopts.forget_after = std::chrono::milliseconds{opts.forget_after_ms};
    primary = cfgactors::spawn_primary(sys, nodes.store, nodes.validator,
                                       nopts);
  }
  // From here on every exit path shuts the node down. A published actor
  // keeps the system alive until it is told to exit.
  struct pipeline_guard {
    cfgactors::pipeline& p;
    cfgactors::primary_actor& primary;
    cfgactors::replica_actor& replica;
    ~pipeline_guard() {
      if (primary)
        caf::anon_send_exit(primary, caf::exit_reason::user_shutdown);
      if (replica)
        caf::anon_send_exit(replica, caf::exit_reason::user_shutdown);
      else
        cfgactors::shutdown(p);
    }
  } guard{nodes, primary, replica};
  if (opts.cluster_port != 0) {
    auto port = sys.middleman().publish(primary, opts.cluster_port,
                                        "127.0.0.1", true);
    if (!port) {
      fail("--cluster-port " + std::to_string(opts.cluster_port) + ": "
           + sys.render(port.error()));
      return cfgd::exit_failure;
    }
    spdlog::info("event=cluster_listening port={}", *port);
  }
  spdlog::info("event=cfgd_starting node=\"{}\" files={} env=\"{}\" "
               "remote=\"{}\" ws=\"{}\" schema=\"{}\" scheduler={} threads={} "
               "history={} data_dir=\"{}\" retention={}",
               opts.node_name, opts.files.size(), opts.env_prefix, opts.remote,
               opts.ws, init.schema_name, opts.scheduler, opts.threads,
               opts.history, opts.data_dir, opts.retention);
  // The embedded defaults go through the validator like any other write;
  // after a restart on the same journal they are `unchanged`: no version.
  if (!init.write.ops.empty()) {
    auto origin = init.write.origin;
    caf::scoped_actor self{sys};
    std::optional<cfgactors::write_result> first;
    self->request(nodes.validator, 30s, cfgactors::write_atom::value,
                  std::move(init.write))
      .receive([&](cfgactors::write_result& r) { first = std::move(r); },
               [&](caf::error& err) { fail("initial write: " + sys.render(err)); });
    if (!first)
      return cfgd::exit_failure;
    if (!first->ok()) {
      // describe() reads `rejected (code)` and then one line per reason.
      fail("initial configuration from " + origin + " " + first->describe());
      return cfgd::exit_failure;
    }
  }
  auto sources = opts.join ? std::optional{std::vector<cfgactors::source_actor>{}}
                           : spawn_sources(sys, opts, nodes, init.schema);
  if (!sources)
    return cfgd::exit_failure;
  struct sources_guard {
    std::vector<cfgactors::source_actor>& xs;
    ~sources_guard() {
      cfgactors::stop_sources(xs);
    }
  } sources_stopper{*sources};
  cfgactors::snapshot_ptr first;
  {
    caf::scoped_actor self{sys};
    self->request(nodes.store, 30s, cfgactors::get_atom::value)
      .receive([&](cfgactors::snapshot_ptr& snap) { first = std::move(snap); },
               [&](caf::error& err) { fail("store: " + sys.render(err)); });
    if (!first)
      return cfgd::exit_failure;
  }
  auto log_follower = cfgd::follow_log_level(sys, nodes.store);
  struct follower_guard {
    caf::actor& a;
    ~follower_guard() {
      caf::anon_send_exit(a, caf::exit_reason::user_shutdown);
    }
  } stop_follower{log_follower};
  auto ctx = std::make_shared<cfgd::api_context>(
    cfgd::api_context{sys, nodes, *sources, opts.node_name, 5000ms,
                      static_cast<uint32_t>(opts.history), primary, replica});
  auto routes = std::make_shared<cfgd::http::router>();
  auto auth = std::make_shared<const cfgd::authorizer>(opts.write_tokens,
                                                       opts.read_tokens);
  cfgd::add_read_routes(*routes, ctx, auth);
  cfgd::add_write_routes(*routes, ctx, auth);
  auto hub = std::make_shared<cfgd::ws_hub>(ioc, ctx, auth);
  routes->add_upgrade("/ws", [hub](boost::beast::tcp_stream& stream,
                                   cfgd::http::request& req) {
    return hub->upgrade(stream, req);
  });
  hub->start();
  cfgd::add_metrics_route(*routes, ctx, auth, hub);
  cfgd::http::server server{ioc, routes};
  if (auto err = server.listen(opts.http.host, opts.http.port)) {
    fail(*err);
    return cfgd::exit_failure;
  }
  auto address = address_text(server.local_endpoint());
  int stop_signal = 0;
  signals.async_wait([&](const boost::system::error_code& ec, int signo) {
    if (ec)
      return;
    stop_signal = signo;
    hub->stop();
    server.stop();
    ioc.stop();
  });
  spdlog::info("event=cfgd_listening address={} version={} hash={}", address,
               first->version, first->hash.substr(0, 12));
  std::cout << "cfgd listening on http://" << address << " (version "
            << first->version << ")" << std::endl;
  ioc.run();
  spdlog::info("event=cfgd_stopping signal={}", stop_signal);
  hub->stop();
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

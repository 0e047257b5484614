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

#include <spdlog/spdlog.h>

#include "cfgactors/operation.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"
#include "cfgactors/write_result.hpp"

#include "config_api.hpp"
#include "embedded_defaults.hpp"
#include "http_server.hpp"
#include "logging.hpp"
#include "options.hpp"

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

/// Reads the schema and the layers. Without --file, the embedded example
/// config is the `defaults` layer and the embedded schema checks it.
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
  if (opts.files.empty()) {
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
  for (auto& path : opts.files) {
    std::error_code ec;
    if (!std::filesystem::exists(path, ec)) {
      fail(path + ": no such file");
      return std::nullopt;
    }
    auto doc = cfgactors::parse_file(path);
    if (!doc) {
      fail(doc.error->str());
      return std::nullopt;
    }
    auto layer = "file:" + path;
    if (!init.write.origin.empty())
      init.write.origin += ',';
    init.write.origin += layer;
    init.write.ops.push_back(
      cfgactors::operation::replace_layer(std::move(layer),
                                          std::move(doc.value)));
  }
  return init;
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
  caf::actor_system sys{cfg};
  // Declared after the actor system so that everything holding actor
  // handles (routes, sessions) is gone before the system shuts down.
  boost::asio::io_context ioc{1};
  boost::asio::signal_set signals{ioc, SIGINT, SIGTERM};
  cfgactors::pipeline_options popts;
  popts.validation.schema = init.schema;
  popts.storage.history_size = opts.history;
  auto nodes = cfgactors::spawn_pipeline(sys, popts);
  // From here on every exit path shuts the pipeline down.
  struct pipeline_guard {
    cfgactors::pipeline& p;
    ~pipeline_guard() {
      cfgactors::shutdown(p);
    }
  } guard{nodes};
  spdlog::info("event=cfgd_starting node=\"{}\" layers={} schema=\"{}\" "
               "scheduler={} history={}",
               opts.node_name, init.write.ops.size(), init.schema_name,
               opts.scheduler, opts.history);
  // The initial layers go through the validator like any other write.
  auto origin = init.write.origin;
  cfgactors::write_result first;
  {
    caf::scoped_actor self{sys};
    bool answered = false;
    self->request(nodes.validator, 30s, cfgactors::write_atom::value,
                  std::move(init.write))
      .receive(
        [&](cfgactors::write_result& r) {
          first = std::move(r);
          answered = true;
        },
        [&](caf::error& err) { fail("initial write: " + sys.render(err)); });
    if (!answered)
      return cfgd::exit_failure;
  }
  if (!first.ok()) {
    // describe() reads `rejected (code)` and then one line per reason.
    fail("initial configuration from " + origin + " " + first.describe());
    return cfgd::exit_failure;
  }
  auto ctx = std::make_shared<cfgd::api_context>(
    cfgd::api_context{sys, nodes, opts.node_name, 5000ms,
                      static_cast<uint32_t>(opts.history)});
  auto routes = std::make_shared<cfgd::http::router>();
  cfgd::add_read_routes(*routes, ctx);
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
    server.stop();
    ioc.stop();
  });
  spdlog::info("event=cfgd_listening address={} version={} hash={}", address,
               first.version, first.hash.substr(0, 12));
  std::cout << "cfgd listening on http://" << address << " (version "
            << first.version << ")" << std::endl;
  ioc.run();
  spdlog::info("event=cfgd_stopping signal={}", stop_signal);
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

// Shared by the http_source and ws_source suites: a pipeline on CAF's real
// scheduler with the example config loaded, helpers to wait for a source's
// status, and a capture of the log lines.
#pragma once

#include <algorithm>
#include <chrono>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <caf/all.hpp>
#include <spdlog/sinks/base_sink.h>
#include <spdlog/spdlog.h>

#include "cfgactors_test.hpp"

#include "cfgactors/parse.hpp"
#include "cfgactors/pipeline.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/system_config.hpp"

/// CAF_CHECK that also prints `msg` when `cond` fails.
#define CHECK_WHY(cond, msg)                                                   \
  do {                                                                         \
    if (!static_cast<bool>(cond))                                              \
      CAF_MESSAGE(msg);                                                        \
    CAF_CHECK(cond);                                                           \
  } while (false)

namespace cfgactors::test {

using namespace std::chrono_literals;

class capture_sink : public spdlog::sinks::base_sink<std::mutex> {
public:
  std::vector<std::string> lines() {
    std::lock_guard<std::mutex> guard{mutex_};
    return lines_;
  }

protected:
  void sink_it_(const spdlog::details::log_msg& msg) override {
    lines_.emplace_back(msg.payload.data(), msg.payload.size());
  }

  void flush_() override {
    // nop
  }

private:
  std::vector<std::string> lines_;
};

/// Adds a sink to the default logger while it lives.
struct log_capture {
  std::shared_ptr<capture_sink> sink = std::make_shared<capture_sink>();

  log_capture() {
    spdlog::default_logger()->sinks().push_back(sink);
  }

  ~log_capture() {
    auto& sinks = spdlog::default_logger()->sinks();
    sinks.erase(std::remove(sinks.begin(), sinks.end(), sink), sinks.end());
  }

  /// Lines of one event, oldest first.
  std::vector<std::string> events(const std::string& name) {
    std::vector<std::string> out;
    for (auto& line : sink->lines())
      if (line.rfind("event=" + name + " ", 0) == 0)
        out.push_back(line);
    return out;
  }
};

inline bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// Polls `pred` until it holds or `limit` passed; returns whether it held.
template <class Predicate>
bool wait_until(Predicate pred, std::chrono::seconds limit = 20s) {
  auto deadline = std::chrono::steady_clock::now() + limit;
  while (!pred()) {
    if (std::chrono::steady_clock::now() > deadline)
      return false;
    std::this_thread::sleep_for(5ms);
  }
  return true;
}

/// A port on 127.0.0.1 that nothing listens on (bound once, then released).
inline unsigned short free_port() {
  boost::asio::io_context ioc;
  boost::asio::ip::tcp::acceptor acceptor{
    ioc, {boost::asio::ip::address_v4::loopback(), 0}};
  return acceptor.local_endpoint().port();
}

inline system_config& sharing_scheduler(system_config& cfg) {
  cfg.set("scheduler.max-threads", 4);
  cfg.set("scheduler.policy", caf::atom("sharing"));
  return cfg;
}

struct remote_fixture {
  log_capture logs; // first: it outlives the actor system
  system_config cfg;
  caf::actor_system sys{sharing_scheduler(cfg)};
  caf::scoped_actor self{sys};
  pipeline pipe;
  std::vector<source_actor> sources; ///< stopped before the pipeline

  /// Spawns the pipeline with the example schema and commits the example
  /// config as version 1.
  remote_fixture() {
    std::string err;
    auto schema = json_schema::from_file(source_path("examples/schema.json"),
                                         &err);
    if (!schema)
      CAF_FAIL("schema: " << err);
    pipeline_options opts;
    opts.validation.schema = schema;
    pipe = spawn_pipeline(sys, opts);
    auto path = source_path("examples/config.yaml");
    auto doc = parse_file(path);
    if (!doc)
      CAF_FAIL(doc.error->str());
    auto res = write(operation::replace_layer("file:" + path, doc.value));
    if (res.status != write_status::committed)
      CAF_FAIL("the example config was not committed");
  }

  ~remote_fixture() {
    for (auto& src : sources)
      self->send_exit(src, caf::exit_reason::user_shutdown);
    shutdown(pipe);
  }

  write_result write(operation op) {
    write_result result;
    self
      ->request(pipe.validator, 30s, write_atom::value,
                write_request{{std::move(op)}, "test", 0, {}})
      .receive([&](write_result& r) { result = std::move(r); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  source_status status_of(const source_actor& src) {
    source_status result;
    self->request(src, 30s, status_atom::value)
      .receive([&](source_status& x) { result = std::move(x); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  /// Polls the source's status until `pred` holds (or fails the test).
  template <class Predicate>
  source_status wait_status(const source_actor& src, Predicate pred) {
    source_status last;
    if (!wait_until([&] {
          last = status_of(src);
          return pred(last);
        }))
      CAF_FAIL("condition not reached; status: " << to_json(last).dump());
    return last;
  }

  snapshot_ptr current() {
    snapshot_ptr result;
    self->request(pipe.store, 30s, get_atom::value)
      .receive([&](snapshot_ptr& x) { result = std::move(x); },
               [&](caf::error& e) { CAF_FAIL(sys.render(e)); });
    return result;
  }

  /// Waits until the store's current snapshot satisfies `pred`.
  template <class Predicate>
  snapshot_ptr wait_snapshot(Predicate pred) {
    snapshot_ptr last;
    if (!wait_until([&] {
          last = current();
          return pred(*last);
        }))
      CAF_FAIL("condition not reached; version " << last->version << ": "
                                                 << last->effective->dump());
    return last;
  }
};

} // namespace cfgactors::test

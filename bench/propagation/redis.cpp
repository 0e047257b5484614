// Redis pub/sub: the coordinator runs its own redis-server (no persistence)
// and PUBLISHes each flip; every worker SUBSCRIBEs with hiredis.
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <thread>

#include <sys/socket.h>

#include "process.hpp"
#include "report.hpp"
#include "system.hpp"

#ifdef CFG_BENCH_NO_HIREDIS

namespace bench {

namespace {

/// Built without hiredis (pkg-config found none): every run is skipped.
class redis_system : public system_under_test {
public:
  explicit redis_system(const bench_options&) {
    // nop
  }

  std::string unavailable() const override {
    return "built without hiredis";
  }

  std::unique_ptr<publisher> open_run(std::string& error) override {
    error = unavailable();
    return nullptr;
  }

  int run_worker(int id, const arg_map&) override {
    report_error(id, unavailable());
    return 1;
  }
};

} // namespace

std::unique_ptr<system_under_test>
make_redis_system(const bench_options& opts) {
  return std::make_unique<redis_system>(opts);
}

} // namespace bench

#else

#include <hiredis/hiredis.h>

namespace bench {

namespace {

using namespace std::chrono_literals;

constexpr const char* channel = "bench.flip";

struct context_deleter {
  void operator()(redisContext* c) const { redisFree(c); }
};
using context_ptr = std::unique_ptr<redisContext, context_deleter>;

struct reply_deleter {
  void operator()(redisReply* r) const { freeReplyObject(r); }
};
using reply_ptr = std::unique_ptr<redisReply, reply_deleter>;

/// A blocking connection, or null with the reason in `error`.
context_ptr connect(const std::string& host, int port, std::string& error) {
  timeval tv{5, 0};
  context_ptr c{redisConnectWithTimeout(host.c_str(), port, tv)};
  if (!c) {
    error = "cannot allocate a hiredis context";
    return nullptr;
  }
  if (c->err) {
    error = "connect " + host + ":" + std::to_string(port) + ": " + c->errstr;
    return nullptr;
  }
  return c;
}

std::string reply_error(redisContext* c, redisReply* r) {
  if (!r)
    return c->errstr[0] ? c->errstr : "no reply";
  if (r->type == REDIS_REPLY_ERROR)
    return std::string{r->str, r->len};
  return {};
}

class redis_publisher : public publisher {
public:
  redis_publisher(context_ptr c, int port) : c_(std::move(c)), port_(port) {
    // nop
  }

  std::vector<std::string> worker_args() const override {
    return {"--host=127.0.0.1", "--port=" + std::to_string(port_)};
  }

  std::string publish(uint64_t index, int64_t stamp_ns) override {
    char payload[64];
    auto len = std::snprintf(payload, sizeof(payload), "%" PRIu64 " %" PRId64,
                             index, stamp_ns);
    reply_ptr r{static_cast<redisReply*>(redisCommand(
      c_.get(), "PUBLISH %s %b", channel, payload, static_cast<size_t>(len)))};
    return reply_error(c_.get(), r.get());
  }

private:
  context_ptr c_;
  int port_;
};

class redis_system : public system_under_test {
public:
  explicit redis_system(const bench_options& opts)
    : program_(find_program("redis-server")), server_(opts.server_dir) {
    // nop
  }

  std::string unavailable() const override {
    return program_.empty() ? "redis-server not found" : std::string{};
  }

  std::string start() override {
    if (port_ != 0)
      return server_.failure();
    port_ = free_port();
    server_.start({program_, "--port", std::to_string(port_), "--bind",
                   "127.0.0.1", "--save", "", "--appendonly", "no", "--dir",
                   server_.dir(), "--daemonize", "no", "--loglevel",
                   "warning"});
    return server_.await_ready("redis-server", 20s, 20ms, [this] {
      std::string error;
      auto c = connect("127.0.0.1", port_, error);
      if (!c)
        return error;
      reply_ptr r{static_cast<redisReply*>(redisCommand(c.get(), "PING"))};
      if (r && r->type == REDIS_REPLY_STATUS)
        return std::string{};
      return "PING: " + reply_error(c.get(), r.get());
    });
  }

  std::unique_ptr<publisher> open_run(std::string& error) override {
    auto c = connect("127.0.0.1", port_, error);
    if (!c)
      return nullptr;
    timeval tv{5, 0};
    redisSetTimeout(c.get(), tv);
    return std::make_unique<redis_publisher>(std::move(c), port_);
  }

  int run_worker(int id, const arg_map& args) override {
    std::string error;
    auto c = connect(arg_or(args, "host", "127.0.0.1"),
                     std::stoi(arg_or(args, "port", "0")), error);
    if (c) {
      reply_ptr r{
        static_cast<redisReply*>(redisCommand(c.get(), "SUBSCRIBE %s", channel))};
      error = reply_error(c.get(), r.get());
    }
    if (!error.empty()) {
      report_error(id, "redis worker: " + error);
      return 1;
    }
    report_ready(id);
    std::thread receiver{[id, c = c.get()] {
      for (;;) {
        void* raw = nullptr;
        if (redisGetReply(c, &raw) != REDIS_OK)
          return; // closed at the end of the run
        auto now = monotonic_ns();
        reply_ptr r{static_cast<redisReply*>(raw)};
        if (r->type != REDIS_REPLY_ARRAY || r->elements != 3
            || r->element[2]->type != REDIS_REPLY_STRING)
          continue;
        uint64_t index = 0;
        int64_t stamp = 0;
        std::string payload{r->element[2]->str, r->element[2]->len};
        if (std::sscanf(payload.c_str(), "%" SCNu64 " %" SCNd64, &index,
                        &stamp)
            == 2)
          report_flip(id, index, now - stamp);
      }
    }};
    await_lifeline_end();
    ::shutdown(c->fd, SHUT_RDWR);
    receiver.join();
    return 0;
  }

private:
  std::string program_;
  server_process server_;
  uint16_t port_ = 0;
};

} // namespace

std::unique_ptr<system_under_test>
make_redis_system(const bench_options& opts) {
  return std::make_unique<redis_system>(opts);
}

} // namespace bench

#endif // CFG_BENCH_NO_HIREDIS

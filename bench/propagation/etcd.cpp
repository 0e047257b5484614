// etcd watch: the coordinator runs its own single-member etcd (etcd_server)
// and PUTs each flip through the v3 JSON gateway on one keep-alive
// connection; every worker holds a streaming POST /v3/watch on that gateway
// (no extra process in the path).
#include <chrono>
#include <cinttypes>
#include <cstdio>
#include <functional>
#include <thread>

#include <boost/asio/connect.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

#include "etcd_server.hpp"
#include "process.hpp"
#include "report.hpp"
#include "system.hpp"

namespace bench {

namespace {

using namespace std::chrono_literals;
namespace beast = boost::beast;
namespace http = beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;
using nlohmann::json;

constexpr const char* flip_key = "bench.flip";

std::string base64(const std::string& in) {
  std::string out(4 * ((in.size() + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(in.data()),
                           static_cast<int>(in.size()));
  out.resize(static_cast<size_t>(n));
  return out;
}

std::string unbase64(const std::string& in) {
  if (in.empty() || in.size() % 4 != 0)
    return {};
  std::string out(3 * in.size() / 4, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(in.data()),
                           static_cast<int>(in.size()));
  if (n < 0)
    return {};
  // EVP_DecodeBlock counts the padding as zero bytes.
  auto padding = in.size() - in.find_last_not_of('=') - 1;
  out.resize(static_cast<size_t>(n) - padding);
  return out;
}

http::request<http::string_body> post_request(const std::string& host,
                                              const std::string& target,
                                              const json& body) {
  http::request<http::string_body> req{http::verb::post, target, 11};
  req.set(http::field::host, host);
  req.set(http::field::content_type, "application/json");
  req.keep_alive(true);
  req.body() = body.dump();
  req.prepare_payload();
  return req;
}

/// One keep-alive connection to the gateway; every exchange has a timeout.
class gateway_client {
public:
  std::string connect(const std::string& host, uint16_t port) {
    host_ = host + ":" + std::to_string(port);
    beast::error_code ec = net::error::would_block;
    stream_.expires_after(5s);
    stream_.async_connect(tcp::endpoint{net::ip::make_address(host), port},
                          [&](beast::error_code e) { ec = e; });
    ioc_.restart();
    ioc_.run();
    if (ec)
      return "connect " + host_ + ": " + ec.message();
    stream_.socket().set_option(tcp::no_delay{true});
    return {};
  }

  /// POSTs `body` to `target` and parses the answer into `out`.
  std::string post(const std::string& target, const json& body, json& out) {
    auto req = post_request(host_, target, body);
    http::response<http::string_body> res;
    beast::error_code ec;
    stream_.expires_after(5s);
    http::async_write(stream_, req, [&](beast::error_code e, std::size_t) {
      ec = e;
      if (!ec)
        http::async_read(stream_, buf_, res,
                         [&](beast::error_code e2, std::size_t) { ec = e2; });
    });
    ioc_.restart();
    ioc_.run();
    if (ec)
      return target + ": " + ec.message();
    if (res.result() != http::status::ok)
      return target + ": HTTP " + std::to_string(res.result_int()) + " "
             + res.body();
    out = json::parse(res.body(), nullptr, false);
    if (out.is_discarded())
      return target + ": not JSON: " + res.body();
    return {};
  }

private:
  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buf_;
  std::string host_;
};

class etcd_publisher : public publisher {
public:
  std::string open(uint16_t port) {
    port_ = port;
    return client_.connect("127.0.0.1", port);
  }

  std::vector<std::string> worker_args() const override {
    return {"--host=127.0.0.1", "--port=" + std::to_string(port_)};
  }

  std::string publish(uint64_t index, int64_t stamp_ns) override {
    char payload[64];
    std::snprintf(payload, sizeof(payload), "%" PRIu64 " %" PRId64, index,
                  stamp_ns);
    json answer;
    return client_.post("/v3/kv/put",
                        {{"key", base64(flip_key)}, {"value", base64(payload)}},
                        answer);
  }

private:
  gateway_client client_;
  uint16_t port_ = 0;
};

/// A worker's watch: a streaming POST /v3/watch whose chunked answer is one
/// JSON message per line. Runs on its own thread until the io_context stops.
class watcher {
public:
  explicit watcher(int id) : id_(id) {
    on_chunk_ = [this](std::uint64_t, beast::string_view body,
                       beast::error_code&) {
      pending_.append(body.data(), body.size());
      for (auto eol = pending_.find('\n'); eol != std::string::npos;
           eol = pending_.find('\n')) {
        handle(pending_.substr(0, eol));
        pending_.erase(0, eol + 1);
      }
      return body.size();
    };
    parser_.body_limit(boost::none);
    parser_.on_chunk_body(on_chunk_);
  }

  void start(const std::string& host, uint16_t port) {
    req_ = post_request(host + ":" + std::to_string(port), "/v3/watch",
                        {{"create_request", {{"key", base64(flip_key)}}}});
    stream_.expires_after(10s);
    stream_.async_connect(
      tcp::endpoint{net::ip::make_address(host), port},
      [this](beast::error_code ec) {
        if (ec)
          return fail("connect", ec);
        stream_.socket().set_option(tcp::no_delay{true});
        http::async_write(stream_, req_,
                          [this](beast::error_code ec, std::size_t) {
                            if (ec)
                              return fail("write", ec);
                            http::async_read_header(
                              stream_, buf_, parser_,
                              [this](beast::error_code ec, std::size_t) {
                                on_header(ec);
                              });
                          });
      });
  }

  net::io_context& context() { return ioc_; }

private:
  void fail(const char* what, beast::error_code ec) {
    report_error(id_, std::string{"etcd worker: watch "} + what + ": "
                        + ec.message());
  }

  void on_header(beast::error_code ec) {
    if (ec)
      return fail("read header", ec);
    if (parser_.get().result() != http::status::ok) {
      report_error(id_, "etcd worker: watch: HTTP "
                          + std::to_string(parser_.get().result_int()));
      return;
    }
    stream_.expires_never(); // flips may be far apart
    read_more();
  }

  void read_more() {
    http::async_read_some(stream_, buf_, parser_,
                          [this](beast::error_code ec, std::size_t) {
                            if (ec)
                              return fail("read", ec);
                            if (parser_.is_done()) {
                              report_error(id_, "etcd worker: the watch "
                                                "stream ended");
                              return;
                            }
                            read_more();
                          });
  }

  void handle(const std::string& line) {
    auto msg = json::parse(line, nullptr, false);
    if (msg.is_discarded() || !msg.contains("result")) {
      report_error(id_, "etcd worker: unexpected watch message: " + line);
      return;
    }
    auto& result = msg["result"];
    if (result.value("created", false) && !created_) {
      created_ = true;
      report_ready(id_);
    }
    auto events = result.find("events");
    if (events == result.end())
      return;
    for (auto& event : *events) {
      auto value = unbase64(event["kv"].value("value", std::string{}));
      uint64_t index = 0;
      int64_t stamp = 0;
      if (std::sscanf(value.c_str(), "%" SCNu64 " %" SCNd64, &index, &stamp)
          == 2)
        report_flip(id_, index, monotonic_ns() - stamp);
    }
  }

  int id_;
  bool created_ = false;
  net::io_context ioc_;
  beast::tcp_stream stream_{ioc_};
  beast::flat_buffer buf_;
  http::request<http::string_body> req_;
  http::response_parser<http::string_body> parser_;
  std::function<std::size_t(std::uint64_t, beast::string_view,
                            beast::error_code&)>
    on_chunk_;
  std::string pending_;
};

class etcd_system : public system_under_test {
public:
  explicit etcd_system(const bench_options& opts) : server_(opts.server_dir) {
    // nop
  }

  std::string unavailable() const override {
    return etcd_server::program().empty() ? "etcd not found" : std::string{};
  }

  std::string start() override {
    return server_.start();
  }

  std::unique_ptr<publisher> open_run(std::string& error) override {
    auto pub = std::make_unique<etcd_publisher>();
    error = pub->open(server_.port());
    if (!error.empty())
      return nullptr;
    return pub;
  }

  int run_worker(int id, const arg_map& args) override {
    watcher w{id};
    w.start(arg_or(args, "host", "127.0.0.1"),
            static_cast<uint16_t>(std::stoi(arg_or(args, "port", "0"))));
    std::thread io{[&w] { w.context().run(); }};
    await_lifeline_end();
    w.context().stop();
    io.join();
    return 0;
  }

private:
  etcd_server server_;
};

} // namespace

std::unique_ptr<system_under_test> make_etcd_system(const bench_options& opts) {
  return std::make_unique<etcd_system>(opts);
}

} // namespace bench

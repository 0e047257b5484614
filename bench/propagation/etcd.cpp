// etcd watch: the coordinator runs its own single-member etcd (etcd_server)
// and PUTs each flip through the v3 JSON gateway on one keep-alive
// connection; every worker holds a streaming POST /v3/watch on that gateway
// (no extra process in the path).
//
// etcd-txn: the same, but each flip is the transaction cfgactors' etcd mode
// makes (compare the head, put a record of a flip's record size and the
// head, the refusal's reads in the failure branch) and each worker watches
// the prefix both keys are under: what etcd alone costs a compare-and-set
// design, the floor under cfgactors-etcd.
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
constexpr const char* head_key = "bench.head";
constexpr const char* txn_prefix = "bench.";
constexpr const char* txn_prefix_end = "bench/"; // '.' + 1

/// What a one-key flip's version record is in cfgactors' etcd mode (100
/// keys, default history): ~300 bytes before base64.
constexpr size_t record_size = 300;

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
  explicit etcd_publisher(bool txn) : txn_(txn) {
    // nop
  }

  std::string open(uint16_t port) {
    port_ = port;
    auto err = client_.connect("127.0.0.1", port);
    if (!err.empty() || !txn_)
      return err;
    // Runs share the server: go on from the head an earlier run left.
    json answer;
    err = client_.post("/v3/kv/range", {{"key", base64(head_key)}}, answer);
    if (!err.empty())
      return err;
    if (answer.contains("kvs") && !answer["kvs"].empty())
      head_ = std::stoull(
        unbase64(answer["kvs"][0].value("value", std::string{"MA=="})));
    return {};
  }

  std::vector<std::string> worker_args() const override {
    return {"--host=127.0.0.1", "--port=" + std::to_string(port_),
            std::string{"--prefix="} + (txn_ ? "1" : "0")};
  }

  std::string publish(uint64_t index, int64_t stamp_ns) override {
    char payload[64];
    std::snprintf(payload, sizeof(payload), "%" PRIu64 " %" PRId64, index,
                  stamp_ns);
    json answer;
    if (!txn_)
      return client_.post("/v3/kv/put",
                          {{"key", base64(flip_key)},
                           {"value", base64(payload)}},
                          answer);
    std::string record = payload;
    record.resize(record_size, ' ');
    auto compare = head_ == 0
                     ? json{{"key", base64(head_key)},
                            {"target", "CREATE"},
                            {"result", "EQUAL"},
                            {"create_revision", "0"}}
                     : json{{"key", base64(head_key)},
                            {"target", "VALUE"},
                            {"result", "EQUAL"},
                            {"value", base64(std::to_string(head_))}};
    auto put = [](const std::string& key, const std::string& value) {
      return json{{"request_put",
                   {{"key", base64(key)}, {"value", base64(value)}}}};
    };
    auto range = [](const std::string& key, const std::string& end) {
      json r{{"key", base64(key)}};
      if (!end.empty())
        r["range_end"] = base64(end);
      return json{{"request_range", std::move(r)}};
    };
    json body{{"compare", json::array({compare})},
              {"success", json::array({put(flip_key, record),
                                       put(head_key,
                                           std::to_string(head_ + 1))})},
              {"failure", json::array({range(head_key, {}),
                                       range(flip_key, txn_prefix_end)})}};
    auto err = client_.post("/v3/kv/txn", body, answer);
    if (!err.empty())
      return err;
    if (!answer.value("succeeded", false))
      return "etcd-txn: the compare failed: " + answer.dump();
    ++head_;
    return {};
  }

private:
  bool txn_;
  uint64_t head_ = 0;
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

  /// `prefix`: watch every key under "bench." (etcd-txn), else the flip's.
  void start(const std::string& host, uint16_t port, bool prefix) {
    json create{{"key", base64(prefix ? txn_prefix : flip_key)}};
    if (prefix)
      create["range_end"] = base64(txn_prefix_end);
    req_ = post_request(host + ":" + std::to_string(port), "/v3/watch",
                        {{"create_request", std::move(create)}});
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
      if (unbase64(event["kv"].value("key", std::string{})) != flip_key)
        continue;
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
  etcd_system(const bench_options& opts, bool txn)
    : txn_(txn), server_(opts.server_dir) {
    // nop
  }

  std::string unavailable() const override {
    return etcd_server::program().empty() ? "etcd not found" : std::string{};
  }

  std::string start() override {
    return server_.start();
  }

  std::unique_ptr<publisher> open_run(std::string& error) override {
    auto pub = std::make_unique<etcd_publisher>(txn_);
    error = pub->open(server_.port());
    if (!error.empty())
      return nullptr;
    return pub;
  }

  int run_worker(int id, const arg_map& args) override {
    watcher w{id};
    w.start(arg_or(args, "host", "127.0.0.1"),
            static_cast<uint16_t>(std::stoi(arg_or(args, "port", "0"))),
            arg_or(args, "prefix", "0") == "1");
    std::thread io{[&w] { w.context().run(); }};
    await_lifeline_end();
    w.context().stop();
    io.join();
    return 0;
  }

private:
  bool txn_;
  etcd_server server_;
};

} // namespace

std::unique_ptr<system_under_test> make_etcd_system(const bench_options& opts) {
  return std::make_unique<etcd_system>(opts, false);
}

std::unique_ptr<system_under_test>
make_etcd_txn_system(const bench_options& opts) {
  return std::make_unique<etcd_system>(opts, true);
}

} // namespace bench

// cfgctl watch: a WebSocket to cfgd's /ws. The server pushes the whole
// config with its version on every change; cfgctl diffs consecutive pushes
// and prints one line per version that touched the prefix.
#include <iostream>

#include <boost/asio/connect.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "cfgactors/diff.hpp"
#include "cfgactors/path.hpp"

#include "commands.hpp"

namespace cfgctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

/// `version 7: logging.level: INFO -> DEBUG, buffer_size: +2048`
std::string describe(uint64_t version, const json& view,
                     const std::string& prefix) {
  std::string out = "version " + std::to_string(version) + ":";
  bool first = true;
  auto show = [](const json& x) {
    return x.is_string() ? x.get<std::string>() : x.dump();
  };
  for (auto& [path, c] : view.items()) {
    if (!cfgactors::path_within(path, prefix))
      continue;
    out += first ? " " : ", ";
    first = false;
    if (c.contains("added"))
      out += path + ": +" + show(c["added"]);
    else if (c.contains("removed"))
      out += path + ": -" + show(c["removed"]);
    else
      out += path + ": " + show(c["old"]) + " -> " + show(c["new"]);
  }
  return first ? std::string{} : out;
}

} // namespace

int cmd_watch(const context& ctx, const std::string& prefix) {
  auto& ep = ctx.cli.where();
  if (ep.scheme != "http") {
    std::cerr << "cfgctl: watch supports http:// URLs only\n";
    return exit_usage;
  }
  try {
    asio::io_context ioc;
    tcp::resolver resolver{ioc};
    websocket::stream<tcp::socket> ws{ioc};
    asio::connect(ws.next_layer(),
                  resolver.resolve(ep.host, std::to_string(ep.port)));
    auto token = ctx.cli.token();
    ws.set_option(websocket::stream_base::decorator(
      [token](websocket::request_type& req) {
        req.set(beast::http::field::user_agent, "cfgctl");
        if (!token.empty())
          req.set(beast::http::field::authorization, "Bearer " + token);
      }));
    websocket::response_type res;
    ws.handshake(res, ep.host + ":" + std::to_string(ep.port),
                 ep.base + "/ws");
    json last;
    bool have_last = false;
    for (;;) {
      beast::flat_buffer buf;
      ws.read(buf);
      auto text = beast::buffers_to_string(buf.data());
      json msg = json::parse(text, nullptr, false);
      if (!msg.is_object() || msg.value("action", "") != "update_config")
        continue;
      auto version = msg.value("version", uint64_t{0});
      auto& config = msg["config"];
      if (ctx.json) {
        // Scripts get the pushes as they come, filtered by prefix.
        auto path = cfgactors::config_path::parse(prefix);
        auto sub = path ? cfgactors::find(config, *path) : nullptr;
        std::cout << json{{"version", version},
                          {"value", sub ? *sub : json{}}}.dump()
                  << std::endl;
      } else if (!have_last) {
        std::cout << "watching " << (prefix.empty() ? "everything" : prefix)
                  << " from version " << version << std::endl;
      } else if (auto line = describe(version,
                                      cfgactors::diff_view(last, config),
                                      prefix);
                 !line.empty()) {
        std::cout << line << std::endl;
      }
      last = std::move(config);
      have_last = true;
    }
  } catch (const beast::system_error& e) {
    if (e.code() == websocket::error::closed)
      return exit_ok;
    std::cerr << "cfgctl: watch: " << e.code().message() << '\n';
    return exit_unreachable;
  } catch (const std::exception& e) {
    std::cerr << "cfgctl: watch: " << e.what() << '\n';
    return exit_unreachable;
  }
}

} // namespace cfgctl

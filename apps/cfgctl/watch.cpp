// cfgctl watch: a WebSocket to cfgd's /ws tells which version is the newest
// (the server pushes its whole config on every change, a slow client only
// the latest). What changed comes from GET /history and GET /diff, one
// version at a time from the last one printed: no version is skipped when
// pushes were conflated or the connection was down, none printed twice
// after a reconnect, and secrets are masked as reads mask them (a changed
// secret shows as changed, masked). The connection is re-opened with
// backoff whenever it ends.
#include <algorithm>
#include <chrono>
#include <functional>
#include <iostream>
#include <thread>

#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/websocket.hpp>

#include "cfgactors/diff.hpp"
#include "cfgactors/path.hpp"

#include "commands.hpp"
#include "show.hpp"

namespace cfgctl {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace websocket = beast::websocket;
using tcp = asio::ip::tcp;
using nlohmann::json;

namespace {

using namespace std::chrono_literals;

/// A silent connection (a frozen cfgd, a cut cable) ends after this long
/// without data; Beast pings at half of it, so an idle but healthy one stays.
constexpr auto idle_timeout = 10s;
constexpr auto first_backoff = 250ms;
constexpr auto max_backoff = 8s;
/// Most versions fetched one by one after a gap; older ones are shown as
/// one change (the history is bounded anyway: 100 versions by default).
constexpr uint64_t max_catch_up = 100;

/// Whether a change at `path` concerns a watch of `prefix`: at or below it,
/// or above it (a whole subtree replaced).
bool concerns(const std::string& path, const std::string& prefix) {
  return cfgactors::path_within(path, prefix)
         || cfgactors::path_within(prefix, path);
}

class watcher {
public:
  watcher(const context& ctx, std::string prefix)
    : ctx_(ctx), prefix_(std::move(prefix)) {
    auto& ep = ctx.cli.where();
    host_ = ep.host.find(':') == std::string::npos ? ep.host
                                                   : "[" + ep.host + "]";
    url_ = "ws://" + host_ + ":" + std::to_string(ep.port) + ep.base + "/ws";
  }

  /// Until interrupted, or until cfgd refuses the token (exit_auth) or the
  /// first connection fails (exit_unreachable: nothing was watched yet).
  int run() {
    auto backoff = std::chrono::milliseconds{first_backoff};
    for (;;) {
      std::string why;
      auto code = session(why);
      if (code)
        return *code;
      if (!started_) {
        std::cerr << "cfgctl: watch: cannot reach cfgd: " << url_ << ": "
                  << why << '\n';
        return exit_unreachable;
      }
      if (connected_)
        backoff = first_backoff; // it worked for a while: start over
      std::cerr << "cfgctl: watch: " << url_ << ": " << why
                << "; reconnecting in " << backoff.count()
                << " ms (last version seen: " << seen_ << ")" << std::endl;
      std::this_thread::sleep_for(backoff);
      backoff = std::min<std::chrono::milliseconds>(backoff * 2, max_backoff);
    }
  }

private:
  /// One connection, until it ends (`why` says how); an exit code when
  /// cfgctl must stop.
  std::optional<int> session(std::string& why) {
    connected_ = false;
    asio::io_context ioc;
    tcp::resolver resolver{ioc};
    websocket::stream<beast::tcp_stream> ws{ioc};
    auto& ep = ctx_.cli.where();
    beast::error_code ec;
    auto found = resolver.resolve(ep.host, std::to_string(ep.port), ec);
    if (ec) {
      why = "cannot resolve " + ep.host + ": " + ec.message();
      return std::nullopt;
    }
    std::optional<int> exit_code;
    websocket::response_type res;
    beast::flat_buffer buf;
    std::function<void()> read_next = [&] {
      ws.async_read(buf, [&](beast::error_code err, std::size_t) {
        if (err) {
          why = err == websocket::error::closed
                  ? std::string{"cfgd closed the connection"}
                : err == beast::error::timeout
                  ? "no data for " + std::to_string(idle_timeout.count())
                      + " s (cfgd frozen or the network cut)"
                  : err.message();
          return;
        }
        auto text = beast::buffers_to_string(buf.data());
        buf.consume(buf.size());
        if (auto code = on_message(text)) {
          exit_code = code;
          return;
        }
        read_next();
      });
    };
    auto& stream = beast::get_lowest_layer(ws);
    stream.expires_after(ctx_.cli.timeout());
    stream.async_connect(found, [&](beast::error_code err,
                                    const tcp::endpoint&) {
      if (err) {
        why = err.message();
        return;
      }
      stream.expires_never();
      websocket::stream_base::timeout limits;
      limits.handshake_timeout = ctx_.cli.timeout();
      limits.idle_timeout = idle_timeout;
      limits.keep_alive_pings = true;
      ws.set_option(limits);
      auto token = ctx_.cli.token();
      ws.set_option(websocket::stream_base::decorator(
        [token](websocket::request_type& req) {
          req.set(beast::http::field::user_agent, "cfgctl");
          if (!token.empty())
            req.set(beast::http::field::authorization, "Bearer " + token);
        }));
      ws.async_handshake(
        res, host_ + ":" + std::to_string(ep.port), ep.base + "/ws",
        [&](beast::error_code err) {
          if (err) {
            auto st = res.result_int();
            why = st != 0 ? "cfgd refused the WebSocket (HTTP "
                              + std::to_string(st) + ")"
                          : err.message();
            // A token cfgd refuses will not become valid by retrying.
            if (st == 401 || st == 403)
              exit_code = exit_auth;
            return;
          }
          connected_ = true;
          if (started_)
            std::cerr << "cfgctl: watch: reconnected to " << url_
                      << ", resuming after version " << seen_ << std::endl;
          read_next();
        });
    });
    ioc.run();
    if (exit_code && *exit_code == exit_auth)
      std::cerr << "cfgctl: watch: " << url_ << ": " << why << '\n';
    return exit_code;
  }

  /// One push: prints what changed since the last version seen.
  std::optional<int> on_message(const std::string& text) {
    json msg = json::parse(text, nullptr, false);
    if (!msg.is_object() || msg.value("action", "") != "update_config")
      return std::nullopt;
    auto version = msg.value("version", uint64_t{0});
    auto& config = msg["config"];
    if (!started_) {
      started_ = true;
      seen_ = version;
      last_ = std::move(config);
      // Text: a first line for humans; --json: stdout has changes only.
      (ctx_.json ? std::cerr : std::cout)
        << (ctx_.json ? "cfgctl: " : "") << "watching "
        << (prefix_.empty() ? "everything" : prefix_) << " from version "
        << version << std::endl;
      return std::nullopt;
    }
    if (version == seen_)
      return std::nullopt; // the version a reconnect starts from: printed
    if (version < seen_) {
      // Only a cfgd that lost its data directory goes back: there is no
      // history between, so start over from what it has now.
      std::cerr << "cfgctl: watch: cfgd is at version " << version
                << ", behind version " << seen_
                << " seen before: its history was reset; following it from "
                   "version "
                << version << std::endl;
      seen_ = version;
      last_ = std::move(config);
      return std::nullopt;
    }
    catch_up(version, config);
    seen_ = version;
    last_ = std::move(config);
    return std::nullopt;
  }

  /// Prints every version after seen_ up to `version`, each diffed against
  /// the one before it.
  void catch_up(uint64_t version, const json& config) {
    std::vector<uint64_t> versions;
    if (version == seen_ + 1) {
      versions.push_back(version);
    } else {
      // Which versions lie between (etcd may skip numbers).
      auto limit = std::min(version - seen_, max_catch_up);
      auto r = ctx_.cli.get("/history?before=" + std::to_string(version + 1)
                            + "&limit=" + std::to_string(limit));
      if (r.status == 200 && r.body.is_array())
        for (auto& row : r.body) {
          auto v = row.value("version", uint64_t{0});
          if (v > seen_ && v <= version)
            versions.push_back(v);
        }
      std::sort(versions.begin(), versions.end());
    }
    auto from = seen_;
    for (auto v : versions) {
      auto r = ctx_.cli.get("/diff?from=" + std::to_string(from)
                            + "&to=" + std::to_string(v));
      if (r.status != 200 || !r.body.is_object())
        break;
      print(v, r.body["changes"]);
      from = v;
    }
    if (from == version)
      return;
    // Not in the history one by one any more (or not readable): the rest
    // as one change, from the server if it still has `from`, else from the
    // configs pushed before and now (masked as pushes are).
    std::cerr << "cfgctl: watch: versions " << from + 1 << " to " << version
              << " are not all in cfgd's history: shown as one change"
              << std::endl;
    auto r = ctx_.cli.get("/diff?from=" + std::to_string(from)
                          + "&to=" + std::to_string(version));
    if (r.status == 200 && r.body.is_object())
      print(version, r.body["changes"]);
    else if (from == seen_)
      print(version, cfgactors::diff_view(last_, config));
    else
      std::cerr << "cfgctl: watch: " << r.what << ": "
                << (r.status == 0 ? r.error
                                  : "HTTP " + std::to_string(r.status))
                << ": the changes after version " << from
                << " up to " << version << " cannot be shown" << std::endl;
  }

  /// One line for `version` if it touched the prefix: text
  /// `version 7: a: 1 -> 2, b: 3 (added), c: 4 -> (removed)`, or JSON
  /// `{"version":7,"changes":[{"path","old","new"} | {"path","new",
  /// "added":true} | {"path","old","removed":true}]}`.
  void print(uint64_t version, const json& view) {
    auto changes = json::array();
    std::string line;
    for (auto& [path, c] : view.items()) {
      if (!concerns(path, prefix_))
        continue;
      json entry{{"path", path}};
      line += line.empty() ? " " : ", ";
      if (c.contains("added")) {
        entry["new"] = c["added"];
        entry["added"] = true;
        line += path + ": " + show(c["added"]) + " (added)";
      } else if (c.contains("removed")) {
        entry["old"] = c["removed"];
        entry["removed"] = true;
        line += path + ": " + show(c["removed"]) + " -> (removed)";
      } else {
        entry["old"] = c["old"];
        entry["new"] = c["new"];
        line += path + ": " + show(c["old"]) + " -> " + show(c["new"]);
      }
      changes.push_back(std::move(entry));
    }
    if (changes.empty())
      return;
    if (ctx_.json)
      std::cout << json{{"version", version}, {"changes", changes}}.dump()
                << std::endl;
    else
      std::cout << "version " << version << ":" << line << std::endl;
  }

  const context& ctx_;
  std::string prefix_;
  std::string host_;
  std::string url_;
  bool started_ = false;   ///< a first push came (seen_ is set)
  bool connected_ = false; ///< the current session got through its handshake
  uint64_t seen_ = 0;      ///< the newest version printed or started from
  json last_;              ///< its config, as pushed
};

} // namespace

int cmd_watch(const context& ctx, const std::string& prefix) {
  auto& ep = ctx.cli.where();
  if (ep.scheme != "http") {
    std::cerr << "cfgctl: watch: " << ep.scheme
              << ":// is not supported (only http://: the WebSocket has no "
                 "TLS here)\n";
    return exit_usage;
  }
  std::string error;
  if (!cfgactors::config_path::parse(prefix, &error)) {
    std::cerr << "cfgctl: watch: bad prefix '" << prefix << "': " << error
              << '\n';
    return exit_usage;
  }
  return watcher{ctx, prefix}.run();
}

} // namespace cfgctl

// cfgctl: the command line over cfgd's HTTP API.
//   cfgctl [--url URL] [--token-file PATH] [--json] COMMAND ...
// Exit codes (client.hpp, docs/CFGCTL.md), the same with --json: 0 ok,
// 1 refused, 2 usage (also: a token that would travel in clear text, see
// plain_text_allowed), 3 unreachable, 4 not authorized, 5 conflict,
// 6 committed but not acked in time, 7 no answer in time.
#include <cerrno>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <functional>
#include <iostream>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include <CLI/CLI.hpp>

#include "cfgactors/change_reason.hpp"

#include "client.hpp"
#include "commands.hpp"
#include "validate.hpp"

namespace {

/// The token: first non-comment line of the file, else CFGD_TOKEN.
bool load_token(const std::string& file, std::string& token) {
  if (file.empty()) {
    if (auto env = std::getenv("CFGD_TOKEN"))
      token = env;
    return true;
  }
  std::ifstream in{file};
  if (!in) {
    std::cerr << "cfgctl: --token-file " << file
              << ": cannot open it: " << std::strerror(errno) << '\n';
    return false;
  }
  for (std::string line; in && std::getline(in, line);) {
    auto first = line.find_first_not_of(" \t\r");
    if (first == std::string::npos || line[first] == '#')
      continue;
    token = line.substr(first, line.find_last_not_of(" \t\r") - first + 1);
    return true;
  }
  std::cerr << "cfgctl: --token-file " << file
            << ": no token in this file (only blank or # lines)\n";
  return false;
}

/// A bearer token over plain http:// or ws:// can be read by anyone on the
/// path, so it goes only to a loopback address (an SSH tunnel is one) unless
/// the user says --insecure, and then with a warning. A name counts as
/// loopback when `localhost` or when all it resolves to is loopback: a name
/// that also resolves elsewhere may be connected elsewhere. Judged before
/// any connection is made; false when cfgctl must stop.
bool plain_text_allowed(const cfgctl::endpoint& ep, const std::string& token,
                        const std::string& target, bool insecure,
                        bool https_possible) {
  if (token.empty() || ep.scheme != "http")
    return true;
  std::string why;
  if (cfgctl::is_loopback_host(ep.host, why))
    return true;
  if (insecure) {
    std::cerr << "cfgctl: warning: sending the bearer token unencrypted to "
              << target << " (" << why << "; --insecure)\n";
    return true;
  }
  std::cerr << "cfgctl: refusing to send the bearer token unencrypted to "
            << target << ": " << why
            << ".\nUse " << (https_possible ? "https://, " : "")
            << "a loopback address (e.g. through an SSH tunnel: ssh -L "
               "7070:127.0.0.1:7070 HOST), or --insecure to send it anyway.\n";
  return false;
}

} // namespace

int main(int argc, char** argv) {
  using namespace cfgctl;
  CLI::App app{"cfgctl: read and change the configuration served by cfgd.",
               "cfgctl"};
  app.require_subcommand(1);
  // Global options may also follow the command (`flag x on --consistency
  // all`): subcommands created below inherit this.
  app.fallthrough();
  std::string url = std::getenv("CFGD_URL") ? std::getenv("CFGD_URL")
                                            : "http://127.0.0.1:7070";
  std::string token_file;
  bool as_json = false;
  std::string consistency;
  int timeout_ms = 10000;
  app.add_option("--url", url, "cfgd's address (else CFGD_URL)")
    ->capture_default_str();
  app.add_option("--token-file", token_file,
                 "file with the bearer token (else CFGD_TOKEN)")
    ->type_name("PATH");
  app.add_flag("--json", as_json, "print the server's JSON, for scripts");
  app.add_option("--consistency", consistency,
                 "for writes: wait until local, majority or all nodes have "
                 "applied it")
    ->check(CLI::IsMember({"local", "majority", "all"}).description(""));
  std::string idempotency_key;
  app.add_option("--idempotency-key", idempotency_key,
                 "for writes: a name for this write; running the command "
                 "again with the same key answers the version it committed "
                 "instead of writing twice")
    ->type_name("KEY");
  std::string reason;
  app.add_option("--reason", reason,
                 "for writes: why, kept in the history with the token's name "
                 "(printable UTF-8, at most 500 bytes)")
    ->type_name("TEXT");
  bool dry_run = false;
  app.add_flag("--dry-run", dry_run,
               "for writes (set, unset, flag, rollback, push): check it all "
               "as cfgd would and print what would change; nothing is "
               "committed");
  bool insecure = false;
  app.add_flag("--insecure", insecure,
               "send the token over plain http:// (and ws://) to a host "
               "that is not loopback, with a warning (else refused)");
  app.add_option("--timeout-ms", timeout_ms, "per request")
    ->capture_default_str()
    ->check(CLI::Range(1, 3600000).description(""));
  std::string if_match;
  app.add_option("--if-match", if_match,
                 "for writes: only if the current version has this hash "
                 "(from get's ETag, history's --json); else exit 5")
    ->type_name("HASH")
    // Goes into a header: hex only (no quote, no line break to inject).
    ->check(
      [](const std::string& hash) {
        auto hex = hash.find_first_not_of("0123456789abcdef")
                   == std::string::npos;
        return hex && !hash.empty() && hash.size() <= 64
                 ? std::string{}
                 : "expected the version's hash (up to 64 "
                   "lowercase hex digits), got '"
                     + hash.substr(0, 80) + "'";
      },
      "");
  app.footer("Exit codes: 0 ok, 1 refused, 2 usage, 3 unreachable, 4 not "
             "authorized, 5 conflict, 6 committed but not acked in time, "
             "7 no answer in time (the same with --json).");

  // Every command: a subcommand with an example, and what runs it once the
  // client is set up. A new command is one `command(...)` and its options.
  std::vector<std::pair<CLI::App*, std::function<int(const cfgctl::context&)>>>
    commands;
  auto command = [&](const char* name, const char* description,
                     const char* example,
                     std::function<int(const cfgctl::context&)> run) {
    auto sub = app.add_subcommand(name, description);
    sub->footer(std::string{"Example: "} + example);
    commands.emplace_back(sub, std::move(run));
    return sub;
  };

  std::string path, value, name, state, prefix;
  bool as_string = false, explain = false;
  std::optional<uint64_t> from, to;
  uint64_t version = 0;
  int limit = 20;
  auto get = command("get", "print the config, or the value at PATH",
                     "cfgctl get logging.level --explain",
                     [&](const context& c) {
                       return cmd_get(c, path, explain);
                     });
  get->add_option("path", path, "dotted path (a.b[0].c); all when left out");
  get->add_flag("--explain", explain,
                "which layer sets PATH and which layers it shadows");
  auto set = command("set", "set PATH to VALUE (JSON, else a string)",
                     "cfgctl set logging.level DEBUG --reason 'incident 42'",
                     [&](const context& c) {
                       return cmd_set(c, path, value, as_string);
                     });
  set->add_option("path", path, "dotted path (a.b[0].c)")->required();
  set->add_option("value", value,
                  "JSON (2000, true, {\"a\":1}); anything else is a string")
    ->required();
  set->add_flag("--string", as_string, "take VALUE as a string as it is");
  auto unset = command("unset", "remove PATH from the config",
                       "cfgctl unset features.old_banner",
                       [&](const context& c) { return cmd_unset(c, path); });
  unset->add_option("path", path, "dotted path (a.b[0].c)")->required();
  bool create = false;
  auto flag = command("flag", "switch feature NAME on or off",
                      "cfgctl flag new_algorithm on --consistency all",
                      [&](const context& c) {
                        return cmd_flag(c, name, state == "on", create);
                      });
  flag->add_option("name", name, "the flag (features.NAME)")->required();
  flag->add_option("state", state, "on or off")
    ->required()
    ->check(CLI::IsMember({"on", "off"}).description(""));
  flag->add_flag("--create", create,
                 "create the flag if it does not exist (else: refused)");
  auto watch = command("watch", "print one line per change under PREFIX",
                       "cfgctl --json watch logging",
                       [&](const context& c) { return cmd_watch(c, prefix); });
  watch->add_option("prefix", prefix,
                    "dotted path; only changes at or below it (all when "
                    "left out)");
  auto history = command("history", "list the latest versions",
                         "cfgctl history --limit 5",
                         [&](const context& c) {
                           return cmd_history(c, limit);
                         });
  history->add_option("--limit", limit, "how many versions, newest first")
    ->capture_default_str();
  auto diff = command("diff",
                      "what changed from version FROM to TO (without them: "
                      "the last change)",
                      "cfgctl diff 3 7 (or cfgctl diff: the last change)",
                      [&](const context& c) { return cmd_diff(c, from, to); });
  auto from_opt = diff->add_option("from", from, "the older version");
  from_opt->needs(diff->add_option("to", to, "the newer version"));
  auto rollback = command("rollback", "restore VERSION as a new version",
                          "cfgctl rollback 3 --dry-run",
                          [&](const context& c) {
                            return cmd_rollback(c, version);
                          });
  rollback->add_option("version", version, "a version of `cfgctl history`")
    ->required();
  command("nodes", "list the cluster's nodes", "cfgctl nodes",
          [](const context& c) { return cmd_nodes(c); });
  command("resync",
          "on a replica: install whatever its primary has (after the "
          "primary lost its history)",
          "cfgctl --url http://127.0.0.1:7071 resync",
          [](const context& c) { return cmd_resync(c); });
  command("sources", "show each source's status", "cfgctl sources",
          [](const context& c) { return cmd_sources(c); });
  std::vector<std::string> attributes;
  std::string keys_file;
  auto eval = command(
    "eval",
    "evaluate flag NAME here, for the context KEY=VALUE ...: prints "
    "value, variant and reason (OFREP's and the library's)",
    "cfgctl eval new_checkout targetingKey=user-42 tenant=acme",
    [&](const context& c) {
      return cmd_eval(c, name, attributes, keys_file);
    });
  eval->add_option("name", name, "the flag (features.NAME)")->required();
  eval->add_option("attributes", attributes,
                   "context attributes; targetingKey=ID is the key of "
                   "rollouts and variants")
    ->type_name("KEY=VALUE");
  eval->add_option("--targeting-keys", keys_file,
                   "evaluate once per line of FILE as targetingKey, one JSON "
                   "line each")
    ->type_name("FILE");
  // Offline: runs before any token is read (see below), not through `run`.
  auto validate = command(
    "validate", "check FILE offline (syntax, and --schema if given)",
    "cfgctl validate config.yaml --schema schema.json",
    [](const context&) { return exit_usage; });
  cfgctl::validate_options validate_opts;
  cfgctl::add_validate_options(*validate, validate_opts);
  std::string push_file;
  auto push = command("push",
                      "make FILE (YAML or JSON) the runtime layer: PUT /config",
                      "cfgctl push app.yaml --dry-run",
                      [&](const context& c) { return cmd_push(c, push_file); });
  push->add_option("file", push_file, "a YAML or JSON config file")
    ->required();

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? exit_ok : exit_usage;
  }
  if (validate->parsed())
    return cmd_validate(validate_opts, as_json);
  // Asked of a command that would act anyway, it must refuse.
  if (dry_run && !(set->parsed() || unset->parsed() || flag->parsed()
                   || rollback->parsed() || push->parsed())) {
    std::cerr << "cfgctl: --dry-run applies to set, unset, flag, rollback "
                 "and push\n";
    return exit_usage;
  }
  // Refused here as cfgd would refuse it, before a token is read.
  if (auto problem = cfgactors::reason_problem(reason)) {
    std::cerr << "cfgctl: --reason is " << *problem << '\n';
    return exit_usage;
  }
  std::string error;
  auto ep = endpoint::parse(url, error);
  if (!ep) {
    std::cerr << "cfgctl: --url: " << error << '\n';
    return exit_usage;
  }
  std::string token;
  if (!load_token(token_file, token))
    return exit_usage;
  // watch talks WebSocket to /ws: name the URL it would really use.
  auto target = url;
  if (watch->parsed()) {
    auto host = ep->host.find(':') == std::string::npos ? ep->host
                                                        : "[" + ep->host + "]";
    target = "ws://" + host + ":" + std::to_string(ep->port) + ep->base
             + "/ws";
  }
  // cfgctl speaks TLS for requests (cpp-httplib with OpenSSL, certificates
  // verified), not for watch.
  if (!plain_text_allowed(*ep, token, target, insecure, !watch->parsed()))
    return exit_usage;
  client cli{*ep, token, std::chrono::milliseconds{timeout_ms}};
  cli.idempotency_key(idempotency_key);
  cli.reason(reason);
  cli.if_match(if_match);
  context ctx{cli, as_json, consistency, dry_run};
  for (auto& [sub, run] : commands)
    if (sub->parsed())
      return run(ctx);
  return exit_usage;
}

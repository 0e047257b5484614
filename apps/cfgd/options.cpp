// Command line and options file of cfgd. The options file is YAML whose keys
// are the long flag names (`file: [a.yaml]`, `http: 127.0.0.1:7070`); CLI11
// reads it through a Config adapter, so flags given on the command line win
// and every validator applies to both.
#include "options.hpp"

#include <charconv>
#include <iterator>
#include <memory>
#include <iostream>
#include <tuple>
#include <utility>

#include <unistd.h>

#include <CLI/CLI.hpp>

#include "cfgactors/env_source.hpp"
#include "cfgactors/parse.hpp"

#include "api/auth.hpp"

namespace cfgd {

std::optional<host_port> host_port::parse(const std::string& text,
                                          std::string* error) {
  auto fail = [&](std::string msg) -> std::optional<host_port> {
    if (error)
      *error = std::move(msg);
    return std::nullopt;
  };
  std::string host;
  std::string port;
  if (!text.empty() && text.front() == '[') {
    auto close = text.find(']');
    if (close == std::string::npos || close + 1 >= text.size()
        || text[close + 1] != ':')
      return fail("expected [IPV6]:PORT, got '" + text + "'");
    host = text.substr(1, close - 1);
    port = text.substr(close + 2);
  } else {
    auto colon = text.rfind(':');
    if (colon == std::string::npos)
      return fail("expected HOST:PORT, got '" + text + "'");
    host = text.substr(0, colon);
    port = text.substr(colon + 1);
    if (host.find(':') != std::string::npos)
      return fail("write an IPv6 address in brackets: [" + host + "]:" + port);
  }
  if (host.empty())
    return fail("missing host in '" + text + "'");
  unsigned value = 0;
  auto [ptr, ec] = std::from_chars(port.data(), port.data() + port.size(),
                                   value);
  if (port.empty() || ec != std::errc{} || ptr != port.data() + port.size()
      || value > 65535)
    return fail("port must be a number in 0..65535, got '" + port + "'");
  return host_port{std::move(host), static_cast<uint16_t>(value)};
}

namespace {

std::string hostname() {
  char buf[256] = {};
  if (gethostname(buf, sizeof(buf) - 1) != 0 || buf[0] == '\0')
    return "localhost";
  return buf;
}

/// Reads cfgd's YAML options file for CLI11: one ConfigItem per top-level
/// key; a list becomes several inputs of the same option.
class yaml_options_file : public CLI::Config {
public:
  explicit yaml_options_file(const CLI::App* app) : app_(app) {
    // nop
  }

  std::string to_config(const CLI::App*, bool, bool,
                        std::string) const override {
    return {}; // cfgd never writes its options back
  }

  std::vector<CLI::ConfigItem> from_config(std::istream& in) const override {
    std::string text{std::istreambuf_iterator<char>{in}, {}};
    auto source = source_name();
    auto doc = cfgactors::parse_document(text, cfgactors::document_format::yaml,
                                         source);
    if (!doc)
      throw CLI::ConfigError(doc.error->str());
    if (!doc.value.is_object())
      throw CLI::ConfigError(source + ": expected a mapping of option names");
    std::vector<CLI::ConfigItem> items;
    for (auto& [key, value] : doc.value.items()) {
      CLI::ConfigItem item;
      item.name = key;
      // `node_name` and `node-name` both name --node-name.
      for (auto& c : item.name)
        if (c == '_')
          c = '-';
      if (app_->get_option_no_throw("--" + item.name) == nullptr)
        throw CLI::ConfigError(source + ": unknown option '" + key + "'");
      if (value.is_null())
        continue;
      if (value.is_array()) {
        for (auto& x : value)
          item.inputs.push_back(scalar(source, key, x));
      } else {
        item.inputs.push_back(scalar(source, key, value));
      }
      items.push_back(std::move(item));
    }
    return items;
  }

private:
  std::string source_name() const {
    if (auto opt = app_->get_config_ptr(); opt && opt->count() > 0)
      return opt->as<std::string>();
    return "config-file";
  }

  static std::string scalar(const std::string& source, const std::string& key,
                            const cfgactors::json& x) {
    if (x.is_string())
      return x.get<std::string>();
    if (x.is_boolean() || x.is_number())
      return x.dump();
    throw CLI::ConfigError(source + ": option '" + key
                           + "' takes a value or a list of values");
  }

  const CLI::App* app_;
};

} // namespace

std::optional<options> parse_options(int argc, char** argv, int& exit_code) {
  options opts;
  opts.node_name = hostname();
  std::string http = "127.0.0.1:7070";
  std::string logs = "text";
  std::vector<std::string> files;
  // --http and --join take the same HOST:PORT form.
  const CLI::Validator is_host_port{
    [](std::string& text) {
      std::string error;
      return host_port::parse(text, &error) ? std::string{} : error;
    },
    "", "host_port"};
  std::string token_file;
  std::string read_token_file;
  std::string remote_token_file;
  std::string ws_token_file;
  CLI::App app{"cfgd: the cfgactors configuration daemon. Runs the config "
               "pipeline and serves it over HTTP.",
               "cfgd"};
  app.set_config("--config-file", "",
                 "cfgd's own options as YAML; keys are the long flag names "
                 "(flags given here win)")
    ->type_name("PATH");
  app.config_formatter(std::make_shared<yaml_options_file>(&app));
  app.add_option("--file", files,
                 "configuration file (YAML or JSON), one layer each, lowest "
                 "precedence first; repeatable; watched for changes. `?PATH` "
                 "marks an optional file. Without it cfgd runs on its "
                 "embedded example config")
    ->type_name("PATH")
    ->allow_extra_args(false);
  app.add_option("--watch-debounce-ms", opts.debounce_ms,
                 "quiet time after a file event before the files are read")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(0u, 60000u).description(""));
  app.add_option("--file-poll-ms", opts.file_poll_ms,
                 "also re-read the files on this interval (0: inotify only)")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(0u, 3600000u).description(""));
  app.add_option("--env-prefix", opts.env_prefix,
                 "read PREFIX* environment variables as the env layer "
                 "(PREFIX_A__B=x sets a.b)")
    ->type_name("PREFIX");
  app.add_option("--env-separator", opts.env_separator,
                 "what separates nested keys in a variable's name")
    ->type_name("SEP")
    ->capture_default_str();
  std::string env_case = "lower";
  app.add_option("--env-case", env_case,
                 "keys from variable names: lower-cased or as written")
    ->type_name("lower|preserve")
    ->capture_default_str()
    ->check(CLI::IsMember({"lower", "preserve"}));
  std::vector<std::string> env_maps;
  app.add_option("--env-map", env_maps,
                 "read variable NAME as PATH (PROVIDE_LOG_LEVEL=logging.level),"
                 " with or without the prefix; repeatable")
    ->type_name("NAME=PATH");
  app.add_option("--env-poll-ms", opts.env_poll_ms,
                 "how often the environment is compared (0: read once)")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(0u, 3600000u).description(""));
  app.add_option("--token-file", token_file,
                 "tokens, one per line (else CFGD_TOKEN): a bare token may "
                 "read and write; NAME:SCOPES:TOKEN has the scopes listed "
                 "(read, write, secrets) and writes as api:NAME; without a "
                 "write token the API is read-only")
    ->type_name("PATH");
  app.add_option("--read-token-file", read_token_file,
                 "read tokens, one per line (else CFGD_READ_TOKEN), bare or "
                 "NAME:SCOPES:TOKEN; with one, reads need a token")
    ->type_name("PATH");
  app.add_option("--secrets-key-file", opts.secrets_key_file,
                 "key that seals secret values in the journal (32 bytes or "
                 "64 hex digits, mode 0600); default: DATA_DIR/secrets.key, "
                 "created when missing")
    ->type_name("PATH");
  app.add_option("--max-timeout-ms", opts.max_timeout_ms,
                 "the longest ?timeout_ms= a write may ask for")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(1u, 600000u).description(""));
  app.add_option("--remote", opts.remote,
                 "poll GET URL/config of a config server as the remote layer")
    ->type_name("URL");
  app.add_option("--remote-token-file", remote_token_file,
                 "bearer token for --remote (else CFGD_REMOTE_TOKEN)")
    ->type_name("PATH");
  app.add_option("--remote-interval-ms", opts.remote_interval_ms,
                 "poll interval of --remote")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(10u, 3600000u).description(""));
  app.add_option("--ws", opts.ws,
                 "connect to URL/ws and apply the config actions it pushes")
    ->type_name("URL");
  app.add_option("--ws-token-file", ws_token_file,
                 "bearer token for --ws (else CFGD_WS_TOKEN)")
    ->type_name("PATH");
  app.add_option("--service", opts.service,
                 "service name sent when registering with --ws (default: "
                 "the node name)")
    ->type_name("NAME");
  // TLS of --remote and --ws, their timing, and a remote required at start.
  auto ms_range = [](uint32_t lo, uint32_t hi) {
    return CLI::Range(lo, hi).description("");
  };
  for (auto [flag, file, what] :
       {std::tuple{"--remote-ca-file", &opts.remote_ca_file,
                   "https: the CA the server's certificate must chain to "
                   "(default: the system's CAs); its name is checked too"},
        std::tuple{"--remote-cert-file", &opts.remote_cert_file,
                   "https: client certificate for mutual TLS"},
        std::tuple{"--remote-key-file", &opts.remote_key_file,
                   "https: the client certificate's key (default: in the "
                   "certificate file)"},
        std::tuple{"--ws-ca-file", &opts.ws_ca_file,
                   "wss: as --remote-ca-file, for --ws"},
        std::tuple{"--ws-cert-file", &opts.ws_cert_file,
                   "wss: client certificate for mutual TLS"},
        std::tuple{"--ws-key-file", &opts.ws_key_file,
                   "wss: the client certificate's key"}})
    app.add_option(flag, *file, what)->type_name("PATH")->check(
      CLI::ExistingFile);
  app.add_option("--remote-backoff-ms", opts.remote_backoff_ms,
                 "first delay after a failed poll of --remote, doubling "
                 "from there (default: 2 x --remote-interval-ms)")
    ->type_name("MS")
    ->check(ms_range(1u, 3600000u));
  app.add_option("--remote-max-backoff-ms", opts.remote_max_backoff_ms,
                 "cap of --remote's doubling delay")
    ->type_name("MS")
    ->capture_default_str()
    ->check(ms_range(1u, 3600000u));
  app.add_flag("--remote-required", opts.remote_required,
               "start (listen, /readyz) only once --remote and --ws have "
               "answered; exit if one fails for good (401, 403, 404, a "
               "refused certificate) or --remote-required-timeout-ms passes");
  app.add_option("--remote-required-timeout-ms",
                 opts.remote_required_timeout_ms,
                 "how long --remote-required waits")
    ->type_name("MS")
    ->capture_default_str()
    ->check(ms_range(1u, 3600000u));
  app.add_option("--ws-min-backoff-ms", opts.ws_min_backoff_ms,
                 "first reconnect delay of --ws, doubling from there")
    ->type_name("MS")
    ->capture_default_str()
    ->check(ms_range(1u, 3600000u));
  app.add_option("--ws-max-backoff-ms", opts.ws_max_backoff_ms,
                 "cap of --ws's reconnect delay")
    ->type_name("MS")
    ->capture_default_str()
    ->check(ms_range(1u, 3600000u));
  app.add_option("--ws-heartbeat-ms", opts.ws_heartbeat_ms,
                 "ping --ws after this long without data; drop and "
                 "reconnect after as long again")
    ->type_name("MS")
    ->capture_default_str()
    ->check(ms_range(100u, 3600000u));
  app.add_option("--service-version", opts.service_version,
                 "service version sent when registering with --ws")
    ->type_name("VERSION")
    ->capture_default_str();
  app.add_option("--schema", opts.schema,
                 "JSON Schema (draft 7) every config must satisfy")
    ->type_name("PATH");
  app
    .add_option("--http", http,
                "HTTP address HOST:PORT (port 0 picks a free port)")
    ->type_name("HOST:PORT")
    ->capture_default_str()
    ->check(is_host_port);
  app.add_option("--allowed-host", opts.allowed_hosts,
                 "a Host header to answer besides --http's address (and "
                 "localhost's, on loopback); repeat for more")
    ->type_name("HOST[:PORT]");
  app.add_option("--allowed-origin", opts.allowed_origins,
                 "a browser Origin that may read, write and open /ws "
                 "(e.g. https://admin.example.com); repeat for more")
    ->type_name("ORIGIN");
  app.add_option("--max-connections", opts.max_connections,
                 "open HTTP and WebSocket connections at most; more are "
                 "answered 503 and closed")
    ->capture_default_str()
    ->check(CLI::PositiveNumber.description(""));
  app.add_option("--max-connections-per-peer", opts.max_connections_per_peer,
                 "open connections at most from one address")
    ->capture_default_str()
    ->check(CLI::PositiveNumber.description(""));
  app.add_option("--ofrep-max-streams", opts.ofrep_max_streams,
                 "open OFREP event streams (GET /ofrep/v1/events) at most; "
                 "more are answered 503")
    ->capture_default_str()
    ->check(CLI::PositiveNumber.description(""));
  app.add_option("--node-name", opts.node_name, "name of this node")
    ->type_name("NAME")
    ->capture_default_str();
  app.add_option("--log-format", logs, "log lines as text (key=value) or json")
    ->type_name("text|json")
    ->capture_default_str()
    ->check(CLI::IsMember({"text", "json"}).description(""));
  app
    .add_option("--scheduler", opts.scheduler,
                "CAF scheduler policy (work stealing spins on idle cores)")
    ->type_name("sharing|stealing")
    ->capture_default_str()
    ->check(CLI::IsMember({"sharing", "stealing"}).description(""));
  app.add_option("--threads", opts.threads,
                 "CAF scheduler threads (0: one per core; 1 measured best "
                 "for latency on shared cores)")
    ->type_name("N")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{0}, std::size_t{256}).description(""));
  app.add_option("--io-workers", opts.io_workers,
                 "CAF middleman threads that decode cluster messages (0: the "
                 "I/O thread decodes them itself; -1: CAF's default)")
    ->type_name("N")
    ->capture_default_str()
    ->check(CLI::Range(-1, 64).description(""));
  app.add_option("--history", opts.history,
                 "versions kept in history (1..1000000)")
    ->type_name("N")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1}, std::size_t{1000000}).description(""));
  std::string join;
  std::string cluster_listen;
  auto* cluster_port_opt =
    app.add_option("--cluster-port", opts.cluster_port,
                   "publish this primary to replicas on 127.0.0.1:PORT")
      ->type_name("PORT");
  app
    .add_option("--cluster-listen", cluster_listen,
                "publish this primary to replicas on HOST:PORT; any address "
                "but loopback needs --cluster-secret-file")
    ->type_name("HOST:PORT")
    ->check(is_host_port)
    ->excludes(cluster_port_opt);
  app.add_option("--cluster-secret-file", opts.cluster_secret_file,
                 "the shared cluster secret (one line, at least 16 bytes, "
                 "mode 0600): replicas and primary prove it to each other")
    ->type_name("PATH");
  app.add_option("--max-replicas", opts.max_replicas,
                 "replicas a primary knows at most, connected or not")
    ->type_name("N")
    ->capture_default_str()
    ->check(CLI::Range(std::size_t{1}, std::size_t{100000}).description(""));
  app.add_option("--cluster-link-timeout-ms", opts.link_timeout_ms,
                 "cut a cluster link silent this long (both ends send a "
                 "heartbeat every quarter of it): how soon a partitioned "
                 "replica reports stale")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(uint64_t{100}, uint64_t{3600000}).description(""));
  app.add_option("--cluster-handshake-timeout-ms", opts.handshake_timeout_ms,
                 "close a cluster peer that has not proved the secret by "
                 "then")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(uint64_t{100}, uint64_t{600000}).description(""));
  app.add_option("--cluster-connect-timeout-ms", opts.connect_timeout_ms,
                 "replica: give up a connect to the primary after this "
                 "long, then back off")
    ->type_name("MS")
    ->capture_default_str()
    ->check(CLI::Range(uint64_t{100}, uint64_t{600000}).description(""));
  std::string advertise;
  app.add_option("--advertise", advertise,
                 "where peers should reach this node's cluster port, when "
                 "it is not the listen address (0.0.0.0, NAT); shown in "
                 "/nodes")
    ->type_name("HOST:PORT")
    ->check(is_host_port);
  app
    .add_option("--join", join,
                "run as a read-only replica of the primary at HOST:PORT; "
                "writes are forwarded to it")
    ->type_name("HOST:PORT")
    ->check(is_host_port);
  app.add_option("--write-timeout-ms", opts.write_timeout_ms,
                 "default timeout of majority/all writes")
    ->type_name("MS")
    ->capture_default_str();
  app.add_option("--forget-after-ms", opts.forget_after_ms,
                 "forget a replica disconnected this long (0 = never; "
                 "DELETE /nodes/NAME forgets one at once)")
    ->type_name("MS")
    ->capture_default_str();
  app.add_flag("--cluster-secrets", opts.cluster_secrets,
               "replica: receive secret values from the primary (else it "
               "gets them masked and serves `***` to every reader)");
  app.add_option("--ack-delay-ms", opts.ack_delay_ms,
                 "replica: ack versions no write waits for this long after "
                 "the first, in one ack (0: ack each at once)")
    ->type_name("MS")
    ->capture_default_str();
  app.add_option("--data-dir", opts.data_dir,
                 "keep every version in DIR/journal.db (SQLite; created if "
                 "missing) and continue from it after a restart")
    ->type_name("DIR");
  app.add_option("--retention", opts.retention,
                 "versions kept in the journal (0: all)")
    ->type_name("N")
    ->capture_default_str()
    ->check(CLI::NonNegativeNumber.description(""));
  app.add_option("--etcd", opts.etcd,
                 "etcd mode: make this etcd cluster the authority; every "
                 "cfgd with the same --cluster-name takes writes "
                 "(docs/CLUSTER.md)")
    ->type_name("URL[,URL...]")
    ->delimiter(',');
  app.add_option("--cluster-name", opts.cluster_name,
                 "etcd mode: the cluster's name, its keys' prefix "
                 "/cfgactors/NAME/")
    ->type_name("NAME");
  app.add_option("--etcd-cacert", opts.etcd_cacert,
                 "etcd mode: the CA that signed etcd's certificates")
    ->type_name("PATH")
    ->check(CLI::ExistingFile);
  app.add_option("--etcd-cert", opts.etcd_cert,
                 "etcd mode: this node's client certificate")
    ->type_name("PATH")
    ->check(CLI::ExistingFile);
  app.add_option("--etcd-key", opts.etcd_key,
                 "etcd mode: the client certificate's key")
    ->type_name("PATH")
    ->check(CLI::ExistingFile);
  app.add_option("--etcd-user", opts.etcd_user,
                 "etcd mode: the etcd user (etcd auth)")
    ->type_name("NAME");
  app.add_option("--etcd-password-file", opts.etcd_password_file,
                 "etcd mode: the file holding the user's password (mode "
                 "0600)")
    ->type_name("PATH");
  app.add_option("--etcd-secrets-key-file", opts.etcd_secrets_key_file,
                 "etcd mode: seal every secret value in etcd with this key "
                 "(32 bytes or 64 hex digits, mode 0600, the same on every "
                 "node; openssl rand -hex 32)")
    ->type_name("PATH");
  app.add_option("--etcd-history", opts.etcd_history,
                 "etcd mode: versions kept in etcd (0: all); the journal "
                 "keeps more")
    ->type_name("N")
    ->capture_default_str();
  app.add_option("--etcd-max-request-bytes", opts.etcd_max_request_bytes,
                 "etcd mode: the largest request etcd takes (its "
                 "--max-request-bytes); a version whose record would be "
                 "larger is refused, naming both sizes")
    ->type_name("BYTES")
    ->check(CLI::Range(std::size_t{4096}, std::size_t{1} << 31))
    ->capture_default_str();
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    exit_code = app.exit(e) == 0 ? exit_ok : exit_usage;
    return std::nullopt;
  }
  opts.config_file = app.get_config_ptr()->count() > 0
                       ? app.get_config_ptr()->as<std::string>()
                       : std::string{};
  opts.http = *host_port::parse(http);
  if (!join.empty())
    opts.join = host_port::parse(join);
  if (!advertise.empty())
    opts.advertise = host_port::parse(advertise);
  if (!cluster_listen.empty())
    opts.cluster_listen = host_port::parse(cluster_listen);
  else if (opts.cluster_port != 0)
    opts.cluster_listen = host_port{"127.0.0.1", opts.cluster_port};
  if (opts.join && (!opts.etcd.empty() || !opts.cluster_name.empty())) {
    std::cerr << "--join and --etcd: a replica follows its host's cfgd, "
                 "which follows etcd\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  if (opts.etcd.empty() != opts.cluster_name.empty()) {
    std::cerr << "--etcd and --cluster-name go together\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  if (opts.join && opts.cluster_listen) {
    std::cerr << "--join and --cluster-port/--cluster-listen: a replica does "
                 "not publish\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  opts.env_preserve_case = env_case == "preserve";
  for (auto& m : env_maps) {
    auto eq = m.find('=');
    auto name = m.substr(0, eq);
    if (eq == std::string::npos || name.empty()) {
      std::cerr << "--env-map: expected NAME=PATH, got '" << m << "'\n";
      exit_code = exit_usage;
      return std::nullopt;
    }
    if (!opts.env_map.emplace(name, m.substr(eq + 1)).second) {
      std::cerr << "--env-map: " << name << " is mapped twice\n";
      exit_code = exit_usage;
      return std::nullopt;
    }
  }
  if (opts.env_prefix.empty()
      && (!opts.env_map.empty() || opts.env_separator != "__"
          || opts.env_preserve_case)) {
    std::cerr << "--env-map, --env-separator and --env-case need "
                 "--env-prefix\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  if (!opts.env_prefix.empty()) {
    cfgactors::env_source_options env;
    env.prefix = opts.env_prefix;
    env.separator = opts.env_separator;
    env.map = opts.env_map;
    if (auto bad = cfgactors::check_env_options(env); !bad.empty()) {
      std::cerr << "--env-*: " << bad << '\n';
      exit_code = exit_usage;
      return std::nullopt;
    }
  }
  for (auto& f : files) {
    if (f.empty() || f == "?") {
      std::cerr << "--file: needs a path\n";
      exit_code = exit_usage;
      return std::nullopt;
    }
    if (f.front() == '?')
      opts.files.push_back(file_option{f.substr(1), true});
    else
      opts.files.push_back(file_option{f, false});
  }
  // Tokens: from files or the environment, never from the command line.
  std::string error;
  auto tokens_of = [&error](const std::string& file, const char* env_var,
                            unsigned scopes) {
    auto text = read_token_source(file, env_var, error);
    if (!text)
      return std::optional<std::vector<token_entry>>{};
    auto source = file.empty() ? std::string{env_var} : file;
    auto entries = parse_tokens(*text, scopes, source, error);
    if (entries && entries->empty() && !file.empty()) {
      error = file + ": the token file holds no token";
      return std::optional<std::vector<token_entry>>{};
    }
    return entries;
  };
  auto write_tokens = tokens_of(token_file, "CFGD_TOKEN",
                                scope_read | scope_write);
  auto read_tokens = write_tokens ? tokens_of(read_token_file,
                                              "CFGD_READ_TOKEN", scope_read)
                                  : std::nullopt;
  auto remote_token = read_tokens ? load_tokens(remote_token_file,
                                                "CFGD_REMOTE_TOKEN", error)
                                  : std::nullopt;
  auto ws_token = remote_token ? load_tokens(ws_token_file, "CFGD_WS_TOKEN",
                                             error)
                               : std::nullopt;
  if (!ws_token) {
    std::cerr << error << "\n";
    exit_code = exit_failure;
    return std::nullopt;
  }
  opts.reads_need_token = !read_tokens->empty();
  opts.tokens = std::move(*write_tokens);
  opts.tokens.insert(opts.tokens.end(), read_tokens->begin(),
                     read_tokens->end());
  for (std::size_t i = 0; i < opts.tokens.size(); ++i)
    for (std::size_t j = 0; j < i; ++j)
      if (!opts.tokens[i].name.empty()
          && opts.tokens[i].name == opts.tokens[j].name) {
        std::cerr << "token name '" << opts.tokens[i].name
                  << "' appears in both token files\n";
        exit_code = exit_failure;
        return std::nullopt;
      }
  // A client presents one token: the first line of its file.
  opts.remote_token = remote_token->empty() ? std::string{} : remote_token->front();
  opts.ws_token = ws_token->empty() ? std::string{} : ws_token->front();
  opts.logs = logs == "json" ? log_format::json : log_format::text;
  if (opts.node_name.empty()) {
    std::cerr << "--node-name: must not be empty\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  if (opts.service.empty())
    opts.service = opts.node_name;
  if (opts.service_version.empty()) {
    std::cerr << "--service-version: must not be empty\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  if (opts.remote_required && opts.remote.empty() && opts.ws.empty()) {
    std::cerr << "--remote-required: needs --remote or --ws\n";
    exit_code = exit_usage;
    return std::nullopt;
  }
  return opts;
}

} // namespace cfgd

// cfgd's own options: command line (CLI11) over an optional YAML options file.
#pragma once

#include <cstddef>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "cfgactors/node_options.hpp"

#include "api/auth.hpp"

namespace cfgd {

enum class log_format { text, json };

/// HOST:PORT as given to --http. `host` has no brackets (IPv6 is written
/// `[::1]:7070` on the command line).
struct host_port {
  std::string host;
  uint16_t port = 0;

  /// Parses `host:port`, `[v6]:port`; nullopt and `error` on bad input.
  static std::optional<host_port> parse(const std::string& text,
                                        std::string* error = nullptr);
};

/// One --file: `?PATH` marks an optional file.
struct file_option {
  std::string path;
  bool optional = false;
};

struct options {
  std::string config_file;        ///< --config-file (empty: none)
  std::vector<file_option> files; ///< --file, in the order given
  uint32_t debounce_ms = 100;     ///< --watch-debounce-ms
  uint32_t file_poll_ms = 0;      ///< --file-poll-ms (0: inotify only)
  std::string env_prefix;         ///< --env-prefix (empty: no env source)
  uint32_t env_poll_ms = 1000;    ///< --env-poll-ms
  std::string env_separator = "__";       ///< --env-separator
  bool env_preserve_case = false;         ///< --env-case preserve
  std::map<std::string, std::string> env_map; ///< --env-map NAME=PATH
  /// From --token-file / CFGD_TOKEN (bare tokens: read, write) and
  /// --read-token-file / CFGD_READ_TOKEN (bare tokens: read).
  std::vector<token_entry> tokens;
  bool reads_need_token = false; ///< a read token file or variable was given
  std::string secrets_key_file;  ///< --secrets-key-file (empty: in data dir)
  uint32_t max_timeout_ms = 60000; ///< --max-timeout-ms: cap of ?timeout_ms=
  std::string remote;             ///< --remote: a config server to poll
  std::string remote_token;       ///< from --remote-token-file / CFGD_REMOTE_TOKEN
  uint32_t remote_interval_ms = 5000; ///< --remote-interval-ms
  std::string ws;                 ///< --ws: a WebSocket config server
  std::string ws_token;           ///< from --ws-token-file / CFGD_WS_TOKEN
  std::string service;            ///< --service (default: the node name)
  // The remote sources' TLS, timing and start (docs/SOURCES.md).
  std::string remote_ca_file, remote_cert_file, remote_key_file;
  uint32_t remote_backoff_ms = 0;          ///< --remote-backoff-ms (0: 2 × interval)
  uint32_t remote_max_backoff_ms = 60000;  ///< --remote-max-backoff-ms
  bool remote_required = false;            ///< --remote-required
  uint32_t remote_required_timeout_ms = 30000; ///< --remote-required-timeout-ms
  std::string ws_ca_file, ws_cert_file, ws_key_file;
  uint32_t ws_min_backoff_ms = 100;    ///< --ws-min-backoff-ms
  uint32_t ws_max_backoff_ms = 10000;  ///< --ws-max-backoff-ms
  uint32_t ws_heartbeat_ms = 15000;    ///< --ws-heartbeat-ms
  std::string service_version = "0.0.0"; ///< --service-version
  std::string schema;             ///< --schema (empty: none, or embedded)
  host_port http{"127.0.0.1", 7070};
  std::vector<std::string> allowed_hosts;   ///< --allowed-host
  std::vector<std::string> allowed_origins; ///< --allowed-origin
  std::size_t max_connections = 1024;         ///< --max-connections
  std::size_t max_connections_per_peer = 64;  ///< --max-connections-per-peer
  std::size_t ofrep_max_streams = 256;        ///< --ofrep-max-streams
  std::string node_name;          ///< --node-name (default: hostname)
  log_format logs = log_format::text;
  std::string scheduler = "sharing"; ///< CAF scheduler.policy
  /// CAF scheduler.max-threads (0: one per core). One by default: cfgd's
  /// actors hand each version on in a chain, and one thread runs the chain
  /// without waking another per hop (docs/BENCHMARKS.md); what may block
  /// (journal, HTTP polling) runs on threads of its own anyway.
  std::size_t threads = 1;
  int io_workers = -1;        ///< CAF middleman.workers (-1: CAF's default)
  std::size_t history = 100;         ///< store history size
  uint16_t cluster_port = 0;  ///< --cluster-port: publish the primary (0: no)
  /// --cluster-listen HOST:PORT (or --cluster-port PORT: 127.0.0.1:PORT)
  std::optional<host_port> cluster_listen;
  std::string cluster_secret_file; ///< --cluster-secret-file
  std::size_t max_replicas = 256;  ///< --max-replicas
  /// --cluster-link-timeout-ms: a silent link is cut after this long
  uint64_t link_timeout_ms = 5000;
  /// --cluster-handshake-timeout-ms: a peer proves the secret by then
  uint64_t handshake_timeout_ms = 10000;
  /// --cluster-connect-timeout-ms: a replica's connect to its primary
  uint64_t connect_timeout_ms = 2000;
  /// --advertise HOST:PORT: where peers should reach this node
  std::optional<host_port> advertise;
  std::optional<host_port> join; ///< --join: run as a replica of that primary
  uint32_t write_timeout_ms = 5000; ///< --write-timeout-ms: majority/all writes
  uint64_t forget_after_ms = 600000; ///< --forget-after-ms: 0 = never
  bool cluster_secrets = false; ///< --cluster-secrets: a replica gets them
  uint32_t ack_delay_ms = 20; ///< --ack-delay-ms: a replica's cumulative acks
  std::string data_dir;              ///< --data-dir: journal (empty: memory)
  std::size_t retention = 0;         ///< --retention: versions on disk (0: all)
  /// etcd mode (docs/CLUSTER.md): --etcd URL[,URL...] --cluster-name NAME
  std::vector<std::string> etcd;
  std::string cluster_name;
  std::string etcd_cacert, etcd_cert, etcd_key; ///< --etcd-cacert/-cert/-key
  std::string etcd_user, etcd_password_file;
  std::size_t etcd_history = 1000; ///< --etcd-history: versions kept in etcd
  /// --etcd-max-request-bytes: etcd's own --max-request-bytes
  std::size_t etcd_max_request_bytes
    = cfgactors::etcd_default_max_request_bytes;
  std::string etcd_secrets_key_file; ///< --etcd-secrets-key-file
};

/// Exit codes of cfgd.
inline constexpr int exit_ok = 0;
inline constexpr int exit_failure = 1; ///< bad config, schema, bind error, ...
inline constexpr int exit_usage = 2;   ///< bad options

/// Parses argv (and the --config-file it names). Returns nullopt and sets
/// `exit_code` when cfgd should exit now: 0 after --help, `exit_usage` after
/// an error (already printed to stderr).
std::optional<options> parse_options(int argc, char** argv, int& exit_code);

} // namespace cfgd

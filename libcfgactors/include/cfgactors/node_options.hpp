// node_options: what a service asks of its cfgactors node, as a fluent
// builder:
//
//   cfgactors::node_options{}.file("config.yaml").env("APP_")
//     .schema("schema.json").data_dir("var").cluster_port(4242)
#pragma once

#include <chrono>
#include <cstddef>
#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <caf/actor_system_config.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/env_source.hpp"
#include "cfgactors/file_source.hpp"
#include "cfgactors/fwd.hpp"
#include "cfgactors/contract_registry.hpp"
#include "cfgactors/rules.hpp"
#include "cfgactors/schema.hpp"

namespace cfgactors {

class node;

/// etcd's own default --max-request-bytes (1.5 MiB): the largest request a
/// node assumes etcd takes unless told otherwise
/// (node_options::etcd_max_request_bytes, cfgd --etcd-max-request-bytes).
inline constexpr std::size_t etcd_default_max_request_bytes = 1536 * 1024;

class node_options {
public:
  /// A YAML or JSON file; later files win. It must exist and parse.
  node_options& file(std::string path);

  /// A file that may be missing (an empty layer until it appears).
  node_options& optional_file(std::string path);

  /// Quiet time after a file changed before it is read (default 100 ms).
  node_options& file_debounce(std::chrono::milliseconds x);

  /// Also re-reads the files on this interval (default 0: inotify only).
  node_options& file_poll(std::chrono::milliseconds x);

  /// Environment variables starting with `prefix` (`APP_LOGGING__LEVEL`).
  node_options& env(std::string prefix = "CFG_");

  /// The environment with `x`'s prefix, separator, case, mappings and
  /// change listener (env_source.hpp); the poll interval is env_poll's and
  /// the schema the node's.
  node_options& env(env_source_options x);

  /// How often the environment is polled (default 1 s).
  node_options& env_poll(std::chrono::milliseconds x);

  /// A JSON Schema (draft 7) file, YAML or JSON, that every version must
  /// satisfy; also types the environment's values.
  node_options& schema(std::string path);

  /// A schema compiled by the caller.
  node_options& schema(json_schema_ptr x);

  /// Rules checked in code on every version.
  node_options& rules(rule_set x);
  /// Component contracts (contract_registry.hpp) the validator consults on
  /// every write: their vetoes and schema_version minimums. Contracts may be
  /// added to and removed from the registry while the node runs.
  node_options& contracts(std::shared_ptr<const contract_registry> x);

  /// The `defaults` layer: below every file. `origin` names it in the
  /// history.
  node_options& defaults(json x, std::string origin = "defaults:node");

  /// Where the journal lives (durable history, restart from the last
  /// version). Without it, history is in memory only.
  node_options& data_dir(std::string dir);

  /// The key file that seals secret values in the journal (see
  /// store_options::secrets_key_file). Default: `data_dir/secrets.key`.
  node_options& secrets_key_file(std::string path);

  /// Versions kept in memory (default 100).
  node_options& history(std::size_t n);

  /// Versions kept in the journal (default 0: all).
  node_options& retention(std::size_t n);

  /// A config server polled over HTTP (`GET {url}/config`).
  node_options& remote(std::string url, std::string token = {});

  /// How often the config server is polled (default 5 s).
  node_options& remote_poll(std::chrono::milliseconds x);

  /// The config server's delays after failures: from `first` (default:
  /// 2 × the poll interval), doubling up to `max` (default 60 s).
  node_options& remote_backoff(std::chrono::milliseconds first,
                               std::chrono::milliseconds max);

  /// https: the CA file the server's certificate must chain to (default:
  /// the system's CAs), and a client certificate and key for mutual TLS.
  node_options& remote_tls(std::string ca_file, std::string cert_file = {},
                           std::string key_file = {});

  /// `node::primary` returns only once the first read of the config server
  /// (and of the WebSocket server, if any) succeeded: an error if it failed
  /// for good (401, 403, 404, a refused certificate; see await_first_poll)
  /// or did not succeed within `timeout`.
  node_options& remote_required(std::chrono::milliseconds timeout
                                = std::chrono::seconds{30});

  /// A config server pushing over WebSocket (`{url}/ws`).
  node_options& ws(std::string url, std::string token = {});

  /// The service name and version the WebSocket source registers with
  /// (default: the node name and `0.0.0`).
  node_options& ws_service(std::string name, std::string version = "0.0.0");

  /// The WebSocket's reconnect delays: from `min` (default 100 ms),
  /// doubling up to `max` (default 10 s).
  node_options& ws_backoff(std::chrono::milliseconds min,
                           std::chrono::milliseconds max);

  /// A WebSocket silent this long is pinged, silent as long again it is
  /// dropped and reconnected (default 15 s).
  node_options& ws_heartbeat(std::chrono::milliseconds x);

  /// wss: as remote_tls.
  node_options& ws_tls(std::string ca_file, std::string cert_file = {},
                       std::string key_file = {});

  /// Publishes the primary on this TCP port (0: any free port; the node
  /// tells which) for replicas in other processes. Needs the middleman
  /// (`cfg.load<caf::io::middleman>()`).
  node_options& cluster_port(uint16_t port, std::string address = "127.0.0.1");

  /// The shared cluster secret: a replica proves it to its primary, the
  /// primary proves it back, before anything else crosses the link (HMAC
  /// over fresh nonces; docs/SECURITY.md). Without one, a primary listens
  /// on a loopback address only, and its replicas must have none either.
  node_options& cluster_secret(std::string secret);

  /// The cluster secret from a file: this user's (or root's), not readable
  /// by group or others, one line of at least 16 bytes. Read when the node
  /// starts.
  node_options& cluster_secret_file(std::string path);

  /// Replicas a primary knows at most, connected or not (default 256): a
  /// new name beyond it is refused.
  node_options& max_replicas(std::size_t n);

  /// How long a primary waits for a peer to finish its handshake
  /// (default 10 s).
  node_options& handshake_timeout(std::chrono::milliseconds x);

  /// Where peers should reach this node's cluster port ("host:port"), when
  /// it is not the address it listens on (every address, NAT). Default:
  /// the listen address, or this host's name for a wildcard.
  node_options& advertise(std::string host_port);

  /// How long the cluster link may stay silent before it counts as cut
  /// (default 5 s): both ends send a heartbeat every quarter of it. A
  /// partition keeps TCP open but silent; this is how long a replica takes
  /// to report itself stale and a primary to see the replica gone.
  node_options& link_timeout(std::chrono::milliseconds x);

  /// How long a replica's connect to its primary may take, the TCP connect
  /// and the link's handshake each (default 2 s): a frozen primary costs a
  /// failed attempt and a backoff, not a hang.
  node_options& connect_timeout(std::chrono::milliseconds x);

  /// Handshakes a primary lets run at once (default 64; 8 per remote
  /// address): more connections are closed at once.
  node_options& max_pending_peers(std::size_t n);

  /// The node's name in the cluster (who acked a write, `GET /nodes`).
  node_options& node_name(std::string name);

  /// How long a write waits for its consistency level by default
  /// (default 5 s).
  node_options& write_timeout(std::chrono::milliseconds x);

  /// A primary forgets a replica disconnected this long: no longer listed,
  /// no longer waited for by `all` writes (default 10 min; 0: never).
  node_options& forget_after(std::chrono::milliseconds x);

  /// How long a replica waits for its first sync with the primary before
  /// `node::replica` fails (default 5 s; 0: do not wait, start stale).
  node_options& join_timeout(std::chrono::milliseconds x);

  /// A replica's reconnect delays: from `min`, doubling up to `max`.
  node_options& reconnect_backoff(std::chrono::milliseconds min,
                                  std::chrono::milliseconds max);

  /// A replica acks versions no write waits for this long after the first,
  /// in one cumulative ack (default 20 ms; 0: each at once). See
  /// `replica_options::ack_delay`.
  node_options& ack_delay(std::chrono::milliseconds x);

  /// A replica receives secret values from its primary (default: no). Else
  /// the primary sends every version with its secrets masked: the replica
  /// never holds one and serves `***` even to readers allowed to see
  /// secrets. Refused on a primary.
  node_options& cluster_secrets(bool x);

  // -- etcd mode (docs/CLUSTER.md) ----------------------------------------

  /// Makes an etcd v3 cluster the authority: every node with the same
  /// `cluster` name is equal, commits each write as one etcd transaction
  /// that compares the head, and follows the others through one watch.
  /// Endpoints are `http://host:port` or `https://host:port`.
  node_options& etcd(std::vector<std::string> endpoints, std::string cluster);

  /// TLS to etcd: the CA that signed its certificates, and this node's
  /// client certificate and key (etcd's --client-cert-auth).
  node_options& etcd_tls(std::string cacert, std::string cert = {},
                         std::string key = {});

  /// etcd's own authentication: a user and the file that holds its password
  /// (private to this user, like the cluster secret).
  node_options& etcd_auth(std::string user, std::string password_file);

  /// The key that seals every secret value in the records etcd keeps (32
  /// bytes or 64 hex digits, mode 0600, the same file on every node). Without
  /// it secret values are in etcd in plain text, protected by etcd's TLS
  /// and users only (docs/SECURITY.md).
  node_options& etcd_secrets_key_file(std::string path);

  /// Versions kept in etcd (default 1000; 0: all). Each node's journal keeps
  /// its own history beyond it.
  node_options& etcd_history(std::size_t n);

  /// The largest request the etcd cluster takes (its --max-request-bytes;
  /// default 1.5 MiB): a version whose record would not fit is refused with
  /// errc::too_large naming both sizes.
  node_options& etcd_max_request_bytes(std::size_t n);

  /// Where this node's HTTP API is reached, shown to the others (`/nodes`).
  node_options& api_address(std::string host_port);

  // -- the actor system ---------------------------------------------------

  /// CAF's scheduler policy, `sharing` or `stealing` (default: CAF's).
  node_options& scheduler(std::string policy);

  /// CAF's scheduler threads (default 0: CAF's, one per core).
  node_options& threads(std::size_t n);

  /// CAF's middleman I/O workers (default: CAF's).
  node_options& io_workers(std::size_t n);

  /// Writes what the actor system must know before it starts into `cfg`:
  /// the scheduler, the I/O workers, and the middleman when these options
  /// publish a cluster port or the node is to be a `replica`.
  void configure(caf::actor_system_config& cfg, bool replica = false) const;

private:
  friend class node;

  std::vector<file_spec> files_;
  std::chrono::milliseconds file_debounce_{100};
  std::chrono::milliseconds file_poll_{0};
  std::optional<std::string> env_prefix_;
  std::optional<env_source_options> env_options_;
  std::chrono::milliseconds env_poll_{1000};
  std::string schema_path_;
  json_schema_ptr schema_;
  std::shared_ptr<const rule_set> rules_;
  std::shared_ptr<const contract_registry> contracts_;
  std::optional<json> defaults_;
  std::string defaults_origin_;
  std::string data_dir_;
  std::string secrets_key_file_;
  std::size_t history_ = 100;
  std::size_t retention_ = 0;
  std::string remote_;
  std::string remote_token_;
  std::chrono::milliseconds remote_poll_{5000};
  std::optional<std::chrono::milliseconds> remote_backoff_;
  std::chrono::milliseconds remote_max_backoff_{60000};
  std::string remote_ca_file_;
  std::string remote_cert_file_;
  std::string remote_key_file_;
  std::optional<std::chrono::milliseconds> remote_required_;
  std::string ws_;
  std::string ws_token_;
  std::string ws_service_; ///< empty: the node name
  std::string ws_service_version_ = "0.0.0";
  std::chrono::milliseconds ws_min_backoff_{100};
  std::chrono::milliseconds ws_max_backoff_{10000};
  std::chrono::milliseconds ws_heartbeat_{15000};
  std::string ws_ca_file_;
  std::string ws_cert_file_;
  std::string ws_key_file_;
  std::optional<uint16_t> cluster_port_;
  std::string cluster_address_ = "127.0.0.1";
  std::string cluster_secret_;
  std::string cluster_secret_file_;
  std::size_t max_replicas_ = 256;
  std::chrono::milliseconds handshake_timeout_{10000};
  std::string advertise_;
  std::chrono::milliseconds link_timeout_{5000};
  std::chrono::milliseconds connect_timeout_{2000};
  std::size_t max_pending_ = 64;
  std::string node_name_;
  std::chrono::milliseconds write_timeout_{5000};
  std::chrono::milliseconds forget_after_{std::chrono::minutes{10}};
  std::chrono::milliseconds join_timeout_{5000};
  std::chrono::milliseconds min_backoff_{100};
  std::chrono::milliseconds max_backoff_{5000};
  std::chrono::milliseconds ack_delay_{20};
  bool cluster_secrets_ = false;
  std::vector<std::string> etcd_endpoints_;
  std::string etcd_cluster_;
  std::string etcd_cacert_;
  std::string etcd_cert_;
  std::string etcd_key_;
  std::string etcd_user_;
  std::string etcd_password_file_;
  std::size_t etcd_history_ = 1000;
  std::size_t etcd_max_request_bytes_ = etcd_default_max_request_bytes;
  std::string etcd_secrets_key_file_;
  std::string api_address_;
  std::string scheduler_;
  std::size_t threads_ = 0;
  std::optional<std::size_t> io_workers_;
};

} // namespace cfgactors

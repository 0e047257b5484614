#include "cfgactors/node_options.hpp"

#include <utility>

#include <caf/atom.hpp>
#include <caf/io/middleman.hpp>

namespace cfgactors {

node_options& node_options::file(std::string path) {
  files_.push_back(file_spec{std::move(path), false});
  return *this;
}

node_options& node_options::optional_file(std::string path) {
  files_.push_back(file_spec{std::move(path), true});
  return *this;
}

node_options& node_options::file_debounce(std::chrono::milliseconds x) {
  file_debounce_ = x;
  return *this;
}

node_options& node_options::env(std::string prefix) {
  env_prefix_ = std::move(prefix);
  return *this;
}

node_options& node_options::env(env_source_options x) {
  env_prefix_ = x.prefix;
  env_options_ = std::move(x);
  return *this;
}

node_options& node_options::env_poll(std::chrono::milliseconds x) {
  env_poll_ = x;
  return *this;
}

node_options& node_options::schema(std::string path) {
  schema_path_ = std::move(path);
  schema_ = nullptr;
  return *this;
}

node_options& node_options::schema(json_schema_ptr x) {
  schema_ = std::move(x);
  schema_path_.clear();
  return *this;
}

node_options&
node_options::contracts(std::shared_ptr<const contract_registry> x) {
  contracts_ = std::move(x);
  return *this;
}

node_options& node_options::rules(rule_set x) {
  rules_ = std::make_shared<const rule_set>(std::move(x));
  return *this;
}

node_options& node_options::defaults(json x, std::string origin) {
  defaults_ = std::move(x);
  defaults_origin_ = std::move(origin);
  return *this;
}

node_options& node_options::data_dir(std::string dir) {
  data_dir_ = std::move(dir);
  return *this;
}

node_options& node_options::secrets_key_file(std::string path) {
  secrets_key_file_ = std::move(path);
  return *this;
}

node_options& node_options::history(std::size_t n) {
  history_ = n;
  return *this;
}

node_options& node_options::remote(std::string url, std::string token) {
  remote_ = std::move(url);
  remote_token_ = std::move(token);
  return *this;
}

node_options& node_options::ws(std::string url, std::string token) {
  ws_ = std::move(url);
  ws_token_ = std::move(token);
  return *this;
}

node_options& node_options::cluster_port(uint16_t port, std::string address) {
  cluster_port_ = port;
  cluster_address_ = std::move(address);
  return *this;
}

node_options& node_options::cluster_secret(std::string secret) {
  cluster_secret_ = std::move(secret);
  cluster_secret_file_.clear();
  return *this;
}

node_options& node_options::cluster_secret_file(std::string path) {
  cluster_secret_file_ = std::move(path);
  cluster_secret_.clear();
  return *this;
}

node_options& node_options::max_replicas(std::size_t n) {
  max_replicas_ = n;
  return *this;
}

node_options& node_options::advertise(std::string host_port) {
  advertise_ = std::move(host_port);
  return *this;
}

node_options& node_options::link_timeout(std::chrono::milliseconds x) {
  link_timeout_ = x;
  return *this;
}

node_options& node_options::connect_timeout(std::chrono::milliseconds x) {
  connect_timeout_ = x;
  return *this;
}

node_options& node_options::max_pending_peers(std::size_t n) {
  max_pending_ = n;
  return *this;
}

node_options& node_options::handshake_timeout(std::chrono::milliseconds x) {
  handshake_timeout_ = x;
  return *this;
}

node_options& node_options::node_name(std::string name) {
  node_name_ = std::move(name);
  return *this;
}

node_options& node_options::write_timeout(std::chrono::milliseconds x) {
  write_timeout_ = x;
  return *this;
}

node_options& node_options::join_timeout(std::chrono::milliseconds x) {
  join_timeout_ = x;
  return *this;
}

node_options& node_options::reconnect_backoff(std::chrono::milliseconds min,
                                              std::chrono::milliseconds max) {
  min_backoff_ = min;
  max_backoff_ = max;
  return *this;
}

node_options& node_options::cluster_secrets(bool x) {
  cluster_secrets_ = x;
  return *this;
}

node_options& node_options::etcd(std::vector<std::string> endpoints,
                                 std::string cluster) {
  etcd_endpoints_ = std::move(endpoints);
  etcd_cluster_ = std::move(cluster);
  return *this;
}

node_options& node_options::etcd_tls(std::string cacert, std::string cert,
                                     std::string key) {
  etcd_cacert_ = std::move(cacert);
  etcd_cert_ = std::move(cert);
  etcd_key_ = std::move(key);
  return *this;
}

node_options& node_options::etcd_auth(std::string user,
                                      std::string password_file) {
  etcd_user_ = std::move(user);
  etcd_password_file_ = std::move(password_file);
  return *this;
}

node_options& node_options::etcd_secrets_key_file(std::string path) {
  etcd_secrets_key_file_ = std::move(path);
  return *this;
}

node_options& node_options::etcd_history(std::size_t n) {
  etcd_history_ = n;
  return *this;
}

node_options& node_options::etcd_max_request_bytes(std::size_t n) {
  etcd_max_request_bytes_ = n;
  return *this;
}

node_options& node_options::api_address(std::string host_port) {
  api_address_ = std::move(host_port);
  return *this;
}

node_options& node_options::ack_delay(std::chrono::milliseconds x) {
  ack_delay_ = x;
  return *this;
}

node_options& node_options::file_poll(std::chrono::milliseconds x) {
  file_poll_ = x;
  return *this;
}

node_options& node_options::retention(std::size_t n) {
  retention_ = n;
  return *this;
}

node_options& node_options::remote_poll(std::chrono::milliseconds x) {
  remote_poll_ = x;
  return *this;
}

node_options& node_options::remote_backoff(std::chrono::milliseconds first,
                                           std::chrono::milliseconds max) {
  remote_backoff_ = first;
  remote_max_backoff_ = max;
  return *this;
}

node_options& node_options::remote_tls(std::string ca_file,
                                       std::string cert_file,
                                       std::string key_file) {
  remote_ca_file_ = std::move(ca_file);
  remote_cert_file_ = std::move(cert_file);
  remote_key_file_ = std::move(key_file);
  return *this;
}

node_options& node_options::remote_required(std::chrono::milliseconds timeout) {
  remote_required_ = timeout;
  return *this;
}

node_options& node_options::ws_backoff(std::chrono::milliseconds min,
                                       std::chrono::milliseconds max) {
  ws_min_backoff_ = min;
  ws_max_backoff_ = max;
  return *this;
}

node_options& node_options::ws_heartbeat(std::chrono::milliseconds x) {
  ws_heartbeat_ = x;
  return *this;
}

node_options& node_options::ws_tls(std::string ca_file, std::string cert_file,
                                   std::string key_file) {
  ws_ca_file_ = std::move(ca_file);
  ws_cert_file_ = std::move(cert_file);
  ws_key_file_ = std::move(key_file);
  return *this;
}

node_options& node_options::ws_service(std::string name, std::string version) {
  ws_service_ = std::move(name);
  ws_service_version_ = std::move(version);
  return *this;
}

node_options& node_options::forget_after(std::chrono::milliseconds x) {
  forget_after_ = x;
  return *this;
}

node_options& node_options::scheduler(std::string policy) {
  scheduler_ = std::move(policy);
  return *this;
}

node_options& node_options::threads(std::size_t n) {
  threads_ = n;
  return *this;
}

node_options& node_options::io_workers(std::size_t n) {
  io_workers_ = n;
  return *this;
}

void node_options::configure(caf::actor_system_config& cfg,
                             bool replica) const {
  if (!scheduler_.empty())
    cfg.set("scheduler.policy", caf::atom_from_string(scheduler_));
  if (threads_ > 0)
    cfg.set("scheduler.max-threads", threads_);
  if (io_workers_)
    cfg.set("middleman.workers", *io_workers_);
  if (cluster_port_ || replica)
    cfg.load<caf::io::middleman>();
}

} // namespace cfgactors

// etcd mode of a node (docs/CLUSTER.md): the options checked, the actors
// that commit to etcd, keep the node's record and follow the watch.
#include "cfgactors/node.hpp"

#include <thread>

#include "cfgactors/errc.hpp"
#include "core/log.hpp"
#include "core/private_file.hpp"
#include "etcd/etcd_committer.hpp"
#include "etcd/etcd_follower.hpp"
#include "etcd/etcd_keys.hpp"
#include "etcd/etcd_presence.hpp"
#include "node/node_impl.hpp"
#include "pipeline/secret_box.hpp"

namespace cfgactors {

namespace {

using namespace std::chrono_literals;

caf::error bad(const std::string& what) {
  return make_error(errc::invalid_argument, "etcd: " + what);
}

/// The password of `--etcd-password-file`: one line, private to this user.
caf::expected<std::string> read_password(const std::string& path) {
  std::string why;
  auto text = detail::read_private_line(path, why);
  if (!text)
    return bad("password file " + path + ": " + why);
  if (text->empty())
    return bad("password file " + path + ": is empty");
  return std::move(*text);
}

} // namespace

caf::expected<detail::etcd_hooks>
node::start_etcd(detail::node_impl& st, const node_options& opts) {
  if (!detail::valid_cluster_name(opts.etcd_cluster_))
    return bad("cluster name \"" + opts.etcd_cluster_
               + "\" must be 1-64 of A-Z a-z 0-9 . _ - (--cluster-name)");
  detail::etcd_options client;
  for (auto& url : opts.etcd_endpoints_) {
    if (url.rfind("http://", 0) != 0 && url.rfind("https://", 0) != 0)
      return bad("endpoint \"" + url
                 + "\" must start with http:// or https://");
    client.endpoints.push_back(url);
  }
  auto tls = !opts.etcd_cacert_.empty() || !opts.etcd_cert_.empty();
  for (auto& url : client.endpoints)
    if (tls && url.rfind("http://", 0) == 0)
      return bad("endpoint " + url + " is plain HTTP but TLS files are "
                 "given: use https://");
  if (opts.etcd_cert_.empty() != opts.etcd_key_.empty())
    return bad("a client certificate needs its key and a key its "
               "certificate (--etcd-cert, --etcd-key)");
  client.cacert = opts.etcd_cacert_;
  client.cert = opts.etcd_cert_;
  client.key = opts.etcd_key_;
  if (!opts.etcd_user_.empty()) {
    if (opts.etcd_password_file_.empty())
      return bad("--etcd-user needs --etcd-password-file");
    auto password = read_password(opts.etcd_password_file_);
    if (!password)
      return std::move(password.error());
    client.user = opts.etcd_user_;
    client.password = std::move(*password);
  }
  if (opts.cluster_secrets_)
    return bad("`cluster_secrets` belongs on a replica");
  if (!opts.etcd_secrets_key_file_.empty()) {
    auto key = detail::read_key_file(opts.etcd_secrets_key_file_);
    if (!key)
      return std::move(key.error());
    st.etcd_box = std::make_shared<const detail::secret_box>(std::move(*key));
  } else {
    detail::log().warn("event=etcd_secrets_plain node=\"{}\" detail=\"no "
                       "--etcd-secrets-key-file: secret values go to etcd "
                       "in plain text, protected by its TLS and users only\"",
                       st.name);
  }
  st.etcd_counters = std::make_shared<detail::etcd_counters>();
  st.etcd_client = client;
  detail::etcd_committer_options copts;
  copts.client = client;
  // A commit takes milliseconds; one that waits for a lost quorum should
  // answer 503 before the client's own timeout (cfgd: 5 s).
  copts.client.connect_timeout = 1000ms;
  copts.client.request_timeout = 2000ms;
  copts.cluster = opts.etcd_cluster_;
  copts.history = opts.etcd_history_;
  copts.max_request_bytes = opts.etcd_max_request_bytes_;
  copts.counters = st.etcd_counters;
  copts.box = st.etcd_box;
  st.etcd_committer = detail::spawn_etcd_committer(st.sys, std::move(copts));
  detail::etcd_presence_options popts;
  popts.client = client;
  // The record is renewed every second or so: its lease, not a request,
  // should decide when a node counts as gone.
  popts.client.request_timeout = 1500ms;
  popts.cluster = opts.etcd_cluster_;
  popts.node = st.name;
  popts.address = opts.api_address_;
  popts.counters = st.etcd_counters;
  st.etcd_presence = detail::spawn_etcd_presence(st.sys, std::move(popts));
  detail::etcd_hooks hooks;
  hooks.committer = st.etcd_committer;
  hooks.presence = st.etcd_presence;
  hooks.node = st.name;
  hooks.counters = st.etcd_counters;
  return hooks;
}

void node::follow_etcd(detail::node_impl& st, const node_options& opts) {
  detail::etcd_follower_options fopts;
  fopts.client = st.etcd_client;
  fopts.cluster = opts.etcd_cluster_;
  fopts.node = st.name;
  fopts.validator = st.pipeline.validator_ext;
  fopts.store = st.pipeline.store;
  fopts.router = st.pipeline.router;
  fopts.committer = st.etcd_committer;
  fopts.presence = st.etcd_presence;
  fopts.counters = st.etcd_counters;
  fopts.box = st.etcd_box;
  st.etcd_follower = detail::spawn_etcd_follower(st.sys, std::move(fopts));
  caf::anon_send(st.etcd_presence, st.etcd_follower);
}

} // namespace cfgactors

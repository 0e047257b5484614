#include "etcd/etcd_committer.hpp"

#include <chrono>
#include <optional>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include <nlohmann/json.hpp>

#include "core/log.hpp"
#include "etcd/etcd_keys.hpp"
#include "etcd/node_record.hpp"

namespace cfgactors::detail {

namespace {

using clock_type = std::chrono::steady_clock;
using outcome = etcd_commit_result::outcome;

/// Idempotency keys live in etcd for a day at least: under a lease of 25 h
/// granted at most an hour before the key is written.
constexpr int64_t idempotency_ttl_s = 25 * 3600;
constexpr auto idempotency_lease_renewal = std::chrono::hours{1};

/// Records fetched at most on a conflict, a duplicate or one page of a
/// sync: a node further behind reads the next page (the follower), or
/// installs what it got and meets the rest on its next conflict.
constexpr int64_t max_catch_up = 64;

struct committer_state {
  static inline const char* name = "cfgactors.etcd_committer";

  etcd_committer_options options;
  std::optional<etcd_client> client;
  std::optional<etcd_keys> keys;
  int64_t idempotency_lease = 0;
  clock_type::time_point lease_granted;
};

using committer_ptr
  = etcd_committer_actor::stateful_pointer<committer_state>;

uint64_t head_of(const std::vector<etcd_kv>& kvs) {
  if (kvs.empty())
    return 0;
  try {
    return std::stoull(kvs.front().value);
  } catch (...) {
    return 0;
  }
}

/// The kvs of the `i`-th response of a transaction (a range).
std::vector<etcd_kv> range_kvs(const etcd_txn_result& r, std::size_t i) {
  std::vector<etcd_kv> out;
  if (i >= r.responses.size())
    return out;
  auto& resp = r.responses[i];
  auto range = resp.find("response_range");
  if (range == resp.end())
    return out;
  auto kvs = range->find("kvs");
  if (kvs == range->end() || !kvs->is_array())
    return out;
  for (auto& kv : *kvs)
    out.push_back(kv_of(kv));
  return out;
}

/// The record in `kv`, or nothing (logged and counted): a record this node
/// cannot read is skipped, and the next one it can read holds every layer.
std::optional<version_record> record_of(committer_ptr self,
                                        const etcd_kv& kv) {
  auto& st = self->state;
  auto rec = decode_version_record(kv.value, kv.key, st.options.box.get(),
                                   st.options.cluster);
  if (!rec) {
    ++st.options.counters->errors;
    log().error("event=etcd_bad_record key=\"{}\" error=\"{}\"", kv.key,
                self->system().render(rec.error()));
    return std::nullopt;
  }
  return std::move(*rec);
}

/// Up to max_catch_up records after `base` up to `head`, oldest first, read
/// at `revision` (0: the newest).
std::optional<std::vector<version_record>>
records_after(committer_ptr self, uint64_t base, uint64_t head,
              int64_t revision, etcd_error& err) {
  auto& st = self->state;
  std::vector<version_record> out;
  if (head <= base)
    return out;
  auto got = st.client->range(st.keys->version(base + 1),
                              st.keys->version(head + 1), err, max_catch_up,
                              revision);
  if (!got)
    return std::nullopt;
  for (auto& kv : got->kvs)
    if (auto rec = record_of(self, kv))
      out.push_back(std::move(*rec));
  return out;
}

etcd_commit_result failed(committer_ptr self, const etcd_error& err) {
  ++self->state.options.counters->errors;
  etcd_commit_result out;
  out.what = err.what == etcd_error::kind::unavailable ? outcome::unavailable
                                                       : outcome::refused;
  out.error = err.message;
  log().warn("event=etcd_commit_failed error=\"{}\"", escaped(err.message));
  return out;
}

int64_t idempotency_lease(committer_ptr self, etcd_error& err) {
  auto& st = self->state;
  auto now = clock_type::now();
  if (st.idempotency_lease == 0
      || now - st.lease_granted > idempotency_lease_renewal) {
    auto id = st.client->lease_grant(idempotency_ttl_s, err);
    if (!id)
      return 0;
    st.idempotency_lease = *id;
    st.lease_granted = now;
  }
  return st.idempotency_lease;
}

etcd_commit_result on_commit(committer_ptr self, etcd_commit& c) {
  auto& st = self->state;
  auto& keys = *st.keys;
  auto& rec = c.record;
  etcd_error err;
  auto compares = json::array();
  compares.push_back(c.expect_head == 0
                       ? compare_created(keys.head(), 0)
                       : compare_value(keys.head(),
                                       std::to_string(c.expect_head)));
  auto success = json::array();
  // etcd counts the request it gets from its gateway, where the record is
  // bytes again (the JSON between us and the gateway carries it base64):
  // the stored size, and a few KB for the transaction's other operations.
  // A record that would not fit is stored deflated.
  constexpr auto other_operations = etcd_other_operations_bytes;
  auto limit = st.options.max_request_bytes > other_operations
                 ? st.options.max_request_bytes - other_operations
                 : 0;
  auto text = stored_form(rec, limit, st.options.box.get(),
                          st.options.cluster);
  auto request_bytes = text.size() + other_operations;
  if (request_bytes > st.options.max_request_bytes) {
    etcd_commit_result out;
    out.what = outcome::too_large;
    out.error = "version " + std::to_string(rec.version) + "'s record takes a "
                + std::to_string(request_bytes) + "-byte request, over the "
                + std::to_string(st.options.max_request_bytes)
                + " bytes etcd takes (its --max-request-bytes; cfgd "
                  "--etcd-max-request-bytes says what it was raised to)";
    return out;
  }
  success.push_back(op_put(keys.version(rec.version), text));
  success.push_back(op_put(keys.head(), std::to_string(rec.version)));
  auto failure = json::array();
  failure.push_back(op_range(keys.head()));
  // The versions that won the race come back with the refusal: a loser
  // needs no second round trip before it tries again.
  // The oldest ones, so that the node's history has every version; one
  // further behind catches up over several conflicts (and its watch).
  auto newer = op_range(keys.version(c.base + 1), prefix_end(keys.versions()));
  newer["request_range"]["limit"] = std::to_string(max_catch_up);
  failure.push_back(std::move(newer));
  std::string idem;
  if (!rec.idempotency_key.empty()) {
    idem = keys.idempotency(rec.idempotency_key);
    auto lease = idempotency_lease(self, err);
    if (lease == 0)
      return failed(self, err);
    compares.push_back(compare_created(idem, 0));
    success.push_back(op_put(
      idem, json{{"version", rec.version}, {"hash", rec.hash}}.dump(), lease));
    failure.push_back(op_range(idem));
  }
  auto keep = st.options.history;
  if (keep > 0 && rec.version > keep)
    success.push_back(op_delete(keys.version(0),
                                keys.version(rec.version - keep + 1)));
  auto r = st.client->txn(std::move(compares), std::move(success),
                          std::move(failure), err);
  if (!r)
    return failed(self, err);
  etcd_commit_result out;
  if (r->succeeded) {
    out.what = outcome::committed;
    return out;
  }
  out.head = head_of(range_kvs(*r, 0));
  for (auto& kv : range_kvs(*r, 1))
    if (auto rec = record_of(self, kv))
      out.newer.push_back(std::move(*rec));
  if (!idem.empty()) {
    auto known = range_kvs(*r, 2);
    if (!known.empty()) {
      auto doc = json::parse(known.front().value, nullptr, false);
      if (doc.is_object() && doc.contains("version") && doc.contains("hash")
          && doc["version"].is_number_unsigned() && doc["hash"].is_string()) {
        out.what = outcome::duplicate;
        out.version = doc["version"].get<uint64_t>();
        out.hash = doc["hash"].get<std::string>();
        return out;
      }
    }
  }
  out.what = outcome::conflict;
  log().info("event=etcd_cas_conflict expected_head={} head={} newer={}",
             c.expect_head, out.head, out.newer.size());
  return out;
}

/// One page of a sync: etcd's head and the records after `base`, read at
/// `revision` (0: now; the follower reads later pages at the first one's
/// revision, and watches from it, so that it sees one state); the live
/// nodes with the first page.
caf::result<etcd_sync_result> on_sync(committer_ptr self, uint64_t base,
                                      int64_t revision) {
  auto& st = self->state;
  auto& keys = *st.keys;
  etcd_error err;
  auto head = st.client->range(keys.head(), {}, err, 0, revision);
  if (!head) {
    ++st.options.counters->errors;
    return make_error(errc::unavailable, err.message);
  }
  etcd_sync_result out;
  out.revision = revision != 0 ? revision : head->revision;
  out.head = head_of(head->kvs);
  auto recs = records_after(self, base, out.head, out.revision, err);
  if (!recs) {
    ++st.options.counters->errors;
    return make_error(errc::unavailable, err.message);
  }
  out.records = std::move(*recs);
  if (revision != 0)
    return out;
  auto nodes = st.client->range(keys.nodes(), prefix_end(keys.nodes()), err,
                                0, out.revision);
  if (!nodes) {
    ++st.options.counters->errors;
    return make_error(errc::unavailable, err.message);
  }
  for (auto& kv : nodes->kvs)
    if (auto n = decode_node_record(kv.value))
      out.nodes.push_back(std::move(*n));
  return out;
}

etcd_committer_actor::behavior_type committer(committer_ptr self,
                                              etcd_committer_options options) {
  auto& st = self->state;
  st.options = std::move(options);
  st.client.emplace(st.options.client);
  st.keys.emplace(st.options.cluster);
  return {
    [self](commit_atom, etcd_commit& c) { return on_commit(self, c); },
    [self](etcd_sync_atom, uint64_t base, int64_t revision) {
      return on_sync(self, base, revision);
    },
  };
}

} // namespace

etcd_committer_actor spawn_etcd_committer(caf::actor_system& sys,
                                          etcd_committer_options options) {
  return sys.spawn<caf::detached>(committer, std::move(options));
}

} // namespace cfgactors::detail

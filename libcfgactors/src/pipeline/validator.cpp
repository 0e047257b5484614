#include "pipeline/validator_state.hpp"

#include <algorithm>
#include <chrono>
#include <optional>
#include <string_view>
#include <utility>

#include <caf/stateful_actor.hpp>
#include <caf/typed_event_based_actor.hpp>

#include "cfgactors/change_reason.hpp"
#include "cfgactors/contract_registry.hpp"
#include "cfgactors/diff.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"
#include "core/log.hpp"
#include "model/hash_tree.hpp"
#include "model/layer_changes.hpp"
#include "pipeline/shadowed_edits.hpp"
#include "write/apply.hpp"
#include "write/effective_tree.hpp"
#include "write/normalized_layer.hpp"
#include "write/redact.hpp"
#include "write/touched.hpp"

namespace cfgactors {

namespace {

using validator_ptr = validator_impl::stateful_pointer<validator_state>;
using promise = caf::typed_response_promise<write_result>;
using clock_type = std::chrono::steady_clock;

/// The write under way is over and its pre-commit checks stand: their
/// components keep it.
void settle(validator_state& st) {
  st.pre_committed.clear();
}

void reject(validator_ptr self, promise& rp, write_result result,
            const std::string& origin, bool defer = true) {
  auto& st = self->state;
  // Components that took the refused write get the running version again.
  for (auto& runner : st.pre_committed)
    self->send(runner, detail::restore_atom::value, st.current);
  st.pre_committed.clear();
  if (!st.dry_run) {
    ++st.stats.rejected;
    for (auto& err : result.errors)
      ++st.stats.failures_by_rule[err.rule];
  }
  result.version = st.version;
  result.hash = st.hash;
  // Every reason, not the first only: the line is what an operator has when
  // the writer's answer is gone. As many as the answer carries.
  std::vector<std::string> reasons;
  reasons.reserve(result.errors.size());
  for (auto& err : result.errors)
    reasons.push_back(err.str());
  detail::log().warn("event=config_rejected origin=\"{}\" code={} count={} "
                     "version={} errors={}{}",
                     detail::escaped(origin), to_string(result.code),
                     reasons.size(), st.version,
                     detail::json_strings(reasons),
                     st.dry_run ? " dry_run=true" : "");
  // A component's veto is named on a line of its own, whatever came first.
  for (auto& err : result.errors) {
    std::string_view rule{err.rule};
    if (rule.substr(0, contract_rule_prefix.size()) == contract_rule_prefix)
      detail::log().warn("event=contract_veto contract={} path=\"{}\" "
                         "reason=\"{}\" version={}",
                         rule.substr(contract_rule_prefix.size()), err.path,
                         detail::escaped(err.message), st.version);
    else if (rule == schema_version_rule)
      detail::log().warn("event=schema_version_veto path=\"{}\" "
                         "reason=\"{}\" version={}",
                         err.path, detail::escaped(err.message),
                         st.version);
  }
  // On top of a version still in flight, which has no hash yet: answered
  // with that version's number and hash once it is durable.
  if (defer && !st.in_flight.empty()) {
    st.in_flight.back().answers.emplace_back(rp, std::move(result));
    return;
  }
  rp.deliver(std::move(result));
}

void handle_write(validator_ptr self, write_request req, promise rp,
                  unsigned attempt, clock_type::time_point since);

/// A write's version is durable: counted, logged and answered.
void committed(validator_state& st, const snapshot& snap, promise& rp,
               clock_type::time_point started) {
  ++st.stats.committed;
  st.stats.record_commit(
    std::chrono::duration<double>(clock_type::now() - started).count());
  // Author and reason are the writer's text: escaped, one line.
  detail::log().info("event=config_committed version={} hash=\"{}\" "
                     "origin=\"{}\" author=\"{}\" reason=\"{}\"",
                     snap.version, snap.hash.substr(0, 12),
                     detail::escaped(snap.origin), detail::escaped(snap.author),
                     detail::escaped(snap.reason));
  rp.deliver(write_result{write_status::committed, snap.version, snap.hash,
                          errc::none, {}, {}});
}


/// A version this validator now stands on (committed here or adopted from
/// etcd): its layers become the base of the next write.
void stand_on(validator_ptr self, const snapshot_ptr& snap,
              layer_stack layers, const std::string& key) {
  auto& st = self->state;
  st.layers = std::move(layers);
  st.version = snap->version;
  st.hash = snap->hash;
  st.current = snap;
  st.remember_key(key, snap->version, snap->hash);
  if (st.etcd) {
    st.etcd_head = std::max(st.etcd_head, snap->version);
    self->send(st.etcd->presence, detail::applied_atom::value, snap->version,
               snap->hash);
  }
}

/// The store refused a commit built on `epoch`: the first refusal of an
/// epoch means a batch failed (the store counted it too), and every write
/// admitted on top of it fails as well; the next write is built on the last
/// durable version again.
void on_store_failed(validator_state& st, uint64_t epoch) {
  if (epoch != st.epoch)
    return;
  ++st.epoch;
  if (st.current) {
    st.layers = st.current->layers;
    st.version = st.current->version;
    st.hash = st.current->hash;
  }
}

/// Whether `x` and `y` are the same layers: the same names holding the same
/// data objects (an equal copy does not count).
bool same_layers(const layer_stack& x, const layer_stack& y) {
  return std::equal(x.begin(), x.end(), y.begin(), y.end(),
                    [](const layer& a, const layer& b) {
                      return a.name == b.name && a.data == b.data;
                    });
}

/// The hash tree of `tree`, the merge of the candidate `layers`, built on
/// the durable version (etcd mode: a write runs alone, an adopted record
/// comes after the version this node stands on): rehashed along the paths
/// where the layers differ from that version's, else from scratch.
detail::hash_tree_ptr hashes_of(const validator_state& st,
                                const detail::config_node& tree,
                                const layer_stack& layers) {
  if (st.current && st.current->hashes
      && same_layers(st.current->layers, st.layers)) {
    detail::path_trie changed;
    for (auto& text : detail::touched_paths(st.current->layers, layers))
      if (auto path = config_path::parse(text))
        changed.add(*path);
      else
        changed.whole = true;
    return detail::rehash(st.current->hashes, tree, changed);
  }
  return detail::hash_tree_of(tree);
}

/// The hex digest of a hash tree (docs/HASH.md); a root that is not a
/// container never comes from a merge of layers.
std::string hex_of(const detail::hash_tree_ptr& hashes,
                   const detail::config_node& tree) {
  return hashes ? hashes->hex() : canonical_hash(detail::to_json(tree));
}

/// Hands an admitted (or adopted) candidate to the store; `done` gets the
/// snapshot, or the store's error. Nothing else is taken meanwhile.
template <class Done, class Failed>
void commit_locally(validator_ptr self, commit_request req, Done done,
                    Failed failed) {
  auto& st = self->state;
  req.epoch = st.epoch;
  self->request(st.store, caf::infinite, commit_atom::value, std::move(req))
    .await(std::move(done),
           [self, failed, epoch = st.epoch](caf::error& err) mutable {
             on_store_failed(self->state, epoch);
             failed(err);
           });
}

void pump(validator_ptr self);

/// Pipelining: `req` becomes the base of the next write at once, and the
/// store makes it durable (together with the commits around it) while the
/// validator takes the next writes. Answered, in order, once durable.
void commit_pipelined(validator_ptr self, commit_request req, std::string key,
                      promise rp, clock_type::time_point started) {
  auto& st = self->state;
  // The store hashes it (along its changed paths); until it is durable the
  // validator's hash stays the durable version's.
  req.epoch = st.epoch;
  st.layers = req.layers;
  st.version += 1;
  st.in_flight.push_back({st.version, key, {}});
  auto origin = req.origin;
  auto epoch = st.epoch;
  self->request(st.store, caf::infinite, commit_atom::value, std::move(req))
    .then(
      [self, rp, started, key](snapshot_ptr& snap) mutable {
        auto& st = self->state;
        // The store numbers above what its journal holds: after a failed
        // commit that reached the disk, every version in flight moves up.
        if (auto expected = st.in_flight.front().version;
            snap->version != expected) {
          auto shift = snap->version - expected;
          for (auto& x : st.in_flight)
            x.version += shift;
          st.version += shift;
        }
        auto answers = std::move(st.in_flight.front().answers);
        st.in_flight.pop_front();
        if (st.in_flight.empty())
          st.hash = snap->hash;
        // Writes refused or unchanged on top of this one: answered with it.
        for (auto& [waiter, result] : answers) {
          result.version = snap->version;
          result.hash = snap->hash;
          waiter.deliver(std::move(result));
        }
        st.current = snap;
        st.remember_key(key, snap->version, snap->hash);
        committed(st, *snap, rp, started);
        pump(self);
      },
      [self, rp, origin, epoch](caf::error& err) mutable {
        auto& st = self->state;
        auto answers = std::move(st.in_flight.front().answers);
        st.in_flight.pop_front();
        on_store_failed(st, epoch);
        // Refused on top of it: the refusal stands, with the durable
        // version. Unchanged on top of it: it was built on nothing.
        for (auto& [waiter, result] : answers) {
          if (result.status == write_status::unchanged) {
            result = write_result::reject(
              errc::store_failed, "", "store",
              "not committed: the version it was built on could not be "
              "written: " + self->system().render(err));
          }
          result.version = st.current ? st.current->version : 0;
          result.hash = st.current ? st.current->hash : std::string{};
          waiter.deliver(std::move(result));
        }
        st.dry_run = false;
        reject(self, rp,
               write_result::reject(errc::store_failed, "", "store",
                                    self->system().render(err)),
               origin, false);
        pump(self);
      });
}

/// A version committed by this node's write: stored, then answered.
void finish(validator_ptr self, commit_request req, std::string key,
            promise rp, clock_type::time_point started) {
  if (!self->state.alone) {
    commit_pipelined(self, std::move(req), std::move(key), std::move(rp),
                     started);
    return;
  }
  auto layers = req.layers;
  auto origin = req.origin;
  commit_locally(
    self, std::move(req),
    [self, rp, started, key,
     layers{std::move(layers)}](snapshot_ptr& snap) mutable {
      auto& st = self->state;
      stand_on(self, snap, std::move(layers), key);
      settle(st);
      committed(st, *snap, rp, started);
    },
    [self, rp, origin](caf::error& err) mutable {
      reject(self, rp,
             write_result::reject(errc::store_failed, "", "store",
                                  self->system().render(err)),
             origin);
    });
}

/// A version another node committed, in etcd's order: installed as it is
/// (that node validated it) once its hash checks out; `then` runs after.
template <class Then>
void adopt(validator_ptr self, detail::version_record rec, Then then) {
  auto& st = self->state;
  if (rec.version <= st.version) // ours, or seen on a conflict
    return then();
  if (rec.base != 0) {
    // A record of the change: only on top of its base. A node without it
    // (etcd no longer keeps what lies between) waits for a full record.
    if (rec.base != st.version) {
      ++st.etcd->counters->errors;
      detail::log().warn("event=etcd_record_skipped version={} base={} "
                         "have={} detail=\"a record of a change on a "
                         "version this node does not have; the next full "
                         "record installs\"",
                         rec.version, rec.base, st.version);
      return then();
    }
    auto full = st.layers;
    for (auto& l : rec.layers)
      full.put(l.name, l.data);
    for (auto& [name, changes] : rec.changes) {
      auto before = st.layers.data(name);
      std::string why = "the base has no such layer";
      auto data = before ? detail::apply_changes(*before, changes, why)
                        : std::nullopt;
      if (!data) {
        ++st.etcd->counters->errors;
        detail::log().warn("event=etcd_record_skipped version={} base={} "
                           "layer=\"{}\" detail=\"the changes do not apply "
                           "to the base: {}; the next full record "
                           "installs\"",
                           rec.version, rec.base, name, why);
        return then();
      }
      full.put(name, std::move(*data));
    }
    for (auto& name : rec.removed)
      full.remove(name);
    rec.layers = std::move(full);
    rec.base = 0;
    rec.changes.clear();
  }
  auto tree = st.merged.build(rec.layers);
  auto hash = hex_of(hashes_of(st, *tree, rec.layers), *tree);
  layer_data effective{std::move(tree)};
  auto& counters = *st.etcd->counters;
  if (hash != rec.hash) {
    ++counters.hash_mismatches;
    detail::log().error("event=etcd_hash_mismatch version={} node=\"{}\" "
                        "recorded={} computed={}",
                        rec.version, rec.node, rec.hash.substr(0, 12),
                        hash.substr(0, 12));
    return then();
  }
  // A source layer this node proposed, replaced by another node's source
  // with other content: the same layer is read differently on two nodes.
  if (rec.node != st.etcd->node)
    for (auto& l : rec.layers) {
      auto kind = kind_of(l.name);
      if (kind == layer_kind::runtime || kind == layer_kind::defaults)
        continue;
      auto mine = st.own_layers.find(l.name);
      auto before = st.layers.data(l.name);
      // Most layers of a record are the base's own, shared: no deep compare.
      if (mine == st.own_layers.end() || (before && before->equals(l.data)))
        continue;
      if (canonical_hash(*l.data) != mine->second) {
        ++counters.layer_conflicts;
        detail::log().warn("event=layer_conflict layer=\"{}\" "
                           "version={} node=\"{}\" detail=\"another node "
                           "proposed other content for a layer this node "
                           "proposed: the last proposal wins\"",
                           l.name, rec.version, rec.node);
      }
    }
  if (!rec.secrets.empty())
    st.secrets = secret_paths::with(st.secrets, rec.secrets);
  commit_request req{rec.layers, std::move(effective), rec.origin,
                     st.secrets,  rec.version,         rec.timestamp_ms,
                     rec.hash,    rec.author,          rec.reason,
                     nullptr,     0};
  commit_locally(
    self, std::move(req),
    [self, then, layers{std::move(rec.layers)},
     key{std::move(rec.idempotency_key)}](snapshot_ptr& snap) mutable {
      stand_on(self, snap, std::move(layers), key);
      detail::log().info("event=config_adopted version={} hash=\"{}\" "
                         "origin=\"{}\" author=\"{}\" reason=\"{}\"",
                         snap->version, snap->hash.substr(0, 12),
                         detail::escaped(snap->origin),
                         detail::escaped(snap->author),
                         detail::escaped(snap->reason));
      then();
    },
    [self, then, version = rec.version](caf::error& err) mutable {
      detail::log().error("event=etcd_adopt_failed version={} error=\"{}\"",
                          version, self->system().render(err));
      then();
    });
}

/// Adopts `recs[i..]` one after the other, then runs `then`.
template <class Then>
void adopt_all(validator_ptr self,
               std::shared_ptr<std::vector<detail::version_record>> recs,
               std::size_t i, Then then) {
  if (i == recs->size())
    return then();
  adopt(self, std::move((*recs)[i]),
        [self, recs, i, then]() mutable { adopt_all(self, recs, i + 1, then); });
}

/// Every so many versions a record holds every layer (see above).
constexpr uint64_t full_record_every = 32;

/// How long, and how often at most, a write is validated again on a newer
/// head before it gives up: each attempt lost the race to another node's
/// commit. Under contention from several nodes a write takes longer rather
/// than fail; the time stays below a client's usual 5 s.
constexpr auto max_etcd_retry_time = std::chrono::seconds{3};
constexpr unsigned max_etcd_attempts = 256;

/// etcd mode: commits the candidate as the version after etcd's head with
/// one transaction that compares the head. On a conflict the newer versions
/// are adopted and the write is applied and validated again on them.
void commit_through_etcd(validator_ptr self, layer_stack candidate,
                         layer_data effective, write_request req, promise rp,
                         clock_type::time_point started, unsigned attempt) {
  using outcome = detail::etcd_commit_result::outcome;
  auto& st = self->state;
  detail::etcd_commit c;
  c.base = st.version;
  // Only the head this candidate was built on, or an etcd behind it (a
  // restore): a compare that passed on a newer head would drop what that
  // head holds.
  c.expect_head = std::min(st.etcd_head, st.version);
  auto& rec = c.record;
  // Never a number used before, here or in etcd.
  rec.version = std::max(st.version, st.etcd_head) + 1;
  rec.previous = c.expect_head;
  rec.hash = hex_of(hashes_of(st, *effective.tree(), candidate),
                    *effective.tree());
  rec.origin = req.origin;
  rec.author = req.author;
  rec.reason = req.reason;
  rec.node = st.etcd->node;
  rec.timestamp_ms = now_ms();
  // Built on the head etcd has: only what changed goes into the record
  // (layers share their data with the base's unless written), with every
  // layer every 32 versions so that a node whose base etcd no longer keeps
  // finds a record to start from.
  if (c.expect_head == st.version && st.version != 0
      && rec.version % full_record_every != 0) {
    rec.base = st.version;
    const auto& base_layers = st.layers;
    const auto& next = candidate;
    for (auto& l : next) {
      auto before = base_layers.data(l.name);
      if (before && *before == l.data)
        continue;
      // A layer the base has goes in as what changed, by path; whole if
      // that cannot be said (its root changed).
      auto changes = before ? detail::changes_between(*before, l.data)
                            : std::nullopt;
      if (!changes)
        rec.layers.put(l.name, l.data);
      else if (!changes->empty())
        rec.changes.emplace_back(l.name, std::move(*changes));
    }
    for (auto& l : base_layers)
      if (!next.data(l.name))
        rec.removed.push_back(l.name);
  } else {
    rec.layers = candidate;
  }
  if (st.secrets)
    rec.secrets = st.secrets->patterns();
  rec.idempotency_key = req.idempotency_key;
  auto local = commit_request{std::move(candidate), std::move(effective),
                              req.origin,           st.secrets,
                              rec.version,          rec.timestamp_ms,
                              rec.hash,             req.author,
                              req.reason,           nullptr,
                              0};
  auto asked = clock_type::now();
  self->request(st.etcd->committer, caf::infinite, commit_atom::value,
                std::move(c))
    .await(
      [self, rp, started, asked, attempt, local{std::move(local)},
       req{std::move(req)}](detail::etcd_commit_result& r) mutable {
        auto& st = self->state;
        auto& counters = *st.etcd->counters;
        switch (r.what) {
          case outcome::committed:
            ++counters.commits;
            counters.commit_micros += static_cast<uint64_t>(
              std::chrono::duration_cast<std::chrono::microseconds>(
                clock_type::now() - asked)
                .count());
            st.etcd_head = local.version;
            finish(self, std::move(local), req.idempotency_key, rp, started);
            return;
          case outcome::duplicate: {
            // The first write may have committed through another node and
            // not be installed here yet: installed first, a read after
            // this answer sees the version it names.
            st.remember_key(req.idempotency_key, r.version, r.hash);
            auto recs = std::make_shared<std::vector<detail::version_record>>(
              std::move(r.newer));
            adopt_all(self, recs, 0,
                      [self, rp, version{r.version},
                       hash{std::move(r.hash)}]() mutable {
                        settle(self->state);
                        rp.deliver(write_result{write_status::committed,
                                                version, std::move(hash),
                                                errc::none, {}, {}});
                      });
            return;
          }
          case outcome::conflict: {
            ++counters.cas_conflicts;
            // Behind this node: commit above both. Ahead: the versions that
            // won are adopted below, and the head follows them.
            st.etcd_head = std::min(r.head, st.version);
            auto recs = std::make_shared<std::vector<detail::version_record>>(
              std::move(r.newer));
            adopt_all(self, recs, 0,
                      [self, rp, req{std::move(req)}, attempt,
                       started]() mutable {
                        if (attempt + 1 >= max_etcd_attempts
                            || clock_type::now() - started
                                 > max_etcd_retry_time) {
                          reject(self, rp,
                                 write_result::reject(
                                   errc::version_conflict, "", "etcd",
                                   "etcd's head moved on "
                                     + std::to_string(attempt + 1)
                                     + " attempts in a row; try again"),
                                 req.origin);
                          return;
                        }
                        handle_write(self, std::move(req), std::move(rp),
                                     attempt + 1, started);
                      });
            return;
          }
          case outcome::unavailable:
            ++counters.errors;
            reject(self, rp,
                   write_result::reject(errc::unavailable, "", "etcd",
                                        "etcd: " + r.error),
                   req.origin);
            return;
          case outcome::refused:
            ++counters.errors;
            reject(self, rp,
                   write_result::reject(errc::store_failed, "", "etcd",
                                        "etcd refused the commit: "
                                          + r.error),
                   req.origin);
            return;
          case outcome::too_large:
            ++counters.errors;
            reject(self, rp,
                   write_result::reject(errc::too_large, "", "etcd", r.error),
                   req.origin);
            return;
        }
      },
      [self, rp, origin = req.origin](caf::error& err) mutable {
        ++self->state.etcd->counters->errors;
        reject(self, rp,
               write_result::reject(errc::unavailable, "", "etcd",
                                    self->system().render(err)),
               origin);
      });
}

/// Warns about each path a file edit in `req` changed that a higher layer
/// overrides: the edit is committed but changes nothing applications see.
/// Only the changed paths are looked up; at most a few lines per edit.
void warn_shadowed(const layer_stack& before, const layer_stack& after,
                   const write_request& req) {
  constexpr std::size_t max_lines = 10;
  for (auto& op : req.ops) {
    if (op.kind != op_kind::replace_layer
        || kind_of(op.layer) != layer_kind::file)
      continue;
    std::size_t total = 0;
    for (auto& x : detail::shadowed_edits(before, after, op.layer, max_lines,
                                          total))
      detail::log().warn("event=file_edit_shadowed layer=\"{}\" path=\"{}\" "
                         "shadowed_by=\"{}\"",
                         detail::escaped(op.layer), detail::escaped(x.path),
                         detail::escaped(x.shadower));
    if (total > max_lines)
      detail::log().warn("event=file_edit_shadowed layer=\"{}\" "
                         "more_paths={}",
                         detail::escaped(op.layer), total - max_lines);
  }
}

/// Commits an admitted candidate through the store (in etcd mode, through
/// etcd first); `roots` are the paths where it may differ from its base.
void commit_admitted(validator_ptr self, layer_stack candidate,
                     layer_data effective,
                     std::vector<std::string> roots, write_request req,
                     promise rp, clock_type::time_point started,
                     unsigned attempt) {
  auto& st = self->state;
  if (st.etcd) {
    commit_through_etcd(self, std::move(candidate), std::move(effective),
                        std::move(req), std::move(rp), started, attempt);
    return;
  }
  // The store diffs only below the roots and hashes along what changed;
  // the router and the primary pass those paths on.
  auto touched = std::make_shared<const std::vector<std::string>>(
    std::move(roots));
  commit_request local{std::move(candidate), std::move(effective),
                       std::move(req.origin), st.secrets, 0, 0, {},
                       std::move(req.author), std::move(req.reason),
                       std::move(touched),    0};
  finish(self, std::move(local), std::move(req.idempotency_key), rp, started);
}

/// A dry run that passed admission: the difference it would make.
void answer_dry_run(validator_ptr self, const layer_data& candidate,
                    const write_request& req, promise& rp) {
  auto& st = self->state;
  static const json nothing = json::object();
  // A rehearsal shows the whole difference: both trees as JSON (the
  // running version keeps its JSON for the readers after it).
  const auto& before = st.current ? *st.current->effective : nothing;
  const auto effective = detail::to_json(*candidate.tree());
  write_result out{write_status::accepted, st.version, st.hash, errc::none,
                   {}, {}};
  out.diff.from = st.version;
  out.diff.patch = json_patch(before, effective);
  out.diff.view = diff_view(before, effective);
  // The paths the write itself marks secret count too (not kept: a dry run
  // changes nothing).
  auto secrets = req.redact.empty() ? st.secrets
                                    : secret_paths::with(st.secrets, req.redact);
  if (secrets)
    out.diff.secrets = secrets->patterns();
  rp.deliver(std::move(out));
}

using pre_commit_check = contract_registry::pre_commit_check;
using pre_commit_checks = std::vector<pre_commit_check>;

/// The pre-commit checks whose prefix `effective` changes.
pre_commit_checks due_pre_commits(const validator_state& st,
                                  const layer_data& effective) {
  pre_commit_checks due;
  if (!st.options.contracts || st.options.contracts->pre_commit_count() == 0)
    return due;
  static const auto nothing = detail::node_of(json::object());
  const auto& before = st.current ? *st.current->effective.tree() : *nothing;
  const auto& after = *effective.tree();
  // Compared as trees: what the write left alone is shared, not walked.
  for (auto& c : st.options.contracts->pre_commit_checks()) {
    auto at = config_path::parse(c.prefix);
    if (!at) { // a prefix that names no path: the whole tree
      if (!detail::equal(before, after))
        due.push_back(c);
      continue;
    }
    auto x = detail::config_tree{st.current ? st.current->effective.tree()
                                            : nothing}
               .find(*at);
    auto y = detail::config_tree{effective.tree()}.find(*at);
    if ((x == nullptr) != (y == nullptr) || (x && !detail::equal(*x, *y)))
      due.push_back(c);
  }
  return due;
}

detail::pre_commit_runner_actor runner_for(validator_ptr self,
                                           const pre_commit_check& c) {
  auto& st = self->state;
  auto i = st.runners.find(c.id);
  if (i != st.runners.end())
    return i->second;
  // Linked: the runners go with the validator.
  auto runner = c.options.detached
                  ? self->spawn<caf::detached + caf::linked>(
                    detail::pre_commit_runner, c.subject)
                  : self->spawn<caf::linked>(detail::pre_commit_runner,
                                             c.subject);
  st.runners.emplace(c.id, runner);
  return runner;
}

/// Runs `due[i..]` one after the other on `candidate`, then `then`; the
/// first that fails refuses the write (reject gives every component that
/// took it the running version again).
template <class Then>
void run_pre_commits(validator_ptr self,
                     std::shared_ptr<const pre_commit_checks> due,
                     std::size_t i, snapshot_ptr candidate, promise rp,
                     std::string origin, Then then) {
  if (i == due->size())
    return then();
  auto& c = (*due)[i];
  auto runner = runner_for(self, c);
  auto& st = self->state;
  self
    ->request(runner, c.options.timeout, detail::pre_commit_atom::value,
              candidate, st.current)
    .await(
      [self, due, i, candidate, rp, origin, then,
       runner](std::string& problem) mutable {
        auto& c = (*due)[i];
        if (!problem.empty()) {
          // The runner gave its component the running version already.
          detail::log().warn("event=pre_commit_refused contract={} "
                             "reason=\"{}\" version={}",
                             c.name, detail::escaped(problem),
                             self->state.version);
          reject(self, rp,
                 write_result::reject(errc::validation_failed, c.prefix,
                                      c.rule, pre_commit_failed + problem),
                 origin);
          return;
        }
        self->state.pre_committed.push_back(runner);
        run_pre_commits(self, due, i + 1, std::move(candidate), rp,
                        std::move(origin), std::move(then));
      },
      [self, due, i, rp, origin, runner](caf::error& err) mutable {
        auto& c = (*due)[i];
        // Still running, or gone: once it returns, its component gets the
        // running version again (reject sends the restore behind it).
        self->state.pre_committed.push_back(runner);
        auto why = err == caf::sec::request_timeout
                     ? "did not answer within "
                         + std::to_string(
                           std::chrono::duration_cast<
                             std::chrono::milliseconds>(c.options.timeout)
                             .count())
                         + " ms"
                     : self->system().render(err);
        detail::log().warn("event=pre_commit_refused contract={} "
                           "reason=\"{}\" version={}",
                           c.name, detail::escaped(why), self->state.version);
        reject(self, rp,
               write_result::reject(errc::validation_failed, c.prefix, c.rule,
                                    pre_commit_failed + why),
               origin);
      });
}

/// Validates `candidate`, runs the pre-commit checks it is due, and commits
/// it. The validator is the ordering point: a write that runs alone waits
/// for its commit before the next is taken; others are pipelined (the next
/// write builds on this candidate while the store makes it durable). A dry
/// run stops after validation with the diff.
void admit(validator_ptr self, layer_stack candidate, write_request req,
           promise rp, clock_type::time_point started, unsigned attempt) {
  auto& st = self->state;
  // The schema's x-normalize rules ("debug" -> "DEBUG") rewrite what is
  // stored, layer by layer, before the candidate is judged. A layer the
  // write did not touch shares its data with the running stack, which was
  // normalized when it was stored: only the touched ones are walked.
  // Layers this validator accepted were normalized by this schema: a layer
  // a write edited from one of those needs it only where the write changed
  // it.
  if (st.options.schema)
    detail::normalize_written(*st.options.schema, st.layers,
                              st.proven && same_layers(*st.proven, st.layers),
                              candidate);
  if (candidate == st.layers) {
    ++st.stats.unchanged;
    settle(st);
    // On top of a version still in flight: answered with that version's
    // number and hash once it is durable (or refused with it).
    if (!st.in_flight.empty()) {
      st.in_flight.back().answers.emplace_back(
        rp, write_result{write_status::unchanged, 0, {}, errc::none, {}, {}});
      return;
    }
    rp.deliver(write_result{write_status::unchanged, st.version, st.hash,
                            errc::none, {}, {}});
    return;
  }
  // Where the merged tree may have changed: below what the layers the write
  // changed touch, against the version it was built on (the head, in flight
  // or durable). If the schema accepted that version here, it proves only
  // what changed below these paths (json_schema::validate).
  auto roots = detail::touched_paths(st.layers, candidate);
  // The merged tree, built from the last candidate's along what changed:
  // it shares the rest with the versions before it. Built on the head (no
  // refusal since), it changes where `roots` say: found once.
  auto on_head = same_layers(st.merged.last(), st.layers);
  layer_data effective{st.merged.build(candidate, on_head ? &roots : nullptr)};
  auto base_proven = st.proven && same_layers(*st.proven, st.layers);
  if (base_proven)
    ++st.judged_on_proven;
  auto errors = check_candidate(effective, st.options,
                                base_proven ? &roots : nullptr);
  if (!errors.empty()) {
    auto secrets = st.secrets;
    if (req.dry_run && !req.redact.empty())
      secrets = secret_paths::with(secrets, req.redact);
    if (secrets)
      detail::redact_errors(errors, *effective, *secrets);
    reject(self, rp, write_result::reject(errc::validation_failed,
                                          std::move(errors)),
           req.origin);
    return;
  }
  if (req.dry_run) {
    answer_dry_run(self, effective, req, rp);
    return;
  }
  // The schema accepts it: a base for the writes built on it.
  st.proven = candidate;
  warn_shadowed(st.layers, candidate, req);
  auto due = due_pre_commits(st, effective);
  if (due.empty()) {
    commit_admitted(self, std::move(candidate), std::move(effective),
                    std::move(roots), std::move(req), std::move(rp), started,
                    attempt);
    return;
  }
  // The component sees the version this write would become.
  auto next = std::max(st.version, st.etcd_head) + 1;
  auto shown = snapshot::make(next, req.origin, candidate, effective,
                              now_ms(), st.secrets, req.author, req.reason);
  auto origin = req.origin;
  run_pre_commits(
    self, std::make_shared<const pre_commit_checks>(std::move(due)), 0,
    std::move(shown), rp, std::move(origin),
    [self, candidate{std::move(candidate)}, effective(std::move(effective)),
     roots{std::move(roots)}, req{std::move(req)}, rp, started,
     attempt]() mutable {
      commit_admitted(self, std::move(candidate), std::move(effective),
                      std::move(roots), std::move(req), std::move(rp),
                      started, attempt);
    });
}

void handle_write(validator_ptr self, write_request req, promise rp,
                  unsigned attempt, clock_type::time_point since) {
  auto started = attempt == 0 ? clock_type::now() : since;
  auto& st = self->state;
  // A dry run runs alone (the validator awaits it): the flag holds until
  // this one is answered.
  st.dry_run = req.dry_run;
  // A retry of a keyed write that committed: the same answer, no new
  // version (in etcd mode the transaction checks the key cluster-wide).
  if (!req.idempotency_key.empty() && !req.dry_run) {
    auto i = st.keyed.find(req.idempotency_key);
    if (i != st.keyed.end()) {
      rp.deliver(write_result{write_status::committed, i->second.first,
                              i->second.second, errc::none, {}, {}});
      return;
    }
  }
  // A node that does not follow etcd right now would validate against a
  // head it cannot vouch for, and its commit would fail anyway.
  if (st.etcd && !st.etcd->counters->writable) {
    reject(self, rp,
           write_result::reject(errc::unavailable, "", "etcd",
                                "this node is not in sync with etcd (no "
                                "watch, or etcd does not answer): try "
                                "again later or through another node"),
           req.origin);
    return;
  }
  if (req.expected_version != 0 && req.expected_version != st.version) {
    reject(self, rp,
           write_result::reject(errc::version_conflict, "", "version",
                                "expected version "
                                  + std::to_string(req.expected_version)
                                  + ", current is "
                                  + std::to_string(st.version)),
           req.origin);
    return;
  }
  if (req.ops.empty()) {
    reject(self, rp,
           write_result::reject(errc::invalid_argument, "", "operation",
                                "a write needs at least one operation"),
           req.origin);
    return;
  }
  // Every entry point checks the reason it takes; this covers library
  // writers, whose text reaches the same logs and history.
  if (auto problem = reason_problem(req.reason)) {
    reject(self, rp,
           write_result::reject(errc::invalid_argument, "", "reason",
                                "the change reason is " + *problem),
           req.origin);
    return;
  }
  if (req.ops.size() == 1 && req.ops[0].kind == op_kind::rollback) {
    // A rollback is always named for its target, whoever asked: the
    // history reads "rollback:3" by alice. A writer without an author (a
    // contract guard, a library call) keeps its channel as the author, so
    // nothing that was recorded before is lost.
    auto target = req.ops[0].version;
    auto origin = "rollback:" + std::to_string(target);
    if (req.author.empty())
      req.author = std::move(req.origin);
    req.origin = origin;
    self->request(st.store, caf::infinite, get_atom::value, target)
      .await(
        [self, rp, req, started, attempt](snapshot_ptr& snap) mutable {
          admit(self, snap->layers, std::move(req), std::move(rp), started,
                attempt);
        },
        [self, rp, origin, target](caf::error&) mutable {
          reject(self, rp,
                 write_result::reject(errc::not_found, "", "rollback",
                                      "version " + std::to_string(target)
                                        + " is not in the history"),
                 origin);
        });
    return;
  }
  if (!req.redact.empty() && !req.dry_run)
    st.secrets = secret_paths::with(st.secrets, req.redact);
  auto candidate = st.layers;
  validation_errors errors;
  auto code = detail::apply_operations(candidate, req, st.options.max_depth, errors);
  if (code != errc::none) {
    reject(self, rp, write_result::reject(code, std::move(errors)),
           req.origin);
    return;
  }
  if (st.etcd && attempt == 0 && !req.dry_run) {
    for (auto& op : req.ops) {
      if (op.kind != op_kind::replace_layer
          || kind_of(op.layer) == layer_kind::runtime)
        continue;
      // As it will be stored: after the schema's x-normalize rules.
      auto normalized = st.options.schema
                          ? st.options.schema->normalized(op.value)
                          : std::nullopt;
      st.own_layers[op.layer] = canonical_hash(normalized ? *normalized
                                                          : op.value);
    }
  }
  admit(self, std::move(candidate), std::move(req), std::move(rp), started,
        attempt);
}

/// Whether `req` must run alone: with no commit in flight before it, and
/// awaiting each step so that no write is taken until it is answered.
bool runs_alone(const validator_state& st, const write_request& req) {
  // etcd: each commit compares etcd's head, which only the previous
  // commit's answer moves. Pre-commit checks show a component the running
  // version and give it back on a refusal: it must be the durable one. A
  // rollback reads its target from the store, which knows durable versions
  // only. A dry run diffs against the durable version. A retry of a keyed
  // write still in flight must find its key answered, not commit twice.
  if (st.etcd || req.dry_run
      || (req.ops.size() == 1 && req.ops[0].kind == op_kind::rollback)
      || (st.options.contracts
          && st.options.contracts->pre_commit_count() > 0))
    return true;
  if (!req.idempotency_key.empty())
    for (auto& x : st.in_flight)
      if (x.key == req.idempotency_key)
        return true;
  return false;
}

/// Starts the held writes in order, as far as they may start now: one that
/// runs alone waits until no commit is in flight, and the writes behind it
/// wait until it is answered (a resume message queued behind its awaits).
void pump(validator_ptr self) {
  auto& st = self->state;
  while (!st.held.empty()) {
    auto alone = runs_alone(st, st.held.front().req);
    if ((alone && !st.in_flight.empty())
        || st.in_flight.size() >= max_in_flight)
      return; // an answer from the store calls pump again
    auto w = std::move(st.held.front());
    st.held.pop_front();
    st.alone = alone;
    handle_write(self, std::move(w.req), std::move(w.promise), 0, {});
    if (alone) {
      if (!st.held.empty() && !st.resume_pending) {
        st.resume_pending = true;
        self->send(self, detail::resume_atom::value);
      }
      return;
    }
  }
}

} // namespace

validation_errors check_candidate(const json& effective,
                                  const validator_options& options,
                                  const std::vector<std::string>* changed) {
  return check_candidate(layer_data{effective}, options, changed);
}

validation_errors check_candidate(const layer_data& effective,
                                  const validator_options& options,
                                  const std::vector<std::string>* changed) {
  validation_errors errors;
  if (options.schema && changed)
    options.schema->validate(effective, *changed, errors);
  else if (options.schema)
    options.schema->validate(*effective, errors);
  // Rules run where the write changed something (on the subtrees below
  // their paths), the same premise as the schema's proof; tree checks and
  // contracts read the whole tree as JSON, made here when any is
  // registered (docs/ARCHITECTURE.md, "Structural sharing").
  if (options.rules && options.rules->size() > 0)
    options.rules->check(effective, changed, errors);
  if (options.contracts && options.contracts->size() > 0)
    options.contracts->check(*effective, errors);
  return errors;
}

validator_impl::behavior_type
validator(validator_ptr self, validator_options options,
          store_backend_actor store, std::optional<detail::etcd_hooks> etcd) {
  auto& st = self->state;
  st.options = std::move(options);
  st.store = std::move(store);
  st.etcd = std::move(etcd);
  if (st.options.schema)
    st.secrets = secret_paths::with(
      nullptr, schema_secret_paths(st.options.schema->document()));
  // Start from what the store holds (it may have restored a journal); no write
  // is taken before that answer.
  self->request(st.store, caf::infinite, get_atom::value)
    .await([self](snapshot_ptr& snap) {
      auto& st = self->state;
      st.layers = snap->layers;
      st.version = snap->version;
      st.hash = snap->hash;
      st.current = snap;
      st.merged.reset(snap->layers, snap->effective.tree());
      if (snap->secrets)
        st.secrets = secret_paths::with(st.secrets, snap->secrets->patterns());
      // etcd numbers versions after the newest this node has ever seen.
      st.etcd_head = st.version;
      if (st.etcd)
        self->send(st.etcd->presence, detail::applied_atom::value, st.version,
                   st.hash);
    });
  return {
    [self](write_atom, write_request& req) -> caf::result<write_result> {
      auto rp = self->make_response_promise<write_result>();
      self->state.held.push_back({std::move(req), rp});
      pump(self);
      return rp;
    },
    [self](detail::resume_atom) {
      self->state.resume_pending = false;
      pump(self);
    },
    [self](detail::adopt_atom, detail::version_record& rec) {
      if (self->state.etcd)
        adopt(self, std::move(rec), [] {});
    },
    [self](stats_atom) {
      auto result = self->state.stats;
      result.tree_copies = self->state.merged.whole_builds;
      return result;
    },
  };
}

} // namespace cfgactors

// Runtime operations: the writes operators and programs make. Each enters the
// pipeline through the validator; a transaction is several of them applied as
// one version, all or nothing.
#pragma once

#include <cstdint>
#include <string>
#include <utility>
#include <vector>

#include <caf/meta/type_name.hpp>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/json_inspect.hpp"
#include "cfgactors/layer.hpp"

namespace cfgactors {

enum class op_kind : uint8_t {
  set,           ///< runtime layer: `path` = `value`
  unset,         ///< runtime layer: tombstone `path` (removed from the effective config)
  reset,         ///< runtime layer: drop the override at `path` (lower layers show again)
  merge_patch,   ///< runtime layer: RFC 7386 merge patch `value` at `path`
  replace_layer, ///< layer `layer` = `value` (what sources propose)
  remove_layer,  ///< drop layer `layer`
  flag,          ///< `features.<path>` on/off (`value` is a bool)
  rollback,      ///< restore the layers of `version`
};

std::string to_string(op_kind x);

struct operation {
  op_kind kind = op_kind::set;
  std::string path;
  json value;
  std::string layer;
  uint64_t version = 0;

  static operation set(std::string path, json value);
  static operation unset(std::string path);
  static operation reset(std::string path);
  static operation merge_patch(json patch, std::string path = {});
  static operation replace_layer(std::string layer, json data);
  static operation remove_layer(std::string layer);
  static operation flag(std::string name, bool enabled);
  static operation rollback(uint64_t version);

  friend bool operator==(const operation& x, const operation& y) {
    return x.kind == y.kind && x.path == y.path && x.value == y.value
           && x.layer == y.layer && x.version == y.version;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, operation& x) {
  return f(caf::meta::type_name("operation"), x.kind, x.path,
           json_field{x.value}, x.layer, x.version);
}

/// A write: one operation, or a transaction of several.
struct write_request {
  write_request() = default;

  write_request(std::vector<operation> ops, std::string origin = {},
                uint64_t expected_version = 0,
                std::vector<std::string> redact = {},
                std::string idempotency_key = {})
    : ops(std::move(ops)),
      origin(std::move(origin)),
      expected_version(expected_version),
      redact(std::move(redact)),
      idempotency_key(std::move(idempotency_key)) {
    // nop
  }

  std::vector<operation> ops;
  std::string origin;            ///< who: "file:/etc/app.yaml", "api:alice", ...
  uint64_t expected_version = 0; ///< compare-and-set when non-zero
  /// Dotted paths whose values are secrets: never shown in errors or logs.
  std::vector<std::string> redact;
  /// A client's name for this write (`Idempotency-Key`): a retry with the
  /// same key answers the version the first attempt committed instead of
  /// committing again. Empty: none.
  std::string idempotency_key;
  /// The person or program behind the write, apart from the channel in
  /// `origin`: a named token's name ("alice"), kept in the history. Empty:
  /// unknown.
  std::string author;
  /// Why (`X-Change-Reason`, `cfgctl --reason`): free text kept in the
  /// history, checked by reason_problem (change_reason.hpp). Empty: none.
  std::string reason;
  /// Admit without committing: the validator runs every check (operations,
  /// schema, rules, contracts' `validate`, compare-and-set) and answers
  /// `accepted` with the difference the write would make, or `rejected`
  /// with every reason. No version is made, nothing is journaled or
  /// published, and no pre-commit check's `apply` runs (pre_commit.hpp).
  bool dry_run = false;

  friend bool operator==(const write_request& x, const write_request& y) {
    return x.ops == y.ops && x.origin == y.origin
           && x.expected_version == y.expected_version && x.redact == y.redact
           && x.idempotency_key == y.idempotency_key && x.author == y.author
           && x.reason == y.reason && x.dry_run == y.dry_run;
  }
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f, write_request& x) {
  return f(caf::meta::type_name("write_request"), x.ops, x.origin,
           x.expected_version, x.redact, x.idempotency_key, x.author,
           x.reason, x.dry_run);
}

} // namespace cfgactors

// Private: a version as etcd holds it (docs/CLUSTER.md, "etcd mode"): one
// JSON value per version under `/cfgactors/<cluster>/versions/`, with every
// layer, so that any one record is enough to install its version.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <caf/allowed_unsafe_message_type.hpp>
#include <caf/expected.hpp>

#include "cfgactors/layer.hpp"
#include "model/layer_changes.hpp"

namespace cfgactors::detail {

/// The newest record format this code reads; a record of a later format is
/// refused by name rather than half read. A record holding `changes` is
/// format 2; one without is format 1, as nodes of earlier builds read it
/// (they skip a format 2 record, counted, and install the next whole one).
inline constexpr int version_record_format = 2;

/// How deep a record may nest: the API's limit on written values (128,
/// validator_options::max_depth) plus the record's own levels, with room.
inline constexpr std::size_t max_record_depth = 160;

struct version_record {
  uint64_t version = 0;
  uint64_t previous = 0; ///< the head it was committed on (compare-and-set)
  std::string hash;      ///< canonical_hash of the effective tree
  std::string origin;    ///< who wrote it ("api:alice", "file:/etc/app.yaml")
  std::string node;      ///< the cfgd that validated and committed it
  int64_t timestamp_ms = 0;
  /// With `base` 0 every layer; else only the layers that differ from
  /// version `base`'s (which the writer stood on) and the names of those
  /// it no longer has: a record the size of the change, installed on top
  /// of `base` only (the hash checks the result).
  layer_stack layers;
  uint64_t base = 0;
  std::vector<std::string> removed;
  /// With `base`: the layers the base has that changed by paths, as those
  /// changes (a one-key write into a large layer is a record of one key).
  std::vector<std::pair<std::string, layer_changes>> changes;
  std::vector<std::string> secrets; ///< secret path patterns in force
  std::string idempotency_key;      ///< the writer's key, if it gave one
  /// write_request::author and ::reason. Optional in the format: written
  /// only when set, so a record without them (from a node of an older
  /// build, or a write without them) reads as empty.
  std::string author;
  std::string reason;
};

class secret_box;

/// Compact JSON text; keys sorted (nlohmann), so equal records encode
/// equally. With a `box` (the cluster's secrets key, shared by its nodes),
/// every secret value is sealed, bound to `cluster`, version, layer and
/// path: etcd, its backups and whoever reads them see no secret.
std::string encode(const version_record& x, const secret_box* box = nullptr,
                   std::string_view cluster = {});

/// A record read from `key` is refused: errc::parse_failed, "etcd record
/// <key>: <what>".
caf::error refused_record(std::string_view key, const std::string& what);

/// What etcd stores for `x`: encode()'s text, or that text deflated when it
/// is longer than `text_limit` (what fits in one etcd request besides the
/// transaction's other operations; etcd/record_deflate.hpp).
std::string stored_form(const version_record& x, std::size_t text_limit,
                        const secret_box* box = nullptr,
                        std::string_view cluster = {});

/// Parses a record read from `key`, as JSON text or deflated; every refusal
/// names the key and what is wrong (not JSON, a deflated stream that does
/// not inflate or inflates too far, a later format, a missing or mistyped
/// field, a sealed secret without the key or that does not open with it).
caf::expected<version_record>
decode_version_record(std::string_view stored, std::string_view key,
                      const secret_box* box = nullptr,
                      std::string_view cluster = {});

} // namespace cfgactors::detail

// Only between the actors of one process.
CAF_ALLOW_UNSAFE_MESSAGE_TYPE(cfgactors::detail::version_record)

#include "etcd/version_record.hpp"

#include <nlohmann/json.hpp>

#include "cfgactors/errc.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/secrets.hpp"
#include "etcd/record_deflate.hpp"
#include "model/layer_changes.hpp"
#include "pipeline/secret_box.hpp"

namespace cfgactors::detail {

namespace {

/// What a sealed value is bound to: it opens only in its own cluster,
/// version, layer and place.
std::string seal_context(std::string_view cluster, uint64_t version,
                         const std::string& layer, const config_path& at) {
  return "cfgactors etcd cluster " + std::string{cluster} + " version "
         + std::to_string(version) + " layer " + layer + " path " + at.str();
}

std::string dump(const json& x) {
  return x.dump(-1, ' ', false, json::error_handler_t::replace);
}

} // namespace

std::string encode(const version_record& x, const secret_box* box,
                   std::string_view cluster) {
  auto layers = x.layers.to_json();
  auto changes = json::array();
  for (auto& [name, ch] : x.changes) {
    json entry{{"name", name}};
    write_changes(entry, ch);
    changes.push_back(std::move(entry));
  }
  if (box && !x.secrets.empty()) {
    secret_paths secrets{x.secrets};
    for (auto& entry : layers) {
      auto& name = entry["name"].get_ref<const std::string&>();
      secrets.for_each(entry["data"], [&](const config_path& at, json& value) {
        value = box->seal(dump(value),
                          seal_context(cluster, x.version, name, at));
      });
    }
    for (std::size_t i = 0; i < x.changes.size(); ++i) {
      const auto& name = x.changes[i].first;
      auto& set = changes[i]["set"];
      for (auto& change : x.changes[i].second.set)
        secrets.for_each(set[change.first.str()], change.first,
                         [&](const config_path& p, json& value) {
                           value = box->seal(dump(value),
                                             seal_context(cluster, x.version,
                                                          name, p));
                         });
    }
  }
  json doc{{"format", x.changes.empty() ? 1 : 2},
           {"version", x.version},
           {"previous", x.previous},
           {"hash", x.hash},
           {"origin", x.origin},
           {"node", x.node},
           {"timestamp_ms", x.timestamp_ms},
           {"layers", std::move(layers)},
           {"secrets", x.secrets}};
  if (!x.idempotency_key.empty())
    doc["idempotency_key"] = x.idempotency_key;
  if (!x.author.empty())
    doc["author"] = x.author;
  if (!x.reason.empty())
    doc["reason"] = x.reason;
  if (x.base != 0) {
    doc["base"] = x.base;
    doc["removed"] = x.removed;
  }
  if (!x.changes.empty())
    doc["changes"] = std::move(changes);
  return dump(doc);
}

caf::error refused_record(std::string_view key, const std::string& what) {
  return make_error(errc::parse_failed,
                    "etcd record " + std::string{key} + ": " + what);
}

std::string stored_form(const version_record& x, std::size_t text_limit,
                        const secret_box* box, std::string_view cluster) {
  auto text = encode(x, box, cluster);
  if (text.size() <= text_limit)
    return text;
  return deflate_record(text);
}

caf::expected<version_record>
decode_version_record(std::string_view stored, std::string_view key,
                      const secret_box* box, std::string_view cluster) {
  std::string inflated;
  auto text = stored;
  if (is_deflated_record(stored)) {
    auto x = inflate_record(stored, key);
    if (!x)
      return std::move(x.error());
    inflated = std::move(*x);
    text = inflated;
  }
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return refused_record(key, "not a JSON object");
  // A write through the API is refused beyond max_depth; a record written
  // into etcd directly is not, and every node would merge and hash it.
  if (nesting_depth(doc) > max_record_depth)
    return refused_record(key,
                          "nested deeper than "
                            + std::to_string(max_record_depth) + " levels");
  auto format = doc.find("format");
  if (format == doc.end() || !format->is_number_integer())
    return refused_record(key, "no `format`");
  if (format->get<int64_t>() < 1
      || format->get<int64_t>() > version_record_format)
    return refused_record(key,
                          "format " + format->dump() + ", this node reads 1 to "
                            + std::to_string(version_record_format));
  version_record out;
  auto number = [&](const char* name, auto& field) -> caf::error {
    auto i = doc.find(name);
    if (i == doc.end() || !i->is_number_integer())
      return refused_record(key,
                            std::string{"`"} + name + "` is not an integer");
    field = i->get<std::decay_t<decltype(field)>>();
    return {};
  };
  auto text_of = [&](const char* name, std::string& field,
                     bool required) -> caf::error {
    auto i = doc.find(name);
    if (i == doc.end() && !required)
      return {};
    if (i == doc.end() || !i->is_string())
      return refused_record(key, std::string{"`"} + name + "` is not a string");
    field = i->get<std::string>();
    return {};
  };
  if (auto err = number("version", out.version))
    return err;
  if (auto err = number("previous", out.previous))
    return err;
  if (auto err = number("timestamp_ms", out.timestamp_ms))
    return err;
  for (auto [name, field] : {std::pair{"hash", &out.hash},
                             std::pair{"origin", &out.origin},
                             std::pair{"node", &out.node}})
    if (auto err = text_of(name, *field, true))
      return err;
  for (auto [name, field] : {std::pair{"idempotency_key",
                                       &out.idempotency_key},
                             std::pair{"author", &out.author},
                             std::pair{"reason", &out.reason}})
    if (auto err = text_of(name, *field, false))
      return err;
  if (doc.contains("base")) {
    if (auto err = number("base", out.base))
      return err;
    if (out.base >= out.version)
      return refused_record(key, "base " + std::to_string(out.base)
                                   + " is not before version "
                                   + std::to_string(out.version));
    auto removed = doc.find("removed");
    if (removed == doc.end() || !removed->is_array())
      return refused_record(key, "`removed` is not an array");
    for (auto& r : *removed) {
      if (!r.is_string())
        return refused_record(key, "`removed` holds a non-string");
      out.removed.push_back(r.get<std::string>());
    }
  }
  if (out.version == 0 || out.previous >= out.version)
    return refused_record(key,
                          "version " + std::to_string(out.version)
                            + " does not follow "
                            + std::to_string(out.previous));
  auto secrets = doc.find("secrets");
  if (secrets == doc.end() || !secrets->is_array())
    return refused_record(key, "`secrets` is not an array");
  for (auto& s : *secrets) {
    if (!s.is_string())
      return refused_record(key, "`secrets` holds a non-string");
    out.secrets.push_back(s.get<std::string>());
  }
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array())
    return refused_record(key, "`layers` is not an array");
  if (auto changes = doc.find("changes"); changes != doc.end()) {
    if (format->get<int64_t>() < 2 || out.base == 0 || !changes->is_array())
      return refused_record(key,
                            "`changes` is not an array in a format 2 record "
                            "with a base");
    for (auto& entry : *changes) {
      auto name = entry.is_object() ? entry.find("name") : changes->end();
      if (!entry.is_object() || name == entry.end() || !name->is_string())
        return refused_record(key, "`changes` holds an entry without a name");
      std::string why;
      auto ch = read_changes(entry, why);
      if (!ch)
        return refused_record(key,
                              "`changes` of layer " + name->get<std::string>()
                                + ": " + why);
      for (auto& x : out.changes)
        if (x.first == name->get_ref<const std::string&>())
          return refused_record(key,
                                "`changes` names layer " + x.first + " twice");
      out.changes.emplace_back(name->get<std::string>(), std::move(*ch));
    }
  }
  if (!out.secrets.empty()) {
    secret_paths paths{out.secrets};
    std::string problem;
    auto unseal = [&](const std::string& name) {
      return [&](const config_path& at, json& value) {
        if (!problem.empty() || !value.is_string())
          return;
        auto& sealed = value.get_ref<const std::string&>();
        if (sealed.rfind(secret_box::prefix, 0) != 0)
          return; // committed by a node without the key: plain
        if (!box) {
          problem = "the secret at " + at.str() + " in layer " + name
                    + " is sealed and this node has no secrets key "
                      "(--etcd-secrets-key-file)";
          return;
        }
        auto plain = box->open(sealed, seal_context(cluster, out.version,
                                                    name, at));
        auto parsed = plain ? json::parse(*plain, nullptr, false) : json{};
        if (!plain || parsed.is_discarded()) {
          problem = "the secret at " + at.str() + " in layer " + name
                    + " does not open with key " + box->key_id()
                    + ": another key, or the record was changed";
          return;
        }
        value = std::move(parsed);
      };
    };
    for (auto& entry : *layers) {
      if (!entry.is_object() || !entry.contains("data")
          || !entry.contains("name") || !entry["name"].is_string())
        continue; // from_json below refuses it
      auto& name = entry["name"].get_ref<const std::string&>();
      paths.for_each(entry["data"], unseal(name));
    }
    for (auto& [name, ch] : out.changes)
      for (auto& [at, value] : ch.set)
        paths.for_each(value, at, unseal(name));
    if (!problem.empty())
      return refused_record(key, problem);
  }
  out.layers = layer_stack::from_json(*layers);
  if (out.layers.size() != layers->size())
    return refused_record(key,
                          "`layers` holds an entry that is not "
                          "{\"name\": string, \"data\": ...} or a name twice");
  for (auto& x : out.changes)
    if (out.layers.data(x.first) != nullptr)
      return refused_record(key, "layer " + x.first
                                   + " is in both `layers` and `changes`");
  return out;
}

} // namespace cfgactors::detail

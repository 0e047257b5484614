#include "etcd/version_record.hpp"

#include <nlohmann/json.hpp>

#include "cfgactors/errc.hpp"

namespace cfgactors::detail {

std::string encode(const version_record& x) {
  json doc{{"format", version_record_format},
           {"version", x.version},
           {"previous", x.previous},
           {"hash", x.hash},
           {"origin", x.origin},
           {"node", x.node},
           {"timestamp_ms", x.timestamp_ms},
           {"layers", x.layers.to_json()},
           {"secrets", x.secrets}};
  if (!x.idempotency_key.empty())
    doc["idempotency_key"] = x.idempotency_key;
  return doc.dump();
}

namespace {

caf::error refused(std::string_view key, const std::string& what) {
  return make_error(errc::parse_failed,
                    "etcd record " + std::string{key} + ": " + what);
}

} // namespace

caf::expected<version_record> decode_version_record(std::string_view text,
                                                    std::string_view key) {
  auto doc = json::parse(text, nullptr, false);
  if (doc.is_discarded() || !doc.is_object())
    return refused(key, "not a JSON object");
  auto format = doc.find("format");
  if (format == doc.end() || !format->is_number_integer())
    return refused(key, "no `format`");
  if (format->get<int64_t>() != version_record_format)
    return refused(key, "format " + format->dump() + ", this node reads "
                          + std::to_string(version_record_format));
  version_record out;
  auto number = [&](const char* name, auto& field) -> caf::error {
    auto i = doc.find(name);
    if (i == doc.end() || !i->is_number_integer())
      return refused(key, std::string{"`"} + name + "` is not an integer");
    field = i->get<std::decay_t<decltype(field)>>();
    return {};
  };
  auto text_of = [&](const char* name, std::string& field,
                     bool required) -> caf::error {
    auto i = doc.find(name);
    if (i == doc.end() && !required)
      return {};
    if (i == doc.end() || !i->is_string())
      return refused(key, std::string{"`"} + name + "` is not a string");
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
  if (auto err = text_of("idempotency_key", out.idempotency_key, false))
    return err;
  if (out.version == 0 || out.previous >= out.version)
    return refused(key, "version " + std::to_string(out.version)
                          + " does not follow " + std::to_string(out.previous));
  auto layers = doc.find("layers");
  if (layers == doc.end() || !layers->is_array())
    return refused(key, "`layers` is not an array");
  out.layers = layer_stack::from_json(*layers);
  if (out.layers.size() != layers->size())
    return refused(key, "`layers` holds an entry that is not "
                        "{\"name\": string, \"data\": ...} or a name twice");
  auto secrets = doc.find("secrets");
  if (secrets == doc.end() || !secrets->is_array())
    return refused(key, "`secrets` is not an array");
  for (auto& s : *secrets) {
    if (!s.is_string())
      return refused(key, "`secrets` holds a non-string");
    out.secrets.push_back(s.get<std::string>());
  }
  return out;
}

} // namespace cfgactors::detail

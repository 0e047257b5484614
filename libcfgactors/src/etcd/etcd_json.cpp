#include "etcd/etcd_json.hpp"

#include <array>
#include <charconv>

namespace cfgactors::detail {

namespace {

constexpr std::string_view alphabet
  = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

constexpr std::array<int8_t, 256> make_values() {
  std::array<int8_t, 256> out{};
  for (auto& v : out)
    v = -1;
  for (std::size_t i = 0; i < alphabet.size(); ++i)
    out[static_cast<unsigned char>(alphabet[i])] = static_cast<int8_t>(i);
  return out;
}

constexpr auto values = make_values();

nlohmann::json compare(std::string_view key, const char* target,
                       const char* field, nlohmann::json value) {
  return {{"key", base64_encode(key)},
          {"result", "EQUAL"},
          {"target", target},
          {field, std::move(value)}};
}

nlohmann::json with_range(nlohmann::json op, std::string_view range_end) {
  if (!range_end.empty())
    op["range_end"] = base64_encode(range_end);
  return op;
}

} // namespace

std::string base64_encode(std::string_view raw) {
  std::string out;
  out.reserve(4 * ((raw.size() + 2) / 3));
  auto byte = [&](std::size_t i) {
    return i < raw.size() ? static_cast<unsigned char>(raw[i]) : 0u;
  };
  for (std::size_t i = 0; i < raw.size(); i += 3) {
    auto n = (byte(i) << 16) | (byte(i + 1) << 8) | byte(i + 2);
    out += alphabet[(n >> 18) & 63];
    out += alphabet[(n >> 12) & 63];
    out += i + 1 < raw.size() ? alphabet[(n >> 6) & 63] : '=';
    out += i + 2 < raw.size() ? alphabet[n & 63] : '=';
  }
  return out;
}

std::optional<std::string> base64_decode(std::string_view text) {
  if (text.size() % 4 != 0)
    return std::nullopt;
  std::string out;
  out.reserve(text.size() / 4 * 3);
  for (std::size_t i = 0; i < text.size(); i += 4) {
    auto last = i + 4 == text.size();
    // Padding only at the very end: "xx==" or "xxx=".
    auto pad = last && text[i + 3] == '=' ? (text[i + 2] == '=' ? 2 : 1) : 0;
    uint32_t n = 0;
    for (int j = 0; j < 4; ++j) {
      auto v = j < 4 - pad ? values[static_cast<unsigned char>(text[i + j])]
                           : int8_t{0};
      if (v < 0)
        return std::nullopt;
      n = (n << 6) | static_cast<uint32_t>(v);
    }
    // The bits below the last byte must be zero, or several texts would
    // decode to the same bytes.
    if ((pad == 1 && (n & 0xff) != 0) || (pad == 2 && (n & 0xffff) != 0))
      return std::nullopt;
    out += static_cast<char>(n >> 16);
    if (pad < 2)
      out += static_cast<char>((n >> 8) & 0xff);
    if (pad < 1)
      out += static_cast<char>(n & 0xff);
  }
  return out;
}

std::string prefix_end(std::string_view prefix) {
  std::string end{prefix};
  while (!end.empty() && static_cast<unsigned char>(end.back()) == 0xff)
    end.pop_back();
  if (end.empty())
    return std::string(1, '\0');
  end.back() = static_cast<char>(static_cast<unsigned char>(end.back()) + 1);
  return end;
}

int64_t int64_of(const nlohmann::json& obj, const char* field) {
  if (!obj.is_object())
    return 0;
  auto i = obj.find(field);
  if (i == obj.end())
    return 0;
  if (i->is_number_integer())
    return i->get<int64_t>();
  if (!i->is_string())
    return 0;
  auto& text = i->get_ref<const std::string&>();
  int64_t out = 0;
  auto [end, ec] = std::from_chars(text.data(), text.data() + text.size(), out);
  if (ec != std::errc{} || end != text.data() + text.size())
    return 0;
  return out;
}

etcd_kv kv_of(const nlohmann::json& kv) {
  etcd_kv out;
  if (!kv.is_object())
    return out;
  auto text = [&](const char* field) {
    auto i = kv.find(field);
    if (i == kv.end() || !i->is_string())
      return std::string{};
    return base64_decode(i->get_ref<const std::string&>()).value_or("");
  };
  out.key = text("key");
  out.value = text("value");
  out.create_revision = int64_of(kv, "create_revision");
  out.mod_revision = int64_of(kv, "mod_revision");
  out.version = int64_of(kv, "version");
  out.lease = int64_of(kv, "lease");
  return out;
}

nlohmann::json compare_value(std::string_view key, std::string_view value) {
  return compare(key, "VALUE", "value", base64_encode(value));
}

nlohmann::json compare_created(std::string_view key, int64_t create_revision) {
  return compare(key, "CREATE", "create_revision",
                 std::to_string(create_revision));
}

nlohmann::json compare_mod(std::string_view key, int64_t mod_revision) {
  return compare(key, "MOD", "mod_revision", std::to_string(mod_revision));
}

nlohmann::json op_put(std::string_view key, std::string_view value,
                      int64_t lease) {
  nlohmann::json put{{"key", base64_encode(key)},
                     {"value", base64_encode(value)}};
  if (lease != 0)
    put["lease"] = std::to_string(lease);
  return {{"request_put", std::move(put)}};
}

nlohmann::json op_range(std::string_view key, std::string_view range_end) {
  return {{"request_range",
           with_range({{"key", base64_encode(key)}}, range_end)}};
}

nlohmann::json op_delete(std::string_view key, std::string_view range_end) {
  return {{"request_delete_range",
           with_range({{"key", base64_encode(key)}}, range_end)}};
}

} // namespace cfgactors::detail

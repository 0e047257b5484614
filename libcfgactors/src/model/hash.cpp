// SHA-256 content hashes over the canonical JSON text.
#include "cfgactors/hash.hpp"

#include <array>
#include <charconv>
#include <cstring>
#include <stdexcept>

#include <nlohmann/json.hpp>
#include <openssl/evp.h>

namespace cfgactors {

namespace {

const EVP_MD* sha256() {
#if OPENSSL_VERSION_NUMBER >= 0x30000000L
  // OpenSSL 3 looks EVP_sha256() up in its provider tables on every use;
  // fetching once saves that per hash.
  static EVP_MD* fetched = EVP_MD_fetch(nullptr, "SHA256", nullptr);
  if (fetched != nullptr)
    return fetched;
#endif
  return EVP_sha256();
}

std::string to_hex(const unsigned char* digest, unsigned int len) {
  static constexpr char hex[] = "0123456789abcdef";
  std::string out;
  out.reserve(len * 2);
  for (unsigned int i = 0; i < len; ++i) {
    out += hex[digest[i] >> 4];
    out += hex[digest[i] & 0x0f];
  }
  return out;
}

// OpenSSL only fails on allocation failure; a hash that silently came out
// empty would make every tree look alike.
void check(int rc) {
  if (rc != 1)
    throw std::runtime_error("SHA-256 (OpenSSL EVP) failed");
}

/// SHA-256 fed through a small buffer, so that the text being hashed never
/// needs to exist as one string.
class digest_sink {
public:
  digest_sink() : ctx_(EVP_MD_CTX_new()) {
    if (ctx_ == nullptr)
      throw std::runtime_error("EVP_MD_CTX_new failed");
    check(EVP_DigestInit_ex(ctx_, sha256(), nullptr));
  }

  ~digest_sink() {
    EVP_MD_CTX_free(ctx_);
  }

  digest_sink(const digest_sink&) = delete;
  digest_sink& operator=(const digest_sink&) = delete;

  void put(char c) {
    if (size_ == buf_.size())
      flush();
    buf_[size_++] = c;
  }

  void put(const char* text, std::size_t len) {
    if (len > buf_.size() - size_) {
      flush();
      if (len >= buf_.size()) {
        check(EVP_DigestUpdate(ctx_, text, len));
        return;
      }
    }
    std::memcpy(buf_.data() + size_, text, len);
    size_ += len;
  }

  void put(const std::string& text) {
    put(text.data(), text.size());
  }

  std::string hex() {
    flush();
    std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
    unsigned int len = 0;
    check(EVP_DigestFinal_ex(ctx_, digest.data(), &len));
    return to_hex(digest.data(), len);
  }

private:
  void flush() {
    if (size_ > 0)
      check(EVP_DigestUpdate(ctx_, buf_.data(), size_));
    size_ = 0;
  }

  EVP_MD_CTX* ctx_;
  std::array<char, 4096> buf_;
  std::size_t size_ = 0;
};

// The canonical text is exactly json::dump(-1, ' ', false, replace). Objects,
// arrays, integers, booleans, null and plain strings are written here (their
// text is unambiguous); anything with escapes, non-ASCII text or floating
// point formatting is written by nlohmann itself.
std::string dumped(const json& value) {
  return value.dump(-1, ' ', false, json::error_handler_t::replace);
}

/// Printable ASCII other than `"` and `\`: dump() copies it verbatim.
bool plain(const std::string& text) {
  for (auto c : text) {
    auto byte = static_cast<unsigned char>(c);
    if (byte < 0x20 || byte > 0x7f || byte == '"' || byte == '\\')
      return false;
  }
  return true;
}

void put_string(digest_sink& out, const std::string& text) {
  if (plain(text)) {
    out.put('"');
    out.put(text);
    out.put('"');
  } else {
    out.put(dumped(json(text)));
  }
}

template <class Integer>
void put_integer(digest_sink& out, Integer value) {
  std::array<char, 24> buf;
  auto res = std::to_chars(buf.data(), buf.data() + buf.size(), value);
  out.put(buf.data(), static_cast<std::size_t>(res.ptr - buf.data()));
}

// Recursion follows the tree's nesting, which the parse and proposal depth
// limits bound (as they bound dump() itself).
void put_canonical(digest_sink& out, const json& value) {
  switch (value.type()) {
    case json::value_t::object: {
      out.put('{');
      auto first = true;
      for (auto& [key, member] : value.get_ref<const json::object_t&>()) {
        if (!first)
          out.put(',');
        first = false;
        put_string(out, key);
        out.put(':');
        put_canonical(out, member);
      }
      out.put('}');
      return;
    }
    case json::value_t::array: {
      out.put('[');
      auto first = true;
      for (auto& item : value.get_ref<const json::array_t&>()) {
        if (!first)
          out.put(',');
        first = false;
        put_canonical(out, item);
      }
      out.put(']');
      return;
    }
    case json::value_t::string: {
      auto& text = value.get_ref<const std::string&>();
      if (plain(text)) {
        out.put('"');
        out.put(text);
        out.put('"');
      } else {
        out.put(dumped(value));
      }
      return;
    }
    case json::value_t::boolean:
      if (value.get<bool>())
        out.put("true", 4);
      else
        out.put("false", 5);
      return;
    case json::value_t::number_integer:
      put_integer(out, value.get<json::number_integer_t>());
      return;
    case json::value_t::number_unsigned:
      put_integer(out, value.get<json::number_unsigned_t>());
      return;
    case json::value_t::null:
      out.put("null", 4);
      return;
    default: // floats, binary, discarded
      out.put(dumped(value));
      return;
  }
}

} // namespace

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  check(EVP_Digest(text.data(), text.size(), digest.data(), &len, sha256(),
                   nullptr));
  return to_hex(digest.data(), len);
}

std::string canonical_hash(const json& value) {
  // Objects are std::map-ordered, so the compact dump is canonical. It is
  // streamed into the digest instead of built as one string. `replace` keeps
  // invalid UTF-8 (which can arrive through the env source) from throwing;
  // it hashes as U+FFFD.
  digest_sink out;
  put_canonical(out, value);
  return out.hex();
}

} // namespace cfgactors

#include "pipeline/secret_box.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <memory>
#include <stdexcept>

#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/rand.h>

#include "cfgactors/errc.hpp"
#include "core/private_file.hpp"

namespace cfgactors::detail {

namespace {

constexpr int nonce_size = 12;
constexpr int tag_size = 16;

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

const unsigned char* bytes(std::string_view text) {
  return reinterpret_cast<const unsigned char*>(text.data());
}

std::string base64(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           bytes(raw), static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return out;
}

std::optional<std::string> unbase64(std::string_view text) {
  if (text.empty() || text.size() % 4 != 0)
    return std::nullopt;
  std::string out(3 * text.size() / 4, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           bytes(text), static_cast<int>(text.size()));
  if (n < 0)
    return std::nullopt;
  // EVP_DecodeBlock counts the padding as zero bytes.
  auto pad = text.back() == '=' ? (text[text.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(static_cast<std::size_t>(n - pad));
  // Only the one encoding of these bytes: EVP_DecodeBlock ignores the bits
  // the last character has beyond them (and skips some whitespace), so
  // several texts would decode alike and a changed one would still open.
  if (base64(out) != text)
    return std::nullopt;
  return out;
}

std::string hex(const unsigned char* data, std::size_t n) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (std::size_t i = 0; i < n; ++i) {
    out += digits[data[i] >> 4];
    out += digits[data[i] & 0xf];
  }
  return out;
}

caf::error fail(const std::string& path, const std::string& what) {
  return make_error(errc::store_failed, "secrets key " + path + ": " + what);
}

} // namespace

secret_box::secret_box(std::string key) : key_(std::move(key)) {
  if (key_.size() != key_size)
    throw std::invalid_argument("secret_box: the key must be 32 bytes");
  constexpr std::string_view label = "cfgactors secrets key id";
  unsigned char mac[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  HMAC(EVP_sha256(), key_.data(), static_cast<int>(key_.size()), bytes(label),
       label.size(), mac, &len);
  key_id_ = hex(mac, 8);
}

std::string secret_box::seal(std::string_view plain,
                             std::string_view context) const {
  unsigned char nonce[nonce_size];
  if (RAND_bytes(nonce, nonce_size) != 1)
    throw std::runtime_error("secret_box: no random bytes for a nonce");
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
  std::string raw(nonce_size + plain.size() + tag_size, '\0');
  auto out = reinterpret_cast<unsigned char*>(raw.data());
  std::memcpy(out, nonce, nonce_size);
  int n = 0;
  auto ok = ctx
            && EVP_EncryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                  bytes(key_), nonce)
            && EVP_EncryptUpdate(ctx.get(), nullptr, &n, bytes(context),
                                 static_cast<int>(context.size()))
            && EVP_EncryptUpdate(ctx.get(), out + nonce_size, &n, bytes(plain),
                                 static_cast<int>(plain.size()))
            && EVP_EncryptFinal_ex(ctx.get(), out + nonce_size + n, &n)
            && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_GET_TAG, tag_size,
                                   out + nonce_size + plain.size());
  if (!ok)
    throw std::runtime_error("secret_box: AES-256-GCM failed");
  return std::string{prefix} + base64(raw);
}

std::optional<std::string> secret_box::open(std::string_view sealed,
                                            std::string_view context) const {
  if (sealed.substr(0, prefix.size()) != prefix)
    return std::nullopt;
  auto raw = unbase64(sealed.substr(prefix.size()));
  if (!raw || raw->size() < nonce_size + tag_size)
    return std::nullopt;
  auto in = reinterpret_cast<unsigned char*>(raw->data());
  auto size = raw->size() - nonce_size - tag_size;
  std::string plain(size, '\0');
  cipher_ctx ctx{EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free};
  int n = 0;
  auto ok = ctx
            && EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr,
                                  bytes(key_), in)
            && EVP_DecryptUpdate(ctx.get(), nullptr, &n, bytes(context),
                                 static_cast<int>(context.size()))
            && EVP_DecryptUpdate(ctx.get(),
                                 reinterpret_cast<unsigned char*>(plain.data()),
                                 &n, in + nonce_size, static_cast<int>(size))
            && EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_size,
                                   in + nonce_size + size)
            && EVP_DecryptFinal_ex(ctx.get(),
                                   reinterpret_cast<unsigned char*>(
                                     plain.data())
                                     + n,
                                   &n) == 1;
  if (!ok)
    return std::nullopt;
  return plain;
}

caf::expected<std::string> read_key_file(const std::string& path) {
  // 64 hex digits and a line break at most.
  constexpr auto max_size = 2 * secret_box::key_size + 3;
  std::string why;
  bool too_large = false;
  auto content = read_private_file(path, max_size, why, too_large);
  if (too_large)
    return fail(path, "must hold 32 bytes, or 64 hex digits (openssl rand "
                      "-hex 32), got more than "
                        + std::to_string(max_size) + " bytes");
  if (!content)
    return fail(path, why);
  auto& text = *content;
  auto size = text.size();
  if (text.size() == secret_box::key_size)
    return text;
  while (!text.empty() && (text.back() == '\n' || text.back() == '\r'))
    text.pop_back();
  auto is_hex = text.size() == 2 * secret_box::key_size
                && text.find_first_not_of("0123456789abcdefABCDEF")
                     == std::string::npos;
  if (!is_hex)
    return fail(path, "must hold 32 bytes, or 64 hex digits (openssl rand "
                      "-hex 32), got "
                        + std::to_string(size) + " bytes");
  std::string key;
  for (std::size_t i = 0; i < text.size(); i += 2)
    key += static_cast<char>(std::stoi(text.substr(i, 2), nullptr, 16));
  return key;
}

caf::expected<std::string> data_dir_key(const std::string& dir) {
  auto path = (std::filesystem::path{dir} / "secrets.key").string();
  struct stat st {};
  if (::lstat(path.c_str(), &st) == 0) {
    if (S_ISLNK(st.st_mode))
      return fail(path, "is a symbolic link; refusing to follow it");
    return read_key_file(path);
  }
  unsigned char raw[secret_box::key_size];
  if (RAND_bytes(raw, sizeof(raw)) != 1)
    return fail(path, "no random bytes for a new key");
  auto text = hex(raw, sizeof(raw)) + "\n";
  auto fd = ::open(path.c_str(),
                   O_CREAT | O_EXCL | O_WRONLY | O_NOFOLLOW | O_CLOEXEC, 0600);
  if (fd < 0)
    return fail(path, std::string{"cannot create: "} + std::strerror(errno));
  auto written = ::write(fd, text.data(), text.size());
  auto synced = ::fsync(fd) == 0;
  ::close(fd);
  if (written != static_cast<ssize_t>(text.size()) || !synced) {
    ::unlink(path.c_str());
    return fail(path, "cannot write a new key");
  }
  return std::string{reinterpret_cast<char*>(raw), sizeof(raw)};
}

} // namespace cfgactors::detail

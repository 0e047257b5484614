// The journal's sealing of secret values (AES-256-GCM) and its key files.
#define CAF_SUITE secret_box
#include "cfgactors_test.hpp"
#include "error_text.hpp"
#include "temp_dir.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <cstdint>
#include <filesystem>
#include <fstream>
#include <optional>
#include <set>
#include <stdexcept>
#include <string>
#include <vector>

#include <openssl/evp.h>

#include "cfgactors/errc.hpp"
#include "pipeline/secret_box.hpp"

namespace secret_box_suite {

using namespace cfgactors;
using detail::secret_box;
namespace fs = std::filesystem;

using cfgactors::test::contains;
using cfgactors::test::message_of;

namespace {

/// The key 00 01 02 ... 1f.
std::string counting_key() {
  std::string key;
  for (int i = 0; i < 32; ++i)
    key += static_cast<char>(i);
  return key;
}

std::string other_key() {
  return std::string(32, '\x42');
}

std::string hex_of(const std::string& raw) {
  static constexpr char digits[] = "0123456789abcdef";
  std::string out;
  for (unsigned char c : raw) {
    out += digits[c >> 4];
    out += digits[c & 0xf];
  }
  return out;
}

/// The bytes behind the base64 text of a sealed value.
std::string raw_of(const std::string& sealed) {
  auto text = sealed.substr(secret_box::prefix.size());
  std::string out(3 * text.size() / 4, '\0');
  auto n = EVP_DecodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(text.data()),
                           static_cast<int>(text.size()));
  CAF_REQUIRE(n >= 0);
  auto pad = text.back() == '=' ? (text[text.size() - 2] == '=' ? 2 : 1) : 0;
  out.resize(static_cast<std::size_t>(n - pad));
  return out;
}

/// A sealed value of `raw` bytes.
std::string sealed_of(const std::string& raw) {
  std::string out(4 * ((raw.size() + 2) / 3), '\0');
  auto n = EVP_EncodeBlock(reinterpret_cast<unsigned char*>(out.data()),
                           reinterpret_cast<const unsigned char*>(raw.data()),
                           static_cast<int>(raw.size()));
  out.resize(static_cast<std::size_t>(n));
  return std::string{secret_box::prefix} + out;
}

constexpr std::size_t nonce_size = 12;
constexpr std::size_t tag_size = 16;

struct temp_dir : test::temp_dir {
  temp_dir() : test::temp_dir("secret-box") {
    // nop
  }

  /// Writes `bytes` to `name` with `mode`; returns its path.
  std::string key_file(const std::string& name, const std::string& bytes,
                       mode_t mode = 0600) const {
    auto file = (path / name).string();
    {
      std::ofstream out{file, std::ios::binary | std::ios::trunc};
      out << bytes;
    }
    if (::chmod(file.c_str(), mode) != 0)
      CAF_FAIL("chmod failed");
    return file;
  }
};

mode_t mode_of(const std::string& file) {
  struct stat st {};
  if (::lstat(file.c_str(), &st) != 0)
    CAF_FAIL("cannot stat " << file);
  return st.st_mode & 07777;
}

const std::string ctx
  = "cfgactors journal version 7 layer runtime path db.password";

} // namespace

// -- seal and open ------------------------------------------------------------

CAF_TEST(a sealed value opens with its key and context) {
  secret_box box{counting_key()};
  std::string binary{"\0\x01\xff\xfe\n\"{}", 8};
  for (auto& plain : std::vector<std::string>{
         "", "x", "\"hunter2\"", "Zq7VtK2mXw9LrB4nJd8sHc3PfG6yTa1eUo5iRb0N",
         binary, std::string(100000, 'a')}) {
    auto sealed = box.seal(plain, ctx);
    CAF_CHECK_EQUAL(sealed.substr(0, secret_box::prefix.size()),
                    secret_box::prefix);
    if (plain.size() > 3)
      CAF_CHECK(!contains(sealed, plain));
    CAF_CHECK_EQUAL(raw_of(sealed).size(), nonce_size + plain.size()
                                             + tag_size);
    auto opened = box.open(sealed, ctx);
    CAF_REQUIRE(opened);
    CAF_CHECK(*opened == plain);
    // Another box with the same key opens it too.
    CAF_CHECK(secret_box{counting_key()}.open(sealed, ctx) == plain);
  }
  // The empty context is a context too.
  auto sealed = box.seal("v", "");
  CAF_CHECK(box.open(sealed, "") == std::string{"v"});
}

CAF_TEST(a sealed value does not open in another context) {
  secret_box box{counting_key()};
  auto sealed = box.seal("s3cret", ctx);
  CAF_CHECK(!box.open(sealed, ""));
  CAF_CHECK(!box.open(sealed, ctx + " "));
  CAF_CHECK(!box.open(sealed, ctx.substr(0, ctx.size() - 1)));
  auto moved = ctx;
  moved[27] = '8'; // version 7 -> version 8
  CAF_REQUIRE(moved != ctx);
  CAF_CHECK(!box.open(sealed, moved));
  CAF_CHECK(!box.open(sealed, "cfgactors journal version 7 layer env path "
                              "db.password"));
  CAF_CHECK(box.open(sealed, ctx));
}

CAF_TEST(a sealed value does not open with another key) {
  secret_box box{counting_key()};
  secret_box other{other_key()};
  auto sealed = box.seal("s3cret", ctx);
  CAF_CHECK(!other.open(sealed, ctx));
  auto almost = counting_key();
  almost[31] ^= 1;
  CAF_CHECK(!secret_box{almost}.open(sealed, ctx));
  CAF_CHECK(other.open(other.seal("s3cret", ctx), ctx));
}

CAF_TEST(changing any character of the sealed text makes it fail to open) {
  secret_box box{counting_key()};
  // Every other base64 character, padding, whitespace and a few more.
  std::string others = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
                       "0123456789+/= \n\t\r-_.:~";
  others += '\0';
  others += '\xff';
  // Plaintexts of every length modulo 3: base64 with and without padding
  // (and so with and without bits the last character does not use).
  for (auto& plain : {std::string{"ab"}, std::string{"abc"},
                      std::string{"abcd"}, std::string{"\"pw-1234\""}}) {
    // Several seals: the last characters differ with the nonce.
    for (int round = 0; round < 4; ++round) {
      auto sealed = box.seal(plain, ctx);
      CAF_REQUIRE(box.open(sealed, ctx));
      for (std::size_t i = 0; i < sealed.size(); ++i)
        for (auto c : others) {
          if (c == sealed[i])
            continue;
          auto changed = sealed;
          changed[i] = c;
          if (box.open(changed, ctx))
            CAF_FAIL("opened with character " << i << " of "
                                              << sealed.size() << " ("
                                              << sealed[i] << ") made '" << c
                                              << "': " << changed);
        }
    }
  }
}

CAF_TEST(changing any bit of the nonce ciphertext or tag fails to open) {
  secret_box box{counting_key()};
  std::string plain = "\"Zq7VtK2mXw9LrB4nJd8sHc3PfG6yTa1eUo5iRb0N\"";
  auto sealed = box.seal(plain, ctx);
  auto raw = raw_of(sealed);
  CAF_REQUIRE_EQUAL(raw.size(), nonce_size + plain.size() + tag_size);
  // The test's own encoding is the box's.
  CAF_REQUIRE_EQUAL(sealed_of(raw), sealed);
  std::set<std::string> parts;
  for (std::size_t i = 0; i < raw.size(); ++i) {
    parts.insert(i < nonce_size                  ? "nonce"
                 : i < nonce_size + plain.size() ? "ciphertext"
                                                 : "tag");
    for (int bit = 0; bit < 8; ++bit) {
      auto changed = raw;
      changed[i] = static_cast<char>(changed[i] ^ (1 << bit));
      if (box.open(sealed_of(changed), ctx))
        CAF_FAIL("opened with bit " << bit << " of raw byte " << i
                                    << " flipped");
    }
  }
  CAF_CHECK_EQUAL(parts.size(), 3u);
  // Cut short, made longer, or cut to nothing.
  CAF_CHECK(!box.open(sealed_of(raw.substr(0, raw.size() - 1)), ctx));
  CAF_CHECK(!box.open(sealed_of(raw.substr(0, nonce_size + tag_size)), ctx));
  CAF_CHECK(!box.open(sealed_of(raw.substr(0, nonce_size + tag_size - 1)),
                      ctx));
  CAF_CHECK(!box.open(sealed_of(raw + "x"), ctx));
  CAF_CHECK(!box.open(sealed.substr(0, sealed.size() - 4), ctx));
  CAF_CHECK(!box.open(sealed + "AAAA", ctx));
  CAF_CHECK(!box.open(std::string{secret_box::prefix}, ctx));
  CAF_CHECK(!box.open("", ctx));
  CAF_CHECK(!box.open(sealed.substr(secret_box::prefix.size()), ctx));
  CAF_CHECK(!box.open(sealed + "\n", ctx));
  CAF_CHECK(!box.open(" " + sealed, ctx));
  CAF_CHECK(!box.open(plain, ctx));
  CAF_CHECK(box.open(sealed, ctx) == plain);
}

CAF_TEST(two seals of the same value differ) {
  secret_box box{counting_key()};
  std::set<std::string> seen;
  std::set<std::string> nonces;
  for (int i = 0; i < 50; ++i) {
    auto sealed = box.seal("same", ctx);
    seen.insert(sealed);
    nonces.insert(raw_of(sealed).substr(0, nonce_size));
    CAF_CHECK(box.open(sealed, ctx) == std::string{"same"});
  }
  CAF_CHECK_EQUAL(seen.size(), 50u);
  CAF_CHECK_EQUAL(nonces.size(), 50u);
}

CAF_TEST(the key id is fixed for a key) {
  // Golden value: journals record the key id of the key that sealed their
  // secrets and refuse another, so this must never change (a new derivation
  // would lock every existing journal out).
  secret_box box{counting_key()};
  CAF_CHECK_EQUAL(box.key_id(), "11a461002a75ffb8");
  CAF_CHECK_EQUAL(box.key_id().size(), 16u);
  CAF_CHECK_EQUAL(box.key_id().find_first_not_of("0123456789abcdef"),
                  std::string::npos);
  secret_box other{other_key()};
  CAF_CHECK_NOT_EQUAL(other.key_id(), box.key_id());
  CAF_CHECK(!contains(hex_of(counting_key()), box.key_id()));
}

CAF_TEST(a key of another size is refused) {
  for (auto size : {0, 16, 31, 33, 64}) {
    auto refused = false;
    try {
      secret_box box{std::string(static_cast<std::size_t>(size), 'k')};
    } catch (const std::invalid_argument&) {
      refused = true;
    }
    CAF_CHECK(refused);
  }
}

// -- key files ----------------------------------------------------------------

CAF_TEST(a key file holds 32 bytes or 64 hex digits) {
  temp_dir dir;
  auto key = counting_key();
  auto hex = hex_of(key);
  auto upper = hex;
  for (auto& c : upper)
    c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
  std::vector<std::string> good{key, hex, hex + "\n", hex + "\r\n", upper,
                                upper + "\n"};
  for (std::size_t i = 0; i < good.size(); ++i) {
    auto file = dir.key_file("good" + std::to_string(i), good[i]);
    auto read = detail::read_key_file(file);
    if (!read)
      CAF_FAIL("refused " << file << ": " << message_of(read.error()));
    CAF_CHECK(*read == key);
  }
  // 32 raw bytes that end in a newline are taken as they are.
  auto nl = std::string(31, 'q') + "\n";
  auto read = detail::read_key_file(dir.key_file("raw-nl", nl));
  CAF_REQUIRE(read);
  CAF_CHECK(*read == nl);
  // Only group and other bits matter.
  read = detail::read_key_file(dir.key_file("owner-only", hex, 0400));
  CAF_CHECK(read && *read == key);
}

CAF_TEST(a key file that group or others may access is refused) {
  temp_dir dir;
  auto hex = hex_of(counting_key());
  for (mode_t mode : {0644, 0640, 0604, 0660, 0602, 0620, 0601, 0610, 0666}) {
    auto file = dir.key_file("mode", hex, mode);
    auto read = detail::read_key_file(file);
    CAF_REQUIRE(!read);
    auto msg = message_of(read.error());
    CAF_CHECK_EQUAL(read.error().code(),
                    static_cast<uint8_t>(errc::store_failed));
    CAF_CHECK(contains(msg, file));
    CAF_CHECK(contains(msg, "group or others"));
    CAF_CHECK(!contains(msg, hex));
  }
}

CAF_TEST(a key file of the wrong size or content is refused) {
  temp_dir dir;
  auto key = counting_key();
  auto hex = hex_of(key);
  std::vector<std::string> bad{
    "",
    key.substr(0, 31),
    key + "x",
    hex.substr(0, 63),
    hex.substr(0, 63) + "\n",
    hex + "0",
    hex + hex,
    hex.substr(0, 63) + "g", // the size of a key, not hex
    hex.substr(0, 62) + "0x",
    " " + hex.substr(0, 63),
    hex + " ",
    hex + "\n\n\ntrailing junk",
    std::string(1000, 'a'),
  };
  for (std::size_t i = 0; i < bad.size(); ++i) {
    auto file = dir.key_file("bad" + std::to_string(i), bad[i]);
    auto read = detail::read_key_file(file);
    if (read)
      CAF_FAIL("accepted key file " << i << " (" << bad[i].size()
                                    << " bytes)");
    auto msg = message_of(read.error());
    CAF_CHECK(contains(msg, file));
    CAF_CHECK(contains(msg, "32 bytes"));
  }
}

CAF_TEST(a key file that is a directory or missing is refused) {
  temp_dir dir;
  auto sub = (dir.path / "keydir").string();
  fs::create_directory(sub);
  ::chmod(sub.c_str(), 0700);
  auto read = detail::read_key_file(sub);
  CAF_REQUIRE(!read);
  CAF_CHECK(contains(message_of(read.error()), sub));
  CAF_CHECK(contains(message_of(read.error()), "not a regular file"));
  auto missing = (dir.path / "missing.key").string();
  read = detail::read_key_file(missing);
  CAF_REQUIRE(!read);
  CAF_CHECK(contains(message_of(read.error()), missing));
}

CAF_TEST(a key file of another user is refused) {
  if (::geteuid() != 0) {
    CAF_MESSAGE("not root: cannot give a file to another user");
    return;
  }
  temp_dir dir;
  auto file = dir.key_file("theirs", hex_of(counting_key()));
  CAF_REQUIRE_EQUAL(::chown(file.c_str(), 12345, 12345), 0);
  auto read = detail::read_key_file(file);
  CAF_REQUIRE(!read);
  CAF_CHECK(contains(message_of(read.error()), "uid 12345"));
}

CAF_TEST(data_dir_key creates a private key once and reads it after) {
  temp_dir dir;
  auto file = (dir.path / "secrets.key").string();
  CAF_REQUIRE(!fs::exists(file));
  auto first = detail::data_dir_key(dir.str());
  CAF_REQUIRE(first);
  CAF_CHECK_EQUAL(first->size(), secret_box::key_size);
  CAF_REQUIRE(fs::is_regular_file(file));
  CAF_CHECK_EQUAL(mode_of(file), 0600u);
  // 64 hex digits and a newline, as `openssl rand -hex 32` writes them.
  std::ifstream in{file, std::ios::binary};
  std::string text{std::istreambuf_iterator<char>{in}, {}};
  CAF_CHECK_EQUAL(text, hex_of(*first) + "\n");
  auto second = detail::data_dir_key(dir.str());
  CAF_REQUIRE(second);
  CAF_CHECK(*second == *first);
  CAF_CHECK(detail::read_key_file(file) == *first);
  // Another directory gets another key.
  temp_dir other;
  auto third = detail::data_dir_key(other.str());
  CAF_REQUIRE(third);
  CAF_CHECK(*third != *first);
}

CAF_TEST(data_dir_key refuses a symbolic link and a bad key file) {
  temp_dir dir;
  auto target = dir.key_file("real.key", hex_of(counting_key()));
  auto link = (dir.path / "secrets.key").string();
  fs::create_symlink(target, link);
  auto key = detail::data_dir_key(dir.str());
  CAF_REQUIRE(!key);
  CAF_CHECK(contains(message_of(key.error()), link));
  CAF_CHECK(contains(message_of(key.error()), "symbolic link"));
  // A dangling link is not replaced by a new key either.
  fs::remove(target);
  key = detail::data_dir_key(dir.str());
  CAF_REQUIRE(!key);
  CAF_CHECK(fs::is_symlink(link));
  CAF_CHECK(!fs::exists(target));
  fs::remove(link);
  // An existing key file is checked like any other.
  dir.key_file("secrets.key", hex_of(counting_key()), 0644);
  key = detail::data_dir_key(dir.str());
  CAF_REQUIRE(!key);
  CAF_CHECK(contains(message_of(key.error()), "group or others"));
  // A directory that does not exist.
  auto gone = (dir.path / "no" / "such").string();
  key = detail::data_dir_key(gone);
  CAF_REQUIRE(!key);
  CAF_CHECK(contains(message_of(key.error()), gone));
}

} // namespace secret_box_suite

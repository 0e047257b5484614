// SHA-256 content hashes: the Merkle hash of a tree (docs/HASH.md).
#include "cfgactors/hash.hpp"
#include "model/hash_tree.hpp"

#include <algorithm>
#include <array>
#include <charconv>
#include <cstring>
#include <iterator>
#include <optional>
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

/// The two hex digits of every byte value: a digest's text is then 32
/// copies of two bytes (a wide container's piece writes 32 references).
constexpr std::array<std::array<char, 2>, 256> hex_pairs = [] {
  constexpr char hex[] = "0123456789abcdef";
  std::array<std::array<char, 2>, 256> out{};
  for (std::size_t i = 0; i < 256; ++i)
    out[i] = {hex[i >> 4], hex[i & 0x0f]};
  return out;
}();

std::string to_hex(const unsigned char* digest, unsigned int len) {
  std::string out(2 * std::size_t{len}, '\0');
  for (unsigned int i = 0; i < len; ++i)
    std::memcpy(out.data() + 2 * i, hex_pairs[digest[i]].data(), 2);
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

  detail::hash_digest digest() {
    flush();
    std::array<unsigned char, EVP_MAX_MD_SIZE> raw{};
    unsigned int len = 0;
    check(EVP_DigestFinal_ex(ctx_, raw.data(), &len));
    if (len != 32)
      throw std::runtime_error("SHA-256 (OpenSSL EVP) gave no 32 bytes");
    detail::hash_digest result;
    std::memcpy(result.data(), raw.data(), result.size());
    return result;
  }

  std::string hex() {
    auto d = digest();
    return to_hex(d.data(), static_cast<unsigned int>(d.size()));
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

// A scalar's text is exactly json::dump(-1, ' ', false, replace). Integers,
// booleans, null and plain strings are written here (their text is
// unambiguous); anything with escapes, non-ASCII text or floating point
// formatting is written by nlohmann itself.
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

/// A scalar's canonical text: json::dump(-1, ' ', false, replace).
void put_scalar(digest_sink& out, const json& value) {
  switch (value.type()) {
    case json::value_t::string:
      put_string(out, value.get_ref<const std::string&>());
      return;
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

void put_hex(digest_sink& out, const detail::hash_digest& digest) {
  std::array<char, 64> text;
  for (std::size_t i = 0; i < digest.size(); ++i)
    std::memcpy(text.data() + 2 * i, hex_pairs[digest[i]].data(), 2);
  out.put(text.data(), text.size());
}

using detail::hash_digest;
using detail::hash_tree;
using detail::hash_tree_ptr;
using detail::path_trie;
using member_nodes = std::vector<std::pair<std::string, hash_tree_ptr>>;

constexpr auto piece_size = detail::hash_piece_size;

/// A container's reference in its parent's text: `#` and its hex digest.
void put_ref(digest_sink& out, const hash_digest& digest) {
  out.put('#');
  put_hex(out, digest);
}

hash_tree_ptr build(const json& value, const hash_tree* old,
                    const path_trie* changed);

/// The node of `member` (a container): the old one where nothing below it
/// changed, rebuilt along the changed paths below it, or from scratch.
hash_tree_ptr child_node(const json& member, const hash_tree_ptr* old,
                         const path_trie* changed) {
  if (old == nullptr || *old == nullptr
      || (*old)->is_object != member.is_object())
    return build(member, nullptr, nullptr);
  if (changed == nullptr)
    return *old;
  return build(member, old->get(), changed);
}

/// The previous version's nodes of an object's container members, in key
/// order, walked forward as the new members are written, and the paths
/// that changed below this object.
struct old_members {
  member_nodes::const_iterator at;
  member_nodes::const_iterator end;
  const path_trie* changed;
};

/// A piece of an object, or a whole narrow one: `count` members from `it`
/// written `{"key":ref,…}`. Containers keep their old node from `old` where
/// no changed path reaches below them.
std::shared_ptr<hash_tree> object_piece(json::object_t::const_iterator it,
                                        std::size_t count, old_members* old) {
  auto result = std::make_shared<hash_tree>();
  result->is_object = true;
  result->size = count;
  digest_sink out;
  out.put('{');
  for (std::size_t i = 0; i < count; ++i, ++it) {
    auto& key = it->first;
    auto& member = it->second;
    if (i > 0)
      out.put(',');
    put_string(out, key);
    out.put(':');
    ++result->values;
    if (!member.is_structured()) {
      put_scalar(out, member);
      continue;
    }
    // Both sequences are in key order: the old node's members are found
    // by walking forward, not searched.
    const hash_tree_ptr* before = nullptr;
    const path_trie* below = nullptr;
    if (old != nullptr) {
      int order = -1;
      while (old->at != old->end && (order = old->at->first.compare(key)) < 0)
        ++old->at;
      if (order == 0)
        before = &old->at->second;
      if (auto j = old->changed->children.find(key);
          j != old->changed->children.end())
        below = &j->second;
    }
    auto node = child_node(member, before, below);
    put_ref(out, node->digest);
    result->values += node->values;
    // Room for every member left at the first container: a wide object of
    // objects would otherwise grow the list five times per piece.
    if (result->members.empty())
      result->members.reserve(count - i);
    result->members.emplace_back(key, std::move(node));
  }
  out.put('}');
  result->digest = out.digest();
  return result;
}

/// A piece of an array, or a whole narrow one: `[ref,…]`. Arrays are
/// hashed whole: changed paths never go inside them (a diff compares arrays
/// as values), and their items are usually few.
std::shared_ptr<hash_tree> array_piece(json::array_t::const_iterator it,
                                       std::size_t count) {
  auto result = std::make_shared<hash_tree>();
  result->size = count;
  digest_sink out;
  out.put('[');
  for (std::size_t i = 0; i < count; ++i, ++it) {
    if (i > 0)
      out.put(',');
    ++result->values;
    if (!it->is_structured()) {
      put_scalar(out, *it);
      continue;
    }
    auto node = build(*it, nullptr, nullptr);
    put_ref(out, node->digest);
    result->values += node->values;
    result->items.push_back(std::move(node));
  }
  out.put(']');
  result->digest = out.digest();
  return result;
}

/// Hashes a wide container's groups again above the pieces in `dirty`
/// (indices, ascending; every piece when null), then the container itself:
/// `{~#…,#…}` or `[~#…,#…]` over its top level (docs/HASH.md).
void seal(hash_tree& node, const std::vector<std::size_t>* dirty) {
  auto count_at = [&](std::size_t level) {
    return level == 0 ? node.pieces.size() : node.groups[level - 1].size();
  };
  auto digest_at = [&](std::size_t level,
                       std::size_t i) -> const hash_digest& {
    return level == 0 ? node.pieces[i].second->digest
                      : node.groups[level - 1][i];
  };
  std::vector<std::size_t> touched;
  if (dirty != nullptr)
    touched = *dirty;
  else
    node.groups.clear();
  std::size_t level = 0;
  for (; count_at(level) > piece_size; ++level) {
    auto n = count_at(level);
    if (dirty == nullptr)
      node.groups.emplace_back((n + piece_size - 1) / piece_size);
    auto group = [&](std::size_t g) {
      digest_sink out;
      out.put('~');
      for (auto i = g * piece_size; i < std::min(n, (g + 1) * piece_size);
           ++i) {
        if (i > g * piece_size)
          out.put(',');
        put_ref(out, digest_at(level, i));
      }
      node.groups[level][g] = out.digest();
    };
    if (dirty == nullptr) {
      for (std::size_t g = 0; g < node.groups[level].size(); ++g)
        group(g);
      continue;
    }
    std::vector<std::size_t> above;
    for (auto i : touched)
      if (above.empty() || above.back() != i / piece_size) {
        above.push_back(i / piece_size);
        group(above.back());
      }
    touched = std::move(above);
  }
  digest_sink out;
  out.put(node.is_object ? '{' : '[');
  out.put('~');
  for (std::size_t i = 0; i < count_at(level); ++i) {
    if (i > 0)
      out.put(',');
    put_ref(out, digest_at(level, i));
  }
  out.put(node.is_object ? '}' : ']');
  node.digest = out.digest();
}

/// Whether `changed` leaves the object's keys as they were: then a wide
/// object keeps its pieces' bounds, and only the pieces holding a changed
/// member are hashed again. (A key added or removed is itself a changed
/// path; if every changed key is still there and the count is the same,
/// none was removed, so none was added.)
bool same_keys(const json::object_t& object, const hash_tree& old,
               const path_trie& changed) {
  if (old.size != object.size() || old.pieces.empty())
    return false;
  for (auto& entry : changed.children)
    if (object.find(entry.first) == object.end())
      return false;
  return true;
}

hash_tree_ptr build_object(const json::object_t& object, const hash_tree* old,
                           const path_trie* changed) {
  auto n = object.size();
  if (old != nullptr && n > piece_size && same_keys(object, *old, *changed)) {
    auto result = std::make_shared<hash_tree>(*old);
    std::vector<std::size_t> dirty;
    for (auto& entry : changed->children) {
      // The last piece whose first key is not after this (sorted) key.
      auto after = std::upper_bound(
        result->pieces.begin(), result->pieces.end(), entry.first,
        [](const std::string& key, const auto& piece) {
          return key < piece.first;
        });
      auto index = static_cast<std::size_t>(after - result->pieces.begin()) - 1;
      if (dirty.empty() || dirty.back() != index)
        dirty.push_back(index);
    }
    for (auto index : dirty) {
      auto& [first, piece] = result->pieces[index];
      auto& before = piece->members;
      old_members walk{before.begin(), before.end(), changed};
      result->values -= piece->values;
      piece = object_piece(object.find(first),
                           std::min(piece_size, n - index * piece_size),
                           &walk);
      result->values += piece->values;
    }
    seal(*result, &dirty);
    return result;
  }
  // From scratch, or with members added or removed: every piece is written
  // again (the bounds shift), reusing the old nodes of unchanged members.
  member_nodes flat;
  std::optional<old_members> walk;
  if (old != nullptr) {
    auto* before = &old->members;
    if (!old->pieces.empty()) {
      for (auto& piece : old->pieces)
        flat.insert(flat.end(), piece.second->members.begin(),
                    piece.second->members.end());
      before = &flat;
    }
    walk = old_members{before->begin(), before->end(), changed};
  }
  auto* from = walk ? &*walk : nullptr;
  if (n <= piece_size)
    return object_piece(object.begin(), n, from);
  auto result = std::make_shared<hash_tree>();
  result->is_object = true;
  result->size = n;
  result->pieces.reserve((n + piece_size - 1) / piece_size);
  auto it = object.begin();
  for (std::size_t at = 0; at < n; at += piece_size) {
    auto count = std::min(piece_size, n - at);
    result->pieces.emplace_back(it->first, object_piece(it, count, from));
    result->values += result->pieces.back().second->values;
    std::advance(it, count);
  }
  seal(*result, nullptr);
  return result;
}

hash_tree_ptr build_array(const json::array_t& array) {
  auto n = array.size();
  if (n <= piece_size)
    return array_piece(array.begin(), n);
  auto result = std::make_shared<hash_tree>();
  result->size = n;
  result->pieces.reserve((n + piece_size - 1) / piece_size);
  for (std::size_t at = 0; at < n; at += piece_size) {
    result->pieces.emplace_back(
      std::string{},
      array_piece(array.begin() + static_cast<std::ptrdiff_t>(at),
                  std::min(piece_size, n - at)));
    result->values += result->pieces.back().second->values;
  }
  seal(*result, nullptr);
  return result;
}

// Recursion follows the tree's nesting, which the parse and proposal depth
// limits bound (as they bound dump() itself). Below a changed path the old
// node is of no use: `changed` with `whole` set rebuilds from scratch.
hash_tree_ptr build(const json& value, const hash_tree* old,
                    const path_trie* changed) {
  if (changed == nullptr || changed->whole)
    old = nullptr;
  if (old != nullptr && old->is_object != value.is_object())
    old = nullptr;
  if (value.is_object())
    return build_object(value.get_ref<const json::object_t&>(), old,
                        changed);
  return build_array(value.get_ref<const json::array_t&>());
}

/// Format 4's digest: every container written whole, however wide.
hash_digest unpieced(const json& value) {
  digest_sink out;
  auto put_member = [&](const json& member) {
    if (member.is_structured())
      put_ref(out, unpieced(member));
    else
      put_scalar(out, member);
  };
  auto first = true;
  if (value.is_object()) {
    out.put('{');
    for (auto& [key, member] : value.get_ref<const json::object_t&>()) {
      if (!first)
        out.put(',');
      first = false;
      put_string(out, key);
      out.put(':');
      put_member(member);
    }
    out.put('}');
  } else {
    out.put('[');
    for (auto& item : value.get_ref<const json::array_t&>()) {
      if (!first)
        out.put(',');
      first = false;
      put_member(item);
    }
    out.put(']');
  }
  return out.digest();
}

} // namespace

namespace detail {

std::string hash_tree::hex() const {
  return to_hex(digest.data(), static_cast<unsigned int>(digest.size()));
}

void path_trie::add(const config_path& path) {
  auto* node = this;
  for (auto& segment : path.segments) {
    if (node->whole)
      return;
    // Arrays are hashed whole: a path into one marks the array changed.
    auto key = std::get_if<std::string>(&segment);
    if (key == nullptr)
      break;
    node = &node->children[*key];
  }
  node->whole = true;
  node->children.clear();
}

hash_tree_ptr hash_tree_of(const json& value) {
  if (!value.is_structured())
    return nullptr;
  return build(value, nullptr, nullptr);
}

std::string unpieced_hash(const json& value) {
  if (!value.is_structured())
    return canonical_hash(value);
  auto digest = unpieced(value);
  return to_hex(digest.data(), static_cast<unsigned int>(digest.size()));
}

hash_tree_ptr rehash(const hash_tree_ptr& old, const json& value,
                     const path_trie& changed) {
  if (!value.is_structured())
    return nullptr;
  if (old == nullptr || changed.whole)
    return build(value, nullptr, nullptr);
  if (changed.children.empty() && old->is_object == value.is_object())
    return old;
  return build(value, old.get(), &changed);
}

} // namespace detail

std::string sha256_hex(std::string_view text) {
  std::array<unsigned char, EVP_MAX_MD_SIZE> digest{};
  unsigned int len = 0;
  check(EVP_Digest(text.data(), text.size(), digest.data(), &len, sha256(),
                   nullptr));
  return to_hex(digest.data(), len);
}

std::string canonical_hash(const json& value) {
  // A scalar is the digest of its text; a container that of its node.
  // `replace` keeps invalid UTF-8 (which can arrive through the env source)
  // from throwing; it hashes as U+FFFD.
  if (!value.is_structured()) {
    digest_sink out;
    put_scalar(out, value);
    return out.hex();
  }
  return detail::hash_tree_of(value)->hex();
}

} // namespace cfgactors

// SHA-256 content hashes: the Merkle hash of a tree (docs/HASH.md).
#include "cfgactors/hash.hpp"
#include "model/config_tree.hpp"
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

/// A cursor over the entries of a persistent tree's container, in order:
/// what a json iterator is to an object_t or array_t.
class entry_cursor {
public:
  /// At the first entry whose key is not before `key` (objects).
  static entry_cursor at_key(const detail::tree_block* root,
                             std::string_view key) {
    entry_cursor out;
    for (auto* block = root; block != nullptr;) {
      if (block->leaf()) {
        auto i = std::lower_bound(block->entries.begin(),
                                  block->entries.end(), key,
                                  [](const detail::tree_entry& entry,
                                     std::string_view k) {
                                    return entry.key < k;
                                  });
        out.path_.emplace_back(block, static_cast<std::size_t>(
                                        i - block->entries.begin()));
        return out;
      }
      // The last child whose first key is not after `key`.
      auto i = std::upper_bound(block->children.begin(),
                                block->children.end(), key,
                                [](std::string_view k, const auto& child) {
                                  return k < child->first;
                                });
      auto index = i == block->children.begin()
                     ? std::size_t{0}
                     : static_cast<std::size_t>(i - block->children.begin())
                         - 1;
      out.path_.emplace_back(block, index);
      block = block->children[index].get();
    }
    return out;
  }

  /// At the entry of position `index`.
  static entry_cursor at_index(const detail::tree_block* root,
                               std::size_t index) {
    entry_cursor out;
    for (auto* block = root; block != nullptr;) {
      if (block->leaf()) {
        out.path_.emplace_back(block, index);
        return out;
      }
      std::size_t child = 0;
      while (child + 1 < block->children.size()
             && index >= block->children[child]->count)
        index -= block->children[child++]->count;
      out.path_.emplace_back(block, child);
      block = block->children[child].get();
    }
    return out;
  }

  const detail::tree_entry& operator*() const {
    auto& [leaf, i] = path_.back();
    return leaf->entries[i];
  }

  const detail::tree_entry* operator->() const {
    return &**this;
  }

  entry_cursor& operator++() {
    if (++path_.back().second < path_.back().first->entries.size())
      return *this;
    path_.pop_back();
    while (!path_.empty()) {
      auto& [block, i] = path_.back();
      if (++i < block->children.size()) {
        for (auto* next = block->children[i].get();;) {
          path_.emplace_back(next, 0);
          if (next->leaf())
            break;
          next = next->children.front().get();
        }
        return *this;
      }
      path_.pop_back();
    }
    return *this;
  }

private:
  /// The blocks from the root to the entry and the position taken in each.
  std::vector<std::pair<const detail::tree_block*, std::size_t>> path_;
};

/// How the hash reads a tree held as json.
struct json_reader {
  using value = json;
  using member_cursor = json::object_t::const_iterator;
  using item_cursor = json::array_t::const_iterator;

  static bool structured(const json& x) {
    return x.is_structured();
  }
  static bool object(const json& x) {
    return x.is_object();
  }
  static const json& scalar(const json& x) {
    return x;
  }
  static std::size_t size(const json& x) {
    return x.size();
  }
  static bool has(const json& x, const std::string& key) {
    auto& members = x.get_ref<const json::object_t&>();
    return members.find(key) != members.end();
  }
  static member_cursor member_at(const json& x, const std::string& key) {
    return x.get_ref<const json::object_t&>().find(key);
  }
  static member_cursor first_member(const json& x) {
    return x.get_ref<const json::object_t&>().begin();
  }
  static item_cursor item_at(const json& x, std::size_t index) {
    return x.get_ref<const json::array_t&>().begin()
           + static_cast<std::ptrdiff_t>(index);
  }
  static const std::string& key(const member_cursor& it) {
    return it->first;
  }
  static const json& member(const member_cursor& it) {
    return it->second;
  }
  static const json& item(const item_cursor& it) {
    return *it;
  }
};

/// How the hash reads a persistent tree (model/config_tree.hpp): the same
/// text, so the same digests as the json it holds.
struct node_reader {
  using value = detail::config_node;
  using member_cursor = entry_cursor;
  using item_cursor = entry_cursor;

  static bool structured(const value& x) {
    return x.type() != value::kind::scalar;
  }
  static bool object(const value& x) {
    return x.is_object();
  }
  static const json& scalar(const value& x) {
    return x.scalar();
  }
  static std::size_t size(const value& x) {
    return x.size();
  }
  static bool has(const value& x, const std::string& key) {
    return x.member(key) != nullptr;
  }
  static member_cursor member_at(const value& x, const std::string& key) {
    return entry_cursor::at_key(x.block().get(), key);
  }
  static member_cursor first_member(const value& x) {
    return entry_cursor::at_index(x.block().get(), 0);
  }
  static item_cursor item_at(const value& x, std::size_t index) {
    return entry_cursor::at_index(x.block().get(), index);
  }
  static const std::string& key(const member_cursor& it) {
    return it->key;
  }
  static const value& member(const member_cursor& it) {
    return *it->value;
  }
  static const value& item(const item_cursor& it) {
    return *it->value;
  }
};

template <class Reader>
hash_tree_ptr build(const typename Reader::value& value, const hash_tree* old,
                    const path_trie* changed);

/// The node of `member` (a container): the old one where nothing below it
/// changed, rebuilt along the changed paths below it, or from scratch.
template <class Reader>
hash_tree_ptr child_node(const typename Reader::value& member,
                         const hash_tree_ptr* old, const path_trie* changed) {
  if (old == nullptr || *old == nullptr
      || (*old)->is_object != Reader::object(member))
    return build<Reader>(member, nullptr, nullptr);
  if (changed == nullptr)
    return *old;
  return build<Reader>(member, old->get(), changed);
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
template <class Reader>
std::shared_ptr<hash_tree> object_piece(typename Reader::member_cursor it,
                                        std::size_t count, old_members* old) {
  auto result = std::make_shared<hash_tree>();
  result->is_object = true;
  result->size = count;
  digest_sink out;
  out.put('{');
  for (std::size_t i = 0; i < count; ++i, ++it) {
    auto& key = Reader::key(it);
    auto& member = Reader::member(it);
    if (i > 0)
      out.put(',');
    put_string(out, key);
    out.put(':');
    ++result->values;
    if (!Reader::structured(member)) {
      put_scalar(out, Reader::scalar(member));
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
    auto node = child_node<Reader>(member, before, below);
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
template <class Reader>
std::shared_ptr<hash_tree> array_piece(typename Reader::item_cursor it,
                                       std::size_t count) {
  auto result = std::make_shared<hash_tree>();
  result->size = count;
  digest_sink out;
  out.put('[');
  for (std::size_t i = 0; i < count; ++i, ++it) {
    if (i > 0)
      out.put(',');
    ++result->values;
    auto& item = Reader::item(it);
    if (!Reader::structured(item)) {
      put_scalar(out, Reader::scalar(item));
      continue;
    }
    auto node = build<Reader>(item, nullptr, nullptr);
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
template <class Reader>
bool same_keys(const typename Reader::value& object, const hash_tree& old,
               const path_trie& changed) {
  if (old.size != Reader::size(object) || old.pieces.empty())
    return false;
  for (auto& entry : changed.children)
    if (!Reader::has(object, entry.first))
      return false;
  return true;
}

template <class Reader>
hash_tree_ptr build_object(const typename Reader::value& object,
                           const hash_tree* old, const path_trie* changed) {
  auto n = Reader::size(object);
  if (old != nullptr && n > piece_size
      && same_keys<Reader>(object, *old, *changed)) {
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
      piece = object_piece<Reader>(Reader::member_at(object, first),
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
    return object_piece<Reader>(Reader::first_member(object), n, from);
  auto result = std::make_shared<hash_tree>();
  result->is_object = true;
  result->size = n;
  result->pieces.reserve((n + piece_size - 1) / piece_size);
  auto it = Reader::first_member(object);
  for (std::size_t at = 0; at < n; at += piece_size) {
    auto count = std::min(piece_size, n - at);
    result->pieces.emplace_back(Reader::key(it),
                                object_piece<Reader>(it, count, from));
    result->values += result->pieces.back().second->values;
    for (std::size_t i = 0; i < count; ++i)
      ++it;
  }
  seal(*result, nullptr);
  return result;
}

template <class Reader>
hash_tree_ptr build_array(const typename Reader::value& array) {
  auto n = Reader::size(array);
  if (n <= piece_size)
    return array_piece<Reader>(Reader::item_at(array, 0), n);
  auto result = std::make_shared<hash_tree>();
  result->size = n;
  result->pieces.reserve((n + piece_size - 1) / piece_size);
  for (std::size_t at = 0; at < n; at += piece_size) {
    result->pieces.emplace_back(
      std::string{}, array_piece<Reader>(Reader::item_at(array, at),
                                         std::min(piece_size, n - at)));
    result->values += result->pieces.back().second->values;
  }
  seal(*result, nullptr);
  return result;
}

// Recursion follows the tree's nesting, which the parse and proposal depth
// limits bound (as they bound dump() itself). Below a changed path the old
// node is of no use: `changed` with `whole` set rebuilds from scratch.
template <class Reader>
hash_tree_ptr build(const typename Reader::value& value, const hash_tree* old,
                    const path_trie* changed) {
  if (changed == nullptr || changed->whole)
    old = nullptr;
  if (old != nullptr && old->is_object != Reader::object(value))
    old = nullptr;
  if (Reader::object(value))
    return build_object<Reader>(value, old, changed);
  return build_array<Reader>(value);
}

template <class Reader>
hash_tree_ptr rehash_with(const hash_tree_ptr& old,
                          const typename Reader::value& value,
                          const path_trie& changed) {
  if (!Reader::structured(value))
    return nullptr;
  if (old == nullptr || changed.whole)
    return build<Reader>(value, nullptr, nullptr);
  if (changed.children.empty() && old->is_object == Reader::object(value))
    return old;
  return build<Reader>(value, old.get(), &changed);
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
  return build<json_reader>(value, nullptr, nullptr);
}

hash_tree_ptr hash_tree_of(const config_node& value) {
  if (!node_reader::structured(value))
    return nullptr;
  return build<node_reader>(value, nullptr, nullptr);
}

std::string unpieced_hash(const json& value) {
  if (!value.is_structured())
    return canonical_hash(value);
  auto digest = unpieced(value);
  return to_hex(digest.data(), static_cast<unsigned int>(digest.size()));
}

hash_tree_ptr rehash(const hash_tree_ptr& old, const json& value,
                     const path_trie& changed) {
  return rehash_with<json_reader>(old, value, changed);
}

hash_tree_ptr rehash(const hash_tree_ptr& old, const config_node& value,
                     const path_trie& changed) {
  return rehash_with<node_reader>(old, value, changed);
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

// Dotted paths: parsing, rendering and the tree operations built on them.
#include "cfgactors/path.hpp"

#include <utility>

#include "model/assign_walk.hpp"

namespace cfgactors {

namespace {

bool needs_escape(char c) noexcept {
  return c == '.' || c == '[' || c == '\\';
}

void append_key(std::string& out, const std::string& key) {
  for (char c : key) {
    if (needs_escape(c))
      out += '\\';
    out += c;
  }
}

bool fail(std::string* error, std::string msg) {
  if (error)
    *error = std::move(msg);
  return false;
}

std::string at_offset(std::size_t pos) {
  return " at offset " + std::to_string(pos);
}

// What detail::assign_error needs to know of a json node.
struct json_walk {
  static bool is_null(const json& x) noexcept {
    return x.is_null();
  }
  static bool is_object(const json& x) noexcept {
    return x.is_object();
  }
  static bool is_array(const json& x) noexcept {
    return x.is_array();
  }
  static const char* type_name(const json& x) noexcept {
    return x.type_name();
  }
  static std::size_t size(const json& x) noexcept {
    return x.size();
  }
  static const json* member(const json& x, const std::string& key) {
    auto it = x.find(key);
    return it == x.end() ? nullptr : &*it;
  }
  static const json* item(const json& x, std::size_t index) {
    return &x[index];
  }
};

} // namespace

std::optional<config_path> config_path::parse(std::string_view text,
                                              std::string* error) {
  auto fail_at = [&](std::size_t pos, const std::string& what) {
    if (error)
      *error = what + at_offset(pos);
    return std::nullopt;
  };
  config_path result;
  if (text.empty())
    return result;
  std::size_t i = 0;
  // True where a segment must begin: the start, or right after a dot.
  bool expect_key = text[0] != '[';
  while (i < text.size()) {
    if (expect_key) {
      std::string key;
      auto start = i;
      while (i < text.size() && text[i] != '.' && text[i] != '[') {
        if (text[i] == '\\') {
          if (i + 1 == text.size())
            return fail_at(i, "dangling '\\'");
          if (!needs_escape(text[i + 1]))
            return fail_at(i, std::string{"invalid escape '\\"} + text[i + 1]
                                + "'");
          ++i;
        }
        key += text[i++];
      }
      if (i == start)
        return fail_at(i, "empty key");
      result.segments.emplace_back(std::move(key));
      expect_key = false;
      continue;
    }
    // Between segments: a dot starts a key, a bracket an index.
    if (text[i] == '.') {
      if (++i == text.size())
        return fail_at(i, "empty key");
      expect_key = true;
      continue;
    }
    if (text[i] != '[')
      return fail_at(i, std::string{"expected '.' or '[' but got '"} + text[i]
                          + "'");
    auto start = ++i;
    std::size_t index = 0;
    while (i < text.size() && text[i] >= '0' && text[i] <= '9') {
      auto digit = static_cast<std::size_t>(text[i] - '0');
      if (index > (static_cast<std::size_t>(-1) - digit) / 10)
        return fail_at(start, "index too large");
      index = index * 10 + digit;
      ++i;
    }
    if (i == start)
      return fail_at(start, "expected a non-negative integer index");
    // Leading zeros would make two spellings of one path.
    if (i - start > 1 && text[start] == '0')
      return fail_at(start, "index with a leading zero");
    if (i == text.size() || text[i] != ']')
      return fail_at(i, "expected ']'");
    ++i;
    result.segments.emplace_back(index);
  }
  return result;
}

std::optional<config_path> config_path::from_pointer(std::string_view pointer) {
  config_path result;
  if (pointer.empty())
    return result;
  if (pointer.front() != '/')
    return std::nullopt;
  std::string token;
  for (std::size_t i = 1; i <= pointer.size(); ++i) {
    if (i == pointer.size() || pointer[i] == '/') {
      result.segments.emplace_back(std::move(token));
      token.clear();
    } else if (pointer[i] == '~' && i + 1 < pointer.size()
               && (pointer[i + 1] == '0' || pointer[i + 1] == '1')) {
      token += pointer[++i] == '0' ? '~' : '/';
    } else {
      token += pointer[i];
    }
  }
  return result;
}

std::string config_path::str() const {
  std::string out;
  bool first = true;
  for (auto& seg : segments) {
    if (auto key = std::get_if<std::string>(&seg)) {
      if (!first)
        out += '.';
      append_key(out, *key);
    } else {
      out += '[';
      out += std::to_string(std::get<std::size_t>(seg));
      out += ']';
    }
    first = false;
  }
  return out;
}

const json* find(const json& root, const config_path& path) noexcept {
  const json* cur = &root;
  for (auto& seg : path.segments) {
    if (auto key = std::get_if<std::string>(&seg)) {
      if (!cur->is_object())
        return nullptr;
      auto it = cur->find(*key);
      if (it == cur->end())
        return nullptr;
      cur = &*it;
    } else {
      auto index = std::get<std::size_t>(seg);
      if (!cur->is_array() || index >= cur->size())
        return nullptr;
      cur = &(*cur)[index];
    }
  }
  return cur;
}

json* find(json& root, const config_path& path) noexcept {
  return const_cast<json*>(find(static_cast<const json&>(root), path));
}

bool assign(json& root, const config_path& path, json value,
            std::string* error) {
  // Check the whole walk before touching anything, so a failed assign leaves
  // `root` exactly as it was (no half-created intermediates).
  if (auto why = detail::assign_error<json_walk>(&root, path); !why.empty())
    return fail(error, std::move(why));
  // Now the walk cannot fail.
  json* target = &root;
  for (auto& seg : path.segments) {
    if (auto key = std::get_if<std::string>(&seg)) {
      if (target->is_null())
        *target = json::object();
      target = &(*target)[*key];
    } else {
      auto index = std::get<std::size_t>(seg);
      if (target->is_null())
        *target = json::array();
      if (index == target->size())
        target->push_back(nullptr);
      target = &(*target)[index];
    }
  }
  *target = std::move(value);
  return true;
}

bool erase(json& root, const config_path& path) {
  // The root itself has no parent to remove it from.
  if (path.empty())
    return false;
  config_path parent_path;
  parent_path.segments.assign(path.segments.begin(),
                              path.segments.end() - 1);
  auto parent = find(root, parent_path);
  if (parent == nullptr)
    return false;
  auto& last = path.segments.back();
  if (auto key = std::get_if<std::string>(&last))
    return parent->is_object() && parent->erase(*key) > 0;
  auto index = std::get<std::size_t>(last);
  if (!parent->is_array() || index >= parent->size())
    return false;
  parent->erase(index);
  return true;
}

namespace detail {

std::string path_prefix(const config_path& path, std::size_t n) {
  config_path prefix;
  prefix.segments.assign(path.segments.begin(),
                         path.segments.begin()
                           + static_cast<std::ptrdiff_t>(n));
  auto text = prefix.str();
  return text.empty() ? std::string{"<root>"} : text;
}

} // namespace detail

bool path_within(std::string_view path, std::string_view prefix) noexcept {
  if (prefix.empty())
    return true;
  if (path.size() < prefix.size() || path.substr(0, prefix.size()) != prefix)
    return false;
  if (path.size() == prefix.size())
    return true;
  // An odd run of trailing backslashes means the prefix ends inside an
  // escape, so the next character is part of its last key.
  std::size_t backslashes = 0;
  for (auto i = prefix.size(); i > 0 && prefix[i - 1] == '\\'; --i)
    ++backslashes;
  if (backslashes % 2 == 1)
    return false;
  auto next = path[prefix.size()];
  return next == '.' || next == '[';
}

std::size_t nesting_depth(const json& value) {
  // Explicit stack: a recursive walk would overflow on hostile depth.
  std::size_t result = 0;
  std::vector<std::pair<const json*, std::size_t>> todo;
  if (value.is_structured())
    todo.emplace_back(&value, 1);
  while (!todo.empty()) {
    auto [node, depth] = todo.back();
    todo.pop_back();
    if (depth > result)
      result = depth;
    for (auto& child : *node)
      if (child.is_structured())
        todo.emplace_back(&child, depth + 1);
  }
  return result;
}

} // namespace cfgactors

// Reading TOML: toml++ (v3, header-only in this one file) behind a lexical
// depth check, its tree turned into JSON. Integers stay integers; dates and
// times become their RFC 3339 text (JSON has no such type).
#include <cmath>
#include <cstddef>
#include <new>
#include <sstream>
#include <string>
#include <string_view>
#include <vector>

// Header-only: nothing to link, nothing for the installed package to find.
#define TOML_HEADER_ONLY 1
#define TOML_EXCEPTIONS 1
#include <toml++/toml.h>

#include "model/parse_readers.hpp"
#include "model/parse_text.hpp"

namespace cfgactors::detail {

namespace {

/// Where `text` first nests deeper than `limit`, or npos.
///
/// toml++ builds `[a.b.c…]` and `a.b.c… = 1` iteratively but walks and frees
/// its tree recursively (update_region_ends, the destructors), so a deep key
/// path in a large file would overflow the stack before we see the tree. This
/// scan bounds the depth first. It follows TOML's lexical rules (comments,
/// the four kinds of strings, keys before `=`, inline `{}` and `[]`) and
/// counts each dotted key part as one level; on malformed input it may
/// overestimate (refusing a file toml++ would refuse anyway), never under.
/// Levels count tables and arrays as JSON's do: the root table is 1, `[a]`
/// is 2, `[[a]]` is 3 (array + table), `x = {}` and `a.b = 1` (the table a)
/// in the root are 2.
std::size_t depth_exceeded_at(std::string_view text, std::size_t limit) {
  struct frame {
    char kind;             ///< '{' or '['
    std::size_t base;      ///< depth of this container
    std::size_t key_dots;  ///< dots of the key being read ('{' only)
    bool in_key;           ///< reading a key ('{' only)
  };
  std::vector<frame> frames;
  std::size_t table_depth = 1; // the table the last header opened
  std::size_t key_dots = 0;    // dots of the top-level key being read
  bool line_start = true;
  bool in_key = false;         // reading a top-level key (before `=`)
  auto n = text.size();
  // The depth a value or container opened here would get.
  auto here = [&]() -> std::size_t {
    if (frames.empty())
      return table_depth + key_dots;
    auto& f = frames.back();
    return f.base + (f.kind == '{' ? f.key_dots : 0);
  };
  // Skips a string starting at i; returns the offset after it.
  auto skip_string = [&](std::size_t i) {
    auto quote = text[i];
    auto multi = i + 2 < n && text[i + 1] == quote && text[i + 2] == quote;
    if (multi) {
      i += 3;
      while (i < n) {
        if (quote == '"' && text[i] == '\\') {
          i += 2;
        } else if (text[i] == quote && i + 2 < n && text[i + 1] == quote
                   && text[i + 2] == quote) {
          i += 3;
          // Up to two more quotes belong to the content.
          while (i < n && text[i] == quote)
            ++i;
          return i;
        } else {
          ++i;
        }
      }
      return n;
    }
    for (++i; i < n && text[i] != '\n'; ++i) {
      if (quote == '"' && text[i] == '\\')
        ++i;
      else if (text[i] == quote)
        return i + 1;
    }
    return i;
  };
  for (std::size_t i = 0; i < n;) {
    auto c = text[i];
    if (c == '\n') {
      if (frames.empty()) {
        line_start = true;
        in_key = false;
        key_dots = 0;
      }
      ++i;
      continue;
    }
    if (c == ' ' || c == '\t' || c == '\r') {
      ++i;
      continue;
    }
    if (c == '#') {
      while (i < n && text[i] != '\n')
        ++i;
      continue;
    }
    if (line_start && frames.empty()) {
      line_start = false;
      if (c == '[') {
        // A header: [a.b] or [[a.b]].
        auto aot = i + 1 < n && text[i + 1] == '[';
        std::size_t dots = 0;
        i += aot ? 2 : 1;
        while (i < n && text[i] != ']' && text[i] != '\n') {
          if (text[i] == '"' || text[i] == '\'') {
            i = skip_string(i);
            continue;
          }
          if (text[i] == '.' && 1 + ++dots + 1 + (aot ? 1 : 0) > limit)
            return i;
          ++i;
        }
        table_depth = 1 + dots + 1 + (aot ? 1 : 0);
        if (table_depth > limit)
          return i;
        while (i < n && text[i] != '\n' && text[i] != '#')
          ++i; // the closing brackets; whatever else toml++ will refuse
        continue;
      }
      in_key = true;
      key_dots = 0;
    }
    auto* top = frames.empty() ? nullptr : &frames.back();
    auto reading_key = top ? (top->kind == '{' && top->in_key) : in_key;
    if (c == '"' || c == '\'') {
      i = skip_string(i);
      continue;
    }
    if (reading_key) {
      if (c == '.') {
        auto& dots = top ? top->key_dots : key_dots;
        ++dots;
        if (here() > limit)
          return i;
      } else if (c == '=') {
        if (top)
          top->in_key = false;
        else
          in_key = false;
      } else if (c == '}' && top) {
        frames.pop_back();
      }
      ++i;
      continue;
    }
    if (c == '{' || c == '[') {
      auto depth = here() + 1;
      if (depth > limit)
        return i;
      frames.push_back({c, depth, 0, c == '{'});
    } else if ((c == '}' || c == ']') && top) {
      frames.pop_back();
    } else if (c == ',' && top && top->kind == '{') {
      top->in_key = true;
      top->key_dots = 0;
    }
    ++i;
  }
  return std::string_view::npos;
}

class converter {
public:
  converter(std::string_view source, const parse_limits& limits)
    : source_(source), limits_(limits) {
    // nop
  }

  /// The JSON of `node`, or nullopt with `error` set.
  /// `depth`: the level a table or array here opens (scalars open none).
  std::optional<json> convert(const toml::node& node, std::size_t depth) {
    if ((node.is_table() || node.is_array()) && depth > limits_.max_depth)
      return fail(node, depth_message(limits_.max_depth));
    switch (node.type()) {
      case toml::node_type::table: {
        auto result = json::object();
        for (auto&& [key, value] : *node.as_table()) {
          auto x = convert(value, depth + 1);
          if (!x)
            return std::nullopt;
          result[std::string{key.str()}] = std::move(*x);
        }
        return result;
      }
      case toml::node_type::array: {
        auto result = json::array();
        for (auto& value : *node.as_array()) {
          auto x = convert(value, depth + 1);
          if (!x)
            return std::nullopt;
          result.push_back(std::move(*x));
        }
        return result;
      }
      case toml::node_type::string:
        return json(node.as_string()->get());
      case toml::node_type::integer:
        return json(node.as_integer()->get());
      case toml::node_type::floating_point: {
        auto d = node.as_floating_point()->get();
        // JSON has no inf or nan: refuse rather than turn them into null.
        if (!std::isfinite(d))
          return fail(node, "inf and nan have no JSON value");
        return json(d);
      }
      case toml::node_type::boolean:
        return json(node.as_boolean()->get());
      case toml::node_type::date:
        return text_of(node.as_date()->get());
      case toml::node_type::time:
        return text_of(node.as_time()->get());
      case toml::node_type::date_time:
        return text_of(node.as_date_time()->get());
      default:
        return fail(node, "unsupported TOML value");
    }
  }

  std::optional<parse_error> error;

private:
  template <class T>
  static json text_of(const T& x) {
    std::ostringstream out;
    out << x;
    return json(out.str());
  }

  std::optional<json> fail(const toml::node& node, std::string message) {
    auto& at = node.source().begin;
    error = parse_error{std::string{source_},
                        static_cast<std::size_t>(at.line),
                        static_cast<std::size_t>(at.column),
                        std::move(message)};
    return std::nullopt;
  }

  std::string_view source_;
  const parse_limits& limits_;
};

} // namespace

parse_result parse_toml(std::string_view text, std::string_view source,
                        const parse_limits& limits) {
  if (auto at = depth_exceeded_at(text, limits.max_depth);
      at != std::string_view::npos) {
    auto pos = locate(text, at);
    return parse_failure(source, pos.line, pos.column,
                         depth_message(limits.max_depth));
  }
  try {
    auto table = toml::parse(text, source);
    converter conv{source, limits};
    auto value = conv.convert(table, 1);
    if (!value)
      return {json{}, std::move(conv.error)};
    return {std::move(*value), std::nullopt};
  } catch (const toml::parse_error& e) {
    auto& at = e.source().begin;
    return parse_failure(source, static_cast<std::size_t>(at.line),
                         static_cast<std::size_t>(at.column),
                         std::string{e.description()});
  } catch (const std::bad_alloc&) {
    return parse_failure(source, 0, 0, "out of memory");
  }
}

} // namespace cfgactors::detail

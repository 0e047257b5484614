// Parsing YAML and JSON into configuration trees. Every failure becomes a
// parse_error naming source, line and column; size and depth limits are
// enforced before anything can exhaust memory or the stack.
#include "cfgactors/parse.hpp"

#include <algorithm>
#include <cerrno>
#include <cstdint>
#include <charconv>
#include <cstdio>
#include <limits>
#include <istream>
#include <map>
#include <memory>
#include <new>
#include <streambuf>
#include <system_error>
#include <utility>
#include <vector>

#include <sys/stat.h>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

namespace cfgactors {

namespace {

// -- shared helpers -----------------------------------------------------------

parse_result failure(std::string_view source, std::size_t line,
                     std::size_t column, std::string message) {
  return {json{}, parse_error{std::string{source}, line, column,
                              std::move(message)}};
}

std::string size_message(std::size_t size, std::size_t limit) {
  return "document is " + std::to_string(size) + " bytes, limit is "
         + std::to_string(limit);
}

std::string depth_message(std::size_t limit) {
  return "nesting depth exceeds the limit of " + std::to_string(limit);
}

struct position {
  std::size_t line;
  std::size_t column;
};

// 1-based line and byte column of `offset` (which may be text.size(), the
// end of input). A byte order mark takes no column, as in editors.
position locate(std::string_view text, std::size_t offset) {
  offset = std::min(offset, text.size());
  if (text.substr(0, 3) == "\xEF\xBB\xBF" && offset >= 3) {
    text.remove_prefix(3);
    offset -= 3;
  }
  auto head = text.substr(0, offset);
  auto line = 1 + static_cast<std::size_t>(
                    std::count(head.begin(), head.end(), '\n'));
  auto nl = head.rfind('\n');
  auto column = nl == std::string_view::npos ? offset + 1 : offset - nl;
  return {line, column};
}

bool is_blank(std::string_view text) noexcept {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    text.remove_prefix(3);
  return std::all_of(text.begin(), text.end(), [](char c) {
    return c == ' ' || c == '\t' || c == '\n' || c == '\r';
  });
}

// Offset of the first byte that is not part of well-formed UTF-8 (no
// overlongs, no surrogates, nothing above U+10FFFF), or npos.
std::size_t invalid_utf8_at(std::string_view s) noexcept {
  std::size_t i = 0;
  while (i < s.size()) {
    auto c = static_cast<unsigned char>(s[i]);
    std::size_t len = 0;
    unsigned char lo = 0x80;
    unsigned char hi = 0xBF;
    if (c < 0x80) {
      ++i;
      continue;
    } else if (c >= 0xC2 && c <= 0xDF) {
      len = 2;
    } else if (c >= 0xE0 && c <= 0xEF) {
      len = 3;
      if (c == 0xE0)
        lo = 0xA0;
      else if (c == 0xED)
        hi = 0x9F;
    } else if (c >= 0xF0 && c <= 0xF4) {
      len = 4;
      if (c == 0xF0)
        lo = 0x90;
      else if (c == 0xF4)
        hi = 0x8F;
    } else {
      return i;
    }
    if (i + len > s.size())
      return i;
    for (std::size_t k = 1; k < len; ++k) {
      auto cc = static_cast<unsigned char>(s[i + k]);
      if (cc < (k == 1 ? lo : 0x80) || cc > (k == 1 ? hi : 0xBF))
        return i;
    }
    i += len;
  }
  return std::string_view::npos;
}

// -- JSON ---------------------------------------------------------------------

struct depth_exceeded {};

// Offset of the bracket that opens nesting level `limit + 1`. Only called
// after the parser stopped there, so the text up to that point is valid JSON
// and counting brackets outside strings is exact.
std::size_t offset_of_depth(std::string_view text, std::size_t limit) {
  std::size_t depth = 0;
  bool in_string = false;
  for (std::size_t i = 0; i < text.size(); ++i) {
    auto c = text[i];
    if (in_string) {
      if (c == '\\')
        ++i;
      else if (c == '"')
        in_string = false;
    } else if (c == '"') {
      in_string = true;
    } else if (c == '[' || c == '{') {
      if (++depth > limit)
        return i;
    } else if ((c == ']' || c == '}') && depth > 0) {
      --depth;
    }
  }
  return text.size();
}

// nlohmann's what() is "[json.exception.parse_error.101] parse error at line
// L, column C: <reason>"; we report the position ourselves, so keep <reason>.
std::string json_reason(const char* what) {
  std::string_view text{what};
  auto start = text.find("parse error");
  if (start != std::string_view::npos) {
    auto colon = text.find(": ", start);
    if (colon != std::string_view::npos)
      return std::string{text.substr(colon + 2)};
  }
  return std::string{text};
}

parse_result parse_json(std::string_view text, std::string_view source,
                        const parse_limits& limits) {
  if (is_blank(text))
    return {json::object(), std::nullopt};
  // nlohmann's parser is iterative; the callback only has to stop it before
  // it builds a tree deeper than the limit (depth = enclosing containers).
  json::parser_callback_t guard = [&limits](int depth,
                                            json::parse_event_t event,
                                            json&) {
    if ((event == json::parse_event_t::object_start
         || event == json::parse_event_t::array_start)
        && static_cast<std::size_t>(depth) >= limits.max_depth)
      throw depth_exceeded{};
    return true;
  };
  try {
    return {json::parse(text.begin(), text.end(), guard), std::nullopt};
  } catch (const depth_exceeded&) {
    auto pos = locate(text, offset_of_depth(text, limits.max_depth));
    return failure(source, pos.line, pos.column,
                   depth_message(limits.max_depth));
  } catch (const json::parse_error& e) {
    // `byte` counts the bytes read, so the offending byte is at byte - 1.
    auto pos = locate(text, e.byte > 0 ? e.byte - 1 : 0);
    return failure(source, pos.line, pos.column, json_reason(e.what()));
  } catch (const std::bad_alloc&) {
    return failure(source, 0, 0, "out of memory");
  } catch (const std::exception& e) {
    return failure(source, 0, 0, e.what());
  }
}

// -- YAML scalars (YAML 1.2 core schema) --------------------------------------

bool is_digit(char c, int base) noexcept {
  if (c >= '0' && c <= '9')
    return c - '0' < base;
  if (base == 16)
    return (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
  return false;
}

bool all_digits(std::string_view s, int base) noexcept {
  return !s.empty() && std::all_of(s.begin(), s.end(), [base](char c) {
    return is_digit(c, base);
  });
}

bool is_null_text(std::string_view s) noexcept {
  return s.empty() || s == "~" || s == "null" || s == "Null" || s == "NULL";
}

std::optional<json> to_bool(std::string_view s) {
  if (s == "true" || s == "True" || s == "TRUE")
    return json(true);
  if (s == "false" || s == "False" || s == "FALSE")
    return json(false);
  return std::nullopt;
}

// Parses a float the way from_chars does; the caller has matched the syntax.
json to_double(std::string_view s) {
  if (!s.empty() && s[0] == '+')
    s.remove_prefix(1);
  double value = 0;
  auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
  static_cast<void>(ptr);
  if (ec == std::errc::result_out_of_range) {
    // Overflow becomes infinity, underflow zero, like strtod.
    bool neg = !s.empty() && s[0] == '-';
    auto e = s.find_first_of("eE");
    bool tiny = e != std::string_view::npos && s.find('-', e) != s.npos;
    value = tiny ? 0.0 : std::numeric_limits<double>::infinity();
    if (neg)
      value = -value;
  }
  return json(value);
}

std::optional<json> to_int(std::string_view s) {
  int base = 10;
  std::string_view digits = s;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'o')) {
    base = s[1] == 'x' ? 16 : 8;
    digits = s.substr(2);
  } else if (!s.empty() && (s[0] == '+' || s[0] == '-')) {
    digits = s.substr(1);
  }
  if (!all_digits(digits, base))
    return std::nullopt;
  // Like the JSON parser: non-negative integers are unsigned, and integers
  // out of 64-bit range fall back to double.
  if (s[0] == '-') {
    std::int64_t value = 0;
    auto [ptr, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    static_cast<void>(ptr);
    if (ec == std::errc{})
      return json(value);
    return to_double(s);
  }
  std::uint64_t value = 0;
  auto [ptr, ec] = std::from_chars(digits.data(), digits.data() + digits.size(),
                                   value, base);
  static_cast<void>(ptr);
  if (ec == std::errc{})
    return json(value);
  if (base == 10)
    return to_double(digits);
  double approx = 0;
  for (char c : digits)
    approx = approx * base
             + (c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
  return json(approx);
}

std::optional<json> to_float(std::string_view s) {
  if (s == ".nan" || s == ".NaN" || s == ".NAN")
    return json(std::numeric_limits<double>::quiet_NaN());
  auto body = s;
  bool neg = false;
  if (!body.empty() && (body[0] == '+' || body[0] == '-')) {
    neg = body[0] == '-';
    body.remove_prefix(1);
  }
  if (body == ".inf" || body == ".Inf" || body == ".INF")
    return json(neg ? -std::numeric_limits<double>::infinity()
                    : std::numeric_limits<double>::infinity());
  // [0-9]* ( . [0-9]* )? ( [eE] [-+]? [0-9]+ )? with at least one mantissa
  // digit.
  std::size_t i = 0;
  std::size_t mantissa = 0;
  while (i < body.size() && is_digit(body[i], 10))
    ++i, ++mantissa;
  if (i < body.size() && body[i] == '.') {
    ++i;
    while (i < body.size() && is_digit(body[i], 10))
      ++i, ++mantissa;
  }
  if (mantissa == 0)
    return std::nullopt;
  if (i < body.size() && (body[i] == 'e' || body[i] == 'E')) {
    ++i;
    if (i < body.size() && (body[i] == '+' || body[i] == '-'))
      ++i;
    if (!all_digits(body.substr(i), 10))
      return std::nullopt;
    i = body.size();
  }
  if (i != body.size())
    return std::nullopt;
  return to_double(s);
}

json resolve_plain(const std::string& s) {
  if (is_null_text(s))
    return json(nullptr);
  if (auto b = to_bool(s))
    return *b;
  if (auto i = to_int(s))
    return *i;
  if (auto f = to_float(s))
    return *f;
  return json(s);
}

// -- YAML events to JSON ------------------------------------------------------

constexpr std::string_view core_tag = "tag:yaml.org,2002:";

std::size_t node_count(const json& value) {
  std::size_t n = 0;
  std::vector<const json*> todo{&value};
  while (!todo.empty()) {
    auto x = todo.back();
    todo.pop_back();
    ++n;
    if (x->is_structured())
      for (auto& child : *x)
        todo.push_back(&child);
  }
  return n;
}

// Builds the tree straight from parser events: no YAML::Node in between, no
// recursion of our own, and every error carries the mark of its event.
// Errors are thrown as YAML::ParserException so the parser unwinds cleanly.
class yaml_builder final : public YAML::EventHandler {
public:
  yaml_builder(std::string_view text, const parse_limits& limits,
               std::size_t alias_budget)
    : text_(text), limits_(limits), alias_budget_(alias_budget) {
    // nop
  }

  bool has_root() const noexcept {
    return has_root_;
  }

  json& root() noexcept {
    return root_;
  }

  void OnDocumentStart(const YAML::Mark&) override {
    // nop
  }

  void OnDocumentEnd() override {
    // nop
  }

  void OnNull(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    if (in_key_position())
      fail(mark, "a mapping key must not be null");
    add(json(nullptr), 0, anchor);
  }

  void OnAlias(const YAML::Mark& mark, YAML::anchor_t anchor) override {
    auto it = anchors_.find(anchor);
    if (it == anchors_.end() || !it->second.complete)
      fail(mark, "an alias must not refer to a node that contains it");
    auto& entry = it->second;
    if (in_key_position()) {
      if (!entry.value.is_string())
        fail(mark, "a mapping key must be a scalar");
      set_key(mark, false, entry.value.get<std::string>());
      return;
    }
    if (frames_.size() + entry.depth > limits_.max_depth)
      fail(mark, depth_message(limits_.max_depth));
    // Aliases are copied, so a few bytes can describe an exponential tree
    // ("billion laughs"); cap what copies may add.
    alias_nodes_ += entry.nodes;
    if (alias_nodes_ > alias_budget_)
      fail(mark, "aliases expand to more than " + std::to_string(alias_budget_)
                   + " nodes");
    add(json(entry.value), entry.depth, 0);
  }

  void OnScalar(const YAML::Mark& mark, const std::string& tag,
                YAML::anchor_t anchor, const std::string& value) override {
    if (invalid_utf8_at(value) != std::string_view::npos)
      fail(mark, "invalid UTF-8 in scalar");
    if (unterminated_quote(mark))
      fail(mark, "unterminated quoted scalar");
    if (in_key_position()) {
      // Keys stay text (`1: x` is the key "1"); `<<` is a merge key only
      // when plain.
      set_key(mark, tag == "?" && value == "<<", value);
      if (anchor != 0)
        anchors_[anchor] = anchor_entry{json(value), 0, 1, true};
      return;
    }
    add(resolve(mark, tag, value), 0, anchor);
  }

  void OnSequenceStart(const YAML::Mark& mark, const std::string& tag,
                       YAML::anchor_t anchor,
                       YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, false);
  }

  void OnSequenceEnd() override {
    close();
  }

  void OnMapStart(const YAML::Mark& mark, const std::string& tag,
                  YAML::anchor_t anchor, YAML::EmitterStyle::value) override {
    open(mark, tag, anchor, true);
  }

  void OnMapEnd() override {
    close();
  }

private:
  struct frame {
    json value;
    bool is_map = false;
    YAML::anchor_t anchor = 0;
    YAML::Mark mark;
    std::size_t child_depth = 0;
    bool has_key = false;
    std::string key;
    YAML::Mark key_mark;
    bool key_is_merge = false;
    bool seen_merge = false;
    std::vector<json> merge_sources;
  };

  struct anchor_entry {
    json value;
    std::size_t depth = 0;
    std::size_t nodes = 0;
    bool complete = false;
  };

  [[noreturn]] static void fail(const YAML::Mark& mark, std::string msg) {
    throw YAML::ParserException(mark, std::move(msg));
  }

  // yaml-cpp 0.7 accepts a quoted scalar that is still open at the end of
  // the input (`host: "x<EOF>`); a missing quote must not pass silently.
  bool unterminated_quote(const YAML::Mark& mark) const noexcept {
    if (mark.pos < 0)
      return false;
    auto is_space = [](char c) {
      return c == ' ' || c == '\t' || c == '\n' || c == '\r';
    };
    auto pos = static_cast<std::size_t>(mark.pos);
    // The mark sits on the node's properties (tag, anchor) if it has any.
    while (pos < text_.size() && (text_[pos] == '!' || text_[pos] == '&')) {
      while (pos < text_.size() && !is_space(text_[pos]))
        ++pos;
      while (pos < text_.size() && is_space(text_[pos]))
        ++pos;
    }
    if (pos >= text_.size() || (text_[pos] != '"' && text_[pos] != '\''))
      return false;
    auto quote = text_[pos];
    for (auto i = pos + 1; i < text_.size(); ++i) {
      if (quote == '"' && text_[i] == '\\') {
        ++i;
      } else if (text_[i] == quote) {
        // Inside single quotes, '' is an escaped quote.
        if (quote == '\'' && i + 1 < text_.size() && text_[i + 1] == '\'') {
          ++i;
          continue;
        }
        return false;
      }
    }
    return true;
  }

  bool in_key_position() const noexcept {
    return !frames_.empty() && frames_.back().is_map && !frames_.back().has_key;
  }

  void set_key(const YAML::Mark& mark, bool is_merge, const std::string& key) {
    auto& top = frames_.back();
    if (is_merge ? top.seen_merge : top.value.contains(key))
      fail(mark, "duplicate key '" + key + "'");
    top.seen_merge = top.seen_merge || is_merge;
    top.has_key = true;
    top.key = key;
    top.key_mark = mark;
    top.key_is_merge = is_merge;
  }

  json resolve(const YAML::Mark& mark, const std::string& tag,
               const std::string& value) {
    if (tag == "?")
      return resolve_plain(value);
    if (tag == "!")
      return json(value); // quoted or block scalar
    std::optional<json> result;
    std::string_view name;
    if (tag.compare(0, core_tag.size(), core_tag) == 0)
      name = std::string_view{tag}.substr(core_tag.size());
    if (name == "str")
      return json(value);
    if (name == "null") {
      if (is_null_text(value))
        return json(nullptr);
    } else if (name == "bool") {
      result = to_bool(value);
    } else if (name == "int") {
      result = to_int(value);
    } else if (name == "float") {
      result = to_float(value);
      if (!result && (result = to_int(value)))
        result = json(result->get<double>());
    } else {
      fail(mark, "unsupported tag '" + tag + "'");
    }
    if (!result)
      fail(mark, "'" + value + "' is not a valid !!" + std::string{name});
    return std::move(*result);
  }

  void open(const YAML::Mark& mark, const std::string& tag,
            YAML::anchor_t anchor, bool is_map) {
    if (in_key_position())
      fail(mark, "a mapping key must be a scalar");
    if (frames_.size() + 1 > limits_.max_depth)
      fail(mark, depth_message(limits_.max_depth));
    if (tag != "?" && tag != "!"
        && tag != std::string{core_tag} + (is_map ? "map" : "seq"))
      fail(mark, "unsupported tag '" + tag + "'");
    if (anchor != 0)
      anchors_[anchor] = anchor_entry{}; // incomplete until close()
    frame f;
    f.value = is_map ? json::object() : json::array();
    f.is_map = is_map;
    f.anchor = anchor;
    f.mark = mark;
    frames_.push_back(std::move(f));
  }

  void close() {
    auto f = std::move(frames_.back());
    frames_.pop_back();
    // Explicit keys win over merged ones, earlier merge sources over later.
    for (auto& source : f.merge_sources)
      for (auto it = source.begin(); it != source.end(); ++it)
        if (!f.value.contains(it.key()))
          f.value[it.key()] = std::move(*it);
    add(std::move(f.value), f.child_depth + 1, f.anchor);
  }

  void add(json value, std::size_t depth, YAML::anchor_t anchor) {
    if (anchor != 0)
      anchors_[anchor] = anchor_entry{value, depth, node_count(value), true};
    if (frames_.empty()) {
      root_ = std::move(value);
      has_root_ = true;
      return;
    }
    auto& top = frames_.back();
    top.child_depth = std::max(top.child_depth, depth);
    if (!top.is_map) {
      top.value.push_back(std::move(value));
      return;
    }
    top.has_key = false;
    if (!top.key_is_merge) {
      top.value[top.key] = std::move(value);
      return;
    }
    // `<<: *base` or `<<: [*a, *b]` (YAML 1.1 merge keys, common in config
    // files even though the 1.2 core schema does not define them).
    if (value.is_object()) {
      top.merge_sources.push_back(std::move(value));
      return;
    }
    if (value.is_array()
        && std::all_of(value.begin(), value.end(),
                       [](const json& x) { return x.is_object(); })) {
      for (auto& x : value)
        top.merge_sources.push_back(std::move(x));
      return;
    }
    fail(top.key_mark,
         "a merge key (<<) needs a mapping or a list of mappings");
  }

  std::string_view text_;
  const parse_limits& limits_;
  std::size_t alias_budget_;
  std::size_t alias_nodes_ = 0;
  std::vector<frame> frames_;
  std::map<YAML::anchor_t, anchor_entry> anchors_;
  json root_;
  bool has_root_ = false;
};

// Stops at the start of a second document: a configuration file holds one.
class single_document_guard final : public YAML::EventHandler {
public:
  void OnDocumentStart(const YAML::Mark& mark) override {
    throw YAML::ParserException(mark, "a second YAML document starts here; "
                                      "a configuration holds exactly one");
  }
  void OnDocumentEnd() override {
    // nop
  }
  void OnNull(const YAML::Mark&, YAML::anchor_t) override {
    // nop
  }
  void OnAlias(const YAML::Mark&, YAML::anchor_t) override {
    // nop
  }
  void OnScalar(const YAML::Mark&, const std::string&, YAML::anchor_t,
                const std::string&) override {
    // nop
  }
  void OnSequenceStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                       YAML::EmitterStyle::value) override {
    // nop
  }
  void OnSequenceEnd() override {
    // nop
  }
  void OnMapStart(const YAML::Mark&, const std::string&, YAML::anchor_t,
                  YAML::EmitterStyle::value) override {
    // nop
  }
  void OnMapEnd() override {
    // nop
  }
};

// Reads a string_view through std::istream without copying the document.
class view_buf final : public std::streambuf {
public:
  explicit view_buf(std::string_view text) {
    auto first = const_cast<char*>(text.data());
    setg(first, first, first + text.size());
  }
};

// The text as yaml-cpp counts mark positions: after a UTF-8 byte order mark.
// For UTF-16/32 input marks count decoded characters, so return nothing and
// skip the checks that need byte offsets.
std::string_view mark_positions(std::string_view text) noexcept {
  if (text.substr(0, 3) == "\xEF\xBB\xBF")
    return text.substr(3);
  if (text.size() >= 2
      && (text[0] == '\0' || text[1] == '\0'
          || static_cast<unsigned char>(text[0]) >= 0xFE))
    return {};
  return text;
}

std::size_t to_1_based(int x) noexcept {
  return x < 0 ? 0 : static_cast<std::size_t>(x) + 1;
}

parse_result parse_yaml(std::string_view text, std::string_view source,
                        const parse_limits& limits) {
  view_buf buf{text};
  std::istream in{&buf};
  // Alias copies may add at most as many nodes as the text has bytes (or
  // 128Ki): memory stays linear in the input.
  auto alias_budget = std::max<std::size_t>(text.size(), 1u << 17);
  yaml_builder builder{mark_positions(text), limits, alias_budget};
  try {
    YAML::Parser parser{in};
    if (parser.HandleNextDocument(builder)) {
      single_document_guard guard;
      parser.HandleNextDocument(guard);
    }
  } catch (const YAML::DeepRecursion& e) {
    // yaml-cpp's own recursion guard, reached when max_depth is above it.
    return failure(source, to_1_based(e.mark.line), to_1_based(e.mark.column),
                   "nesting too deep for the YAML parser (depth "
                     + std::to_string(e.depth()) + ")");
  } catch (const YAML::Exception& e) {
    return failure(source, to_1_based(e.mark.line), to_1_based(e.mark.column),
                   e.msg);
  } catch (const std::bad_alloc&) {
    return failure(source, 0, 0, "out of memory");
  } catch (const std::exception& e) {
    return failure(source, 0, 0, e.what());
  }
  // An empty file, a comment-only file and a bare `---` (or `~`) all mean
  // "no settings".
  if (!builder.has_root() || builder.root().is_null())
    return {json::object(), std::nullopt};
  return {std::move(builder.root()), std::nullopt};
}

// Reads at most `limit` bytes; returns an error message on failure.
std::optional<std::string> read_file(const std::string& path,
                                     std::size_t limit, std::string& out) {
  auto os_error = [](int code) {
    return std::error_code{code, std::generic_category()}.message();
  };
  std::unique_ptr<std::FILE, int (*)(std::FILE*)> file{
    std::fopen(path.c_str(), "rb"), &std::fclose};
  if (!file)
    return os_error(errno);
  struct stat st {};
  if (::fstat(::fileno(file.get()), &st) == 0) {
    if (S_ISDIR(st.st_mode))
      return os_error(EISDIR);
    if (S_ISREG(st.st_mode)) {
      auto size = static_cast<std::size_t>(st.st_size);
      if (size > limit)
        return size_message(size, limit);
      out.reserve(size);
    }
  }
  // Loop until EOF rather than trusting st_size: pipes and /proc files report
  // 0, and the file may grow while we read.
  char chunk[64 * 1024];
  for (;;) {
    auto n = std::fread(chunk, 1, sizeof(chunk), file.get());
    out.append(chunk, n);
    if (out.size() > limit)
      return "document is more than " + std::to_string(limit)
             + " bytes, limit is " + std::to_string(limit);
    if (n < sizeof(chunk))
      break;
  }
  if (std::ferror(file.get()))
    return os_error(errno != 0 ? errno : EIO);
  return std::nullopt;
}

} // namespace

std::string parse_error::str() const {
  std::string out = source.empty() ? std::string{"<input>"} : source;
  if (line > 0) {
    out += ':';
    out += std::to_string(line);
    if (column > 0) {
      out += ':';
      out += std::to_string(column);
    }
  }
  out += ": ";
  out += message;
  return out;
}

parse_result parse_document(std::string_view text, document_format format,
                            std::string_view source_name,
                            const parse_limits& limits) {
  if (text.size() > limits.max_bytes)
    return failure(source_name, 0, 0,
                   size_message(text.size(), limits.max_bytes));
  if (format == document_format::json)
    return parse_json(text, source_name, limits);
  return parse_yaml(text, source_name, limits);
}

std::optional<document_format> format_for_path(std::string_view path) {
  auto slash = path.find_last_of('/');
  auto name = slash == std::string_view::npos ? path : path.substr(slash + 1);
  auto dot = name.find_last_of('.');
  if (dot == std::string_view::npos)
    return std::nullopt;
  std::string ext{name.substr(dot + 1)};
  std::transform(ext.begin(), ext.end(), ext.begin(), [](char c) {
    return c >= 'A' && c <= 'Z' ? static_cast<char>(c - 'A' + 'a') : c;
  });
  if (ext == "json")
    return document_format::json;
  if (ext == "yaml" || ext == "yml")
    return document_format::yaml;
  return std::nullopt;
}

parse_result parse_file(const std::string& path, const parse_limits& limits) {
  auto format = format_for_path(path);
  if (!format)
    return failure(path, 0, 0,
                   "unknown file extension (expected .json, .yaml or .yml)");
  std::string text;
  errno = 0;
  if (auto err = read_file(path, limits.max_bytes, text))
    return failure(path, 0, 0, std::move(*err));
  return parse_document(text, *format, path, limits);
}

} // namespace cfgactors

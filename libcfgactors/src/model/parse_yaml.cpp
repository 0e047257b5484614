// Reading YAML: yaml-cpp's event stream built straight into a tree, with
// anchors, aliases (budgeted), merge keys, depth limits and error marks.
#include <algorithm>
#include <cstddef>
#include <istream>
#include <map>
#include <new>
#include <optional>
#include <streambuf>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

#include <yaml-cpp/depthguard.h>
#include <yaml-cpp/eventhandler.h>
#include <yaml-cpp/exceptions.h>
#include <yaml-cpp/mark.h>
#include <yaml-cpp/parser.h>

#include "model/node_count.hpp"
#include "model/parse_readers.hpp"
#include "model/parse_text.hpp"
#include "model/parse_yaml_scalar.hpp"

namespace cfgactors::detail {

namespace {

constexpr std::string_view core_tag = "tag:yaml.org,2002:";

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

} // namespace

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
    return parse_failure(source, to_1_based(e.mark.line),
                         to_1_based(e.mark.column),
                         "nesting too deep for the YAML parser (depth "
                           + std::to_string(e.depth()) + ")");
  } catch (const YAML::Exception& e) {
    return parse_failure(source, to_1_based(e.mark.line),
                         to_1_based(e.mark.column), e.msg);
  } catch (const std::bad_alloc&) {
    return parse_failure(source, 0, 0, "out of memory");
  } catch (const std::exception& e) {
    return parse_failure(source, 0, 0, e.what());
  }
  // An empty file, a comment-only file and a bare `---` (or `~`) all mean
  // "no settings".
  if (!builder.has_root() || builder.root().is_null())
    return {json::object(), std::nullopt};
  return {std::move(builder.root()), std::nullopt};
}

} // namespace cfgactors::detail

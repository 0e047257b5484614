// Resolving a schema's `$ref`s the way draft 7 says (`$id` sets the base URI
// of its subschema, plain-name fragments are anchors) into one document whose
// references are all local JSON pointers: valijson then needs no scopes and
// no fetching. Nothing here touches the network: a reference is served from
// this schema, the embedded meta-schema or a configured directory, or the
// schema is refused.
#include "model/schema_refs.hpp"

#include <cctype>
#include <cstddef>
#include <algorithm>
#include <deque>
#include <functional>
#include <map>
#include <optional>
#include <set>
#include <utility>
#include <vector>

#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"
#include "model/schema_location.hpp"
#include "model/schema_meta.hpp"

namespace cfgactors::detail {

namespace {

using pointer = json::json_pointer;

// The base URI of a schema without an absolute `$id`: relative references
// resolve against it and then match nothing outside this schema.
constexpr const char* default_base = "cfgactors:///schema.json";

// Bounds for what a schema may pull in: referenced files and their size.
constexpr std::size_t max_documents = 64;
constexpr std::size_t max_document_bytes = 4u << 20;
// Subschemas applied to one value through longer chains of $refs and
// applicators than this are refused: valijson recurses once per step.
constexpr std::size_t max_chain = 64;

struct uri_parts {
  std::string scheme;
  std::optional<std::string> authority;
  std::string path;
  std::optional<std::string> query;
  std::optional<std::string> fragment;
};

uri_parts split_uri(const std::string& text) {
  uri_parts r;
  std::string rest = text;
  if (auto hash = rest.find('#'); hash != std::string::npos) {
    r.fragment = rest.substr(hash + 1);
    rest.resize(hash);
  }
  if (auto q = rest.find('?'); q != std::string::npos) {
    r.query = rest.substr(q + 1);
    rest.resize(q);
  }
  // A scheme: a letter, then letters, digits, + - . up to the first ':'.
  auto colon = rest.find(':');
  if (colon != std::string::npos && colon > 0
      && std::isalpha(static_cast<unsigned char>(rest[0]))) {
    bool scheme = true;
    for (std::size_t i = 0; i < colon && scheme; ++i) {
      auto c = static_cast<unsigned char>(rest[i]);
      scheme = std::isalnum(c) || c == '+' || c == '-' || c == '.';
    }
    if (scheme) {
      r.scheme = rest.substr(0, colon);
      rest.erase(0, colon + 1);
    }
  }
  if (rest.rfind("//", 0) == 0) {
    auto slash = rest.find('/', 2);
    r.authority = rest.substr(2, slash - 2);
    rest = slash == std::string::npos ? "" : rest.substr(slash);
  }
  r.path = std::move(rest);
  return r;
}

std::string remove_dot_segments(std::string in) {
  std::string out;
  while (!in.empty()) {
    if (in.rfind("../", 0) == 0)
      in.erase(0, 3);
    else if (in.rfind("./", 0) == 0)
      in.erase(0, 2);
    else if (in.rfind("/./", 0) == 0)
      in.erase(0, 2);
    else if (in == "/.")
      in = "/";
    else if (in.rfind("/../", 0) == 0 || in == "/..") {
      in = in.size() == 3 ? "/" : in.substr(3);
      auto last = out.rfind('/');
      out.resize(last == std::string::npos ? 0 : last);
    } else if (in == "." || in == "..") {
      in.clear();
    } else {
      auto next = in.find('/', 1);
      out += in.substr(0, next);
      in = next == std::string::npos ? "" : in.substr(next);
    }
  }
  return out;
}

std::string join_uri(const uri_parts& u) {
  std::string r;
  if (!u.scheme.empty())
    r += u.scheme + ":";
  if (u.authority)
    r += "//" + *u.authority;
  r += u.path;
  if (u.query)
    r += "?" + *u.query;
  if (u.fragment)
    r += "#" + *u.fragment;
  return r;
}

std::string without_fragment(const std::string& uri) {
  return uri.substr(0, uri.find('#'));
}

// A JSON pointer as a URI fragment valijson decodes back: `~` and `/`
// escaped as the pointer syntax says, anything else unusual as %XX.
std::string as_fragment(const pointer& ptr) {
  static constexpr char hex[] = "0123456789ABCDEF";
  std::string out = "#";
  for (auto c : ptr.to_string()) {
    auto u = static_cast<unsigned char>(c);
    if (std::isalnum(u) || c == '/' || c == '~' || c == '-' || c == '.'
        || c == '_') {
      out += c;
    } else {
      out += '%';
      out += hex[u >> 4];
      out += hex[u & 15];
    }
  }
  return out;
}

// A schema location: which document (0 = the root) and where in it.
struct location {
  std::size_t doc = 0;
  pointer at;
};

// Keywords whose values are data, not schemas: never scanned for $ref/$id.
bool is_data_keyword(const std::string& key) {
  return key == "enum" || key == "const" || key == "default"
         || key == "examples";
}

// Keywords whose values map names to schemas: the names are not keywords.
bool is_schema_map(const std::string& key) {
  return key == "properties" || key == "patternProperties"
         || key == "definitions" || key == "dependencies";
}

class bundler {
public:
  explicit bundler(const schema_options& options) : options_(options) {
    // nop
  }

  bool run(const json& root, json& result, std::string& error) {
    docs_.push_back({root, default_base});
    if (!index(0, error))
      return false;
    // Rewriting may load more documents (appended to docs_), which get
    // indexed and rewritten in turn.
    for (std::size_t i = 0; i < docs_.size(); ++i)
      if (!rewrite(i, error))
        return false;
    if (!check_same_value_chains(error))
      return false;
    result = std::move(docs_[0].content);
    if (docs_.size() > 1) {
      if (!result.is_object() || result.contains(bundle_key)) {
        error = "the schema's root must be an object without \""
                + std::string{bundle_key} + "\" to use remote references";
        return false;
      }
      auto& extra = result[bundle_key] = json::array();
      for (std::size_t i = 1; i < docs_.size(); ++i)
        extra.push_back(std::move(docs_[i].content));
    }
    return true;
  }

private:
  struct document {
    json content;
    std::string uri; // where it was loaded from (its retrieval URI)
  };

  // Pass 1: every `$id` in document `doc` registers the location of its
  // subschema under its absolute URI (or anchor).
  bool index(std::size_t doc, std::string& error) {
    register_uri(without_fragment(docs_[doc].uri), {doc, pointer{}});
    auto uri = docs_[doc].uri;
    return scan(docs_[doc].content, uri, {doc, pointer{}}, false, error);
  }

  void register_uri(const std::string& uri, location loc) {
    ids_.emplace(uri, std::move(loc));
  }

  // Walks the schemas of one document; pass 1 (`rewrite` false) registers
  // `$id`s, pass 2 rewrites `$ref`s and strips `$id`s.
  bool scan(json& node, const std::string& base, const location& here,
            bool rewrite, std::string& error) {
    if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i)
        if (!scan(node[i], base, {here.doc, here.at / i}, rewrite, error))
          return false;
      return true;
    }
    if (!node.is_object())
      return true;
    auto scope = base;
    auto ref = node.find("$ref");
    auto has_ref = ref != node.end() && ref->is_string();
    auto id = node.find("$id");
    // Beside a $ref every other keyword is ignored, $id included.
    if (id != node.end() && id->is_string() && !has_ref) {
      auto resolved = resolve_uri(base, id->get<std::string>());
      auto parts = split_uri(resolved);
      if (parts.fragment && !parts.fragment->empty()) {
        // "#name" (or "other#name") names this subschema; it does not
        // change the base.
        if (!rewrite)
          register_uri(resolved, here);
      } else {
        scope = without_fragment(resolved);
        if (!rewrite)
          register_uri(scope, here);
      }
      if (rewrite)
        node.erase(id);
    }
    if (has_ref && rewrite) {
      auto target = resolve(scope, ref->get<std::string>(), here, error);
      if (!target)
        return false;
      *ref = as_fragment(*target);
    }
    if (rewrite && !has_ref)
      note_applicators(node, here);
    for (auto& [key, value] : node.items()) {
      if (is_data_keyword(key) || key == "$ref")
        continue;
      auto at = here.at / key;
      if (is_schema_map(key) && value.is_object()) {
        for (auto& [name, sub] : value.items())
          if (!scan(sub, scope, {here.doc, at / name}, rewrite, error))
            return false;
      } else if (!scan(value, scope, {here.doc, at}, rewrite, error)) {
        return false;
      }
    }
    return true;
  }

  // A location as the dotted path the rest of the schema errors use, with
  // the document's URI when it is not the schema itself.
  std::string describe(const location& loc) const {
    config_path path;
    const json* node = &docs_[loc.doc].content;
    auto ptr = loc.at;
    std::vector<std::string> tokens;
    for (; !ptr.empty(); ptr.pop_back())
      tokens.push_back(ptr.back());
    for (auto i = tokens.rbegin(); i != tokens.rend(); ++i) {
      if (node != nullptr && node->is_array()) {
        auto index = static_cast<std::size_t>(std::stoul(*i));
        path.segments.emplace_back(index);
        node = index < node->size() ? &(*node)[index] : nullptr;
      } else {
        path.segments.emplace_back(*i);
        node = node != nullptr && node->is_object() && node->contains(*i)
                 ? &(*node)[*i]
                 : nullptr;
      }
    }
    auto text = path.str();
    std::string where = text.empty() ? "the root" : "\"" + text + "\"";
    if (loc.doc != 0)
      where += " of " + docs_[loc.doc].uri;
    return where;
  }

  // The location `$ref` `ref` (in scope `base`, found at `here`) points to,
  // in the bundled document.
  std::optional<pointer> resolve(const std::string& base,
                                 const std::string& ref,
                                 const location& here, std::string& error) {
    auto fail = [&](const std::string& why) {
      error = "$ref \"" + ref + "\" at " + describe(here) + ": " + why;
      return std::nullopt;
    };
    auto uri = resolve_uri(base, ref);
    auto parts = split_uri(uri);
    auto fragment = parts.fragment ? percent_decode(*parts.fragment) : "";
    std::optional<location> target;
    if (!fragment.empty() && fragment.front() != '/') {
      auto i = ids_.find(uri);
      if (i == ids_.end())
        return fail("no subschema has the $id \"" + uri + "\"");
      target = i->second;
    } else {
      auto resource = without_fragment(uri);
      auto i = ids_.find(resource);
      if (i == ids_.end()) {
        auto loaded = load(resource, error);
        if (!loaded)
          return fail(error);
        i = ids_.find(resource);
        if (i == ids_.end())
          i = ids_.emplace(resource, location{*loaded, pointer{}}).first;
      }
      target = i->second;
      try {
        target->at /= pointer{fragment};
      } catch (const std::exception&) {
        return fail("\"#" + fragment + "\" is not a JSON pointer");
      }
    }
    auto& doc = docs_[target->doc].content;
    if (!doc.contains(target->at))
      return fail("it does not resolve (nothing at " + describe(*target)
                  + ")");
    auto& node = doc.at(target->at);
    if (!node.is_object() && !node.is_boolean())
      return fail(describe(*target) + " is not a schema");
    auto result = target->doc == 0 ? pointer{}
                                   : pointer{} / bundle_key
                                       / (target->doc - 1);
    result /= target->at;
    same_value_[key_of(here)].push_back(key_of(*target));
    return result;
  }

  // Loads a referenced document: the meta-schema, or a file under one of
  // the configured directories; anything else is refused.
  std::optional<std::size_t> load(const std::string& uri,
                                  std::string& error) {
    if (docs_.size() > max_documents) {
      error = "more than " + std::to_string(max_documents)
              + " referenced documents";
      return std::nullopt;
    }
    if (uri == draft7_meta_schema_uri) {
      docs_.push_back({json::parse(draft7_meta_schema_text()), uri});
    } else {
      auto file = file_for(uri, error);
      if (!file)
        return std::nullopt;
      parse_limits limits;
      limits.max_bytes = max_document_bytes;
      auto parsed = parse_file(*file, limits);
      if (!parsed) {
        error = "cannot read it from " + parsed.error->str();
        return std::nullopt;
      }
      docs_.push_back({std::move(parsed.value), uri});
    }
    auto doc = docs_.size() - 1;
    if (!index(doc, error))
      return std::nullopt;
    return doc;
  }

  std::optional<std::string> file_for(const std::string& uri,
                                      std::string& error) {
    for (auto& dir : options_.ref_dirs) {
      if (dir.uri.empty() || uri.rfind(dir.uri, 0) != 0)
        continue;
      auto rest = uri.substr(dir.uri.size());
      // Only plain relative paths below the directory: no "..", no
      // absolute path, no query, escapes or odd bytes.
      bool plain = !rest.empty() && rest.front() != '/';
      for (auto c : rest)
        plain = plain
                && (std::isalnum(static_cast<unsigned char>(c)) || c == '/'
                    || c == '-' || c == '_' || c == '.');
      if (!plain || ("/" + rest + "/").find("/../") != std::string::npos
          || ("/" + rest + "/").find("/./") != std::string::npos) {
        error = "\"" + rest + "\" is not a plain file path under "
                + dir.uri;
        return std::nullopt;
      }
      return dir.directory + "/" + rest;
    }
    error = "it refers to " + uri
            + ": remote references are not fetched (only the embedded "
              "draft 7 meta-schema and configured reference directories "
              "are read)";
    return std::nullopt;
  }

  // In place: the structure stays (only $ref strings change and $id
  // members go), so pointers into the document stay valid meanwhile.
  bool rewrite(std::size_t doc, std::string& error) {
    auto uri = docs_[doc].uri;
    return scan(docs_[doc].content, uri, {doc, pointer{}}, true, error);
  }

  using node_key = std::pair<std::size_t, std::string>;

  static node_key key_of(const location& loc) {
    return {loc.doc, loc.at.to_string()};
  }

  // Keywords that apply a subschema to the same value: a chain of them
  // (through $refs) does not descend into the value, so a cycle of them
  // never ends.
  void note_applicators(const json& node, const location& here) {
    auto& next = same_value_[key_of(here)];
    for (auto& [key, value] : node.items()) {
      auto at = here.at / key;
      if (key == "allOf" || key == "anyOf" || key == "oneOf") {
        if (value.is_array())
          for (std::size_t i = 0; i < value.size(); ++i)
            next.push_back(key_of({here.doc, at / i}));
      } else if (key == "not" || key == "if" || key == "then"
                 || key == "else") {
        next.push_back(key_of({here.doc, at}));
      } else if (key == "dependencies" && value.is_object()) {
        for (auto& [name, sub] : value.items())
          if (!sub.is_array())
            next.push_back(key_of({here.doc, at / name}));
      }
    }
  }

  // valijson follows $refs and applicators without a limit: a cycle of them
  // at one value recurses until the stack ends, and a long chain nearly so.
  // Refused here, once, rather than at every validation.
  bool check_same_value_chains(std::string& error) {
    std::map<node_key, std::size_t> depth; // longest chain below, when done
    std::set<node_key> active;
    auto too_deep = [&](const node_key& at) {
      error = "subschemas apply to the same value more than "
              + std::to_string(max_chain)
              + " levels deep (through $ref and applicators) at "
              + describe({at.first, pointer{at.second}});
      return false;
    };
    std::function<bool(const node_key&)> visit;
    visit = [&](const node_key& at) -> bool {
      if (depth.count(at) > 0)
        return true;
      if (!active.insert(at).second) {
        error = "the subschema at "
                + describe({at.first, pointer{at.second}})
                + " applies itself to the same value again (a cycle of "
                  "$ref, allOf, anyOf, oneOf, not, if/then/else or "
                  "dependencies): validation would never end";
        return false;
      }
      if (active.size() > max_chain)
        return too_deep(at);
      std::size_t longest = 0;
      if (auto i = same_value_.find(at); i != same_value_.end()) {
        for (auto& next : i->second) {
          if (!visit(next))
            return false;
          longest = std::max(longest, depth[next] + 1);
        }
      }
      if (longest > max_chain)
        return too_deep(at);
      active.erase(at);
      depth[at] = longest;
      return true;
    };
    for (auto& entry : same_value_)
      if (!visit(entry.first))
        return false;
    return true;
  }

  const schema_options& options_;
  std::deque<document> docs_; // a deque: scan() holds references into it
  std::map<std::string, location> ids_;
  /// Per schema node, the subschemas it applies to the same value.
  std::map<node_key, std::vector<node_key>> same_value_;
};

} // namespace

std::string resolve_uri(const std::string& base, const std::string& ref) {
  auto r = split_uri(ref);
  auto b = split_uri(base);
  uri_parts t;
  if (!r.scheme.empty()) {
    t = r;
    t.path = remove_dot_segments(r.path);
  } else {
    t.scheme = b.scheme;
    if (r.authority) {
      t.authority = r.authority;
      t.path = remove_dot_segments(r.path);
      t.query = r.query;
    } else {
      t.authority = b.authority;
      if (r.path.empty()) {
        t.path = b.path;
        t.query = r.query ? r.query : b.query;
      } else {
        if (r.path.front() == '/') {
          t.path = remove_dot_segments(r.path);
        } else {
          std::string merged;
          if (b.authority && b.path.empty())
            merged = "/" + r.path;
          else
            merged = b.path.substr(0, b.path.rfind('/') + 1) + r.path;
          t.path = remove_dot_segments(merged);
        }
        t.query = r.query;
      }
    }
  }
  t.fragment = r.fragment;
  return join_uri(t);
}

bool bundle_refs(const json& root, const schema_options& options,
                 json& result, std::string& error) {
  try {
    return bundler{options}.run(root, result, error);
  } catch (const std::exception& e) {
    error = std::string{"cannot resolve references: "} + e.what();
    return false;
  }
}

} // namespace cfgactors::detail

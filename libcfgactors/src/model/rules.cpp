// Per-path validation rules: wildcard expansion over the candidate tree and
// the built-in checks (one_of, range, pattern, type, required).
#include "cfgactors/rules.hpp"

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <memory>
#include <regex>
#include <stdexcept>
#include <utility>

#include "cfgactors/layer.hpp"
#include "cfgactors/path.hpp"
#include "model/wildcard.hpp"

namespace cfgactors {

namespace {

using detail::is_wildcard;
using detail::wildcard;

// Values end up in error messages and logs; a whole subtree there would
// drown the actual problem.
constexpr std::size_t max_rendered_value = 64;

std::string render(const json& value) {
  auto text = value.dump();
  if (text.size() > max_rendered_value) {
    text.resize(max_rendered_value);
    text += "...";
  }
  return text;
}

// Bounds come in as doubles; `between 100 and 100000` reads better than
// `between 100.0 and 100000.0`.
std::string render_number(double x) {
  if (std::isfinite(x) && std::floor(x) == x && std::fabs(x) < 1e15)
    return std::to_string(static_cast<std::int64_t>(x));
  return json(x).dump();
}

const char* type_of(const json& value) {
  switch (value.type()) {
    case json::value_t::object:
      return "object";
    case json::value_t::array:
      return "array";
    case json::value_t::string:
      return "string";
    case json::value_t::boolean:
      return "boolean";
    case json::value_t::number_integer:
    case json::value_t::number_unsigned:
      return "integer";
    case json::value_t::number_float:
      return "number";
    case json::value_t::null:
      return "null";
    default:
      return "unknown";
  }
}

// As in JSON Schema (draft 6 and later), 3.0 is an integer: YAML and JSON
// writers do not always preserve the distinction.
bool is_integer(const json& value) {
  if (value.is_number_integer())
    return true;
  if (!value.is_number_float())
    return false;
  auto x = value.get<double>();
  return std::isfinite(x) && std::floor(x) == x;
}

bool has_type(const json& value, const std::string& type_name) {
  if (type_name == "object")
    return value.is_object();
  if (type_name == "array")
    return value.is_array();
  if (type_name == "string")
    return value.is_string();
  if (type_name == "number")
    return value.is_number();
  if (type_name == "integer")
    return is_integer(value);
  if (type_name == "boolean")
    return value.is_boolean();
  return value.is_null(); // "null"; the name was checked at registration
}

bool known_type(const std::string& type_name) {
  for (auto name : {"object", "array", "string", "number", "integer",
                    "boolean", "null"})
    if (type_name == name)
      return true;
  return false;
}

// Throws at registration: a malformed rule path is a programming error that
// should stop the service at startup, not silently never match.
config_path parse_rule_path(const std::string& path) {
  std::string error;
  auto parsed = config_path::parse(path, &error);
  if (!parsed)
    throw std::invalid_argument("invalid rule path \"" + path + "\": " + error);
  return std::move(*parsed);
}

// Walks `pattern` from segment `pos` below `node`, which sits at the concrete
// path `at`. Calls `on_value(path, value)` for every match and
// `on_missing(path)` for a concrete step that does not exist (a wildcard over
// nothing matches nothing, so it never reports anything missing).
template <class OnValue, class OnMissing>
void expand(const json& node, config_path& at,
            const std::vector<path_segment>& pattern, std::size_t pos,
            OnValue& on_value, OnMissing& on_missing) {
  if (pos == pattern.size()) {
    on_value(at, node);
    return;
  }
  if (is_wildcard(pattern[pos])) {
    if (node.is_object()) {
      for (auto& [key, child] : node.items()) {
        at.segments.emplace_back(key);
        expand(child, at, pattern, pos + 1, on_value, on_missing);
        at.segments.pop_back();
      }
    } else if (node.is_array()) {
      for (std::size_t i = 0; i < node.size(); ++i) {
        at.segments.emplace_back(i);
        expand(node[i], at, pattern, pos + 1, on_value, on_missing);
        at.segments.pop_back();
      }
    }
    return;
  }
  // Resolve the whole run of concrete segments up to the next wildcard in one
  // lookup.
  auto end = pos;
  while (end < pattern.size() && !is_wildcard(pattern[end]))
    ++end;
  config_path step;
  step.segments.assign(pattern.begin() + pos, pattern.begin() + end);
  auto mark = at.segments.size();
  at.segments.insert(at.segments.end(), step.segments.begin(),
                     step.segments.end());
  if (auto child = find(node, step)) {
    expand(*child, at, pattern, end, on_value, on_missing);
  } else if (end == pattern.size()) {
    on_missing(at);
  }
  at.segments.resize(mark);
}

} // namespace

rule_set& rule_set::one_of(std::string path, std::vector<json> allowed) {
  parse_rule_path(path);
  auto expected = json(allowed).dump();
  rules_.push_back(
    {std::move(path), "one_of", false,
     [allowed = std::move(allowed),
      expected = std::move(expected)](const json& value)
       -> std::optional<std::string> {
       for (auto& candidate : allowed)
         if (candidate == value)
           return std::nullopt;
       return "must be one of " + expected + ", got " + render(value);
     }});
  return *this;
}

rule_set& rule_set::range(std::string path, double min, double max) {
  parse_rule_path(path);
  if (!(min <= max))
    throw std::invalid_argument("invalid range on \"" + path
                                + "\": min must not exceed max");
  auto bounds = render_number(min) + " and " + render_number(max);
  rules_.push_back(
    {std::move(path), "range", false,
     [min, max, bounds = std::move(bounds)](const json& value)
       -> std::optional<std::string> {
       if (!value.is_number())
         return "must be a number between " + bounds + ", got "
                + render(value);
       auto x = value.get<double>();
       if (x >= min && x <= max)
         return std::nullopt;
       return "must be between " + bounds + ", got " + render(value);
     }});
  return *this;
}

rule_set& rule_set::pattern(std::string path, const std::string& regex) {
  parse_rule_path(path);
  // Compiled once here; std::regex is safe to match from many threads.
  std::shared_ptr<const std::regex> compiled;
  try {
    compiled = std::make_shared<const std::regex>(regex,
                                                  std::regex::ECMAScript);
  } catch (const std::regex_error& e) {
    throw std::invalid_argument("invalid regex /" + regex + "/ for \"" + path
                                + "\": " + e.what());
  }
  rules_.push_back(
    {std::move(path), "pattern", false,
     [compiled = std::move(compiled),
      shown = "/" + regex + "/"](const json& value)
       -> std::optional<std::string> {
       if (!value.is_string())
         return "must be a string matching " + shown + ", got "
                + render(value);
       if (std::regex_match(value.get_ref<const std::string&>(), *compiled))
         return std::nullopt;
       return "must match " + shown + ", got " + render(value);
     }});
  return *this;
}

rule_set& rule_set::type(std::string path, std::string type_name) {
  parse_rule_path(path);
  if (!known_type(type_name))
    throw std::invalid_argument("unknown type \"" + type_name + "\" for \""
                                + path + "\"");
  rules_.push_back({std::move(path), "type", false,
                    [type_name = std::move(type_name)](const json& value)
                      -> std::optional<std::string> {
                      if (has_type(value, type_name))
                        return std::nullopt;
                      std::string actual = type_of(value);
                      if (!value.is_object() && !value.is_array())
                        actual += " " + render(value);
                      return "must be of type " + type_name + ", got "
                             + actual;
                    }});
  return *this;
}

rule_set& rule_set::required(std::string path) {
  parse_rule_path(path);
  rules_.push_back({std::move(path), "required", true,
                    [](const json&) -> std::optional<std::string> {
                      return std::nullopt;
                    }});
  return *this;
}

rule_set& rule_set::predicate(std::string path, std::string name,
                              predicate_fn fn) {
  parse_rule_path(path);
  if (!fn)
    throw std::invalid_argument("predicate \"" + name + "\" on \"" + path
                                + "\" has no function");
  rules_.push_back({std::move(path), std::move(name), false, std::move(fn)});
  return *this;
}

rule_set& rule_set::tree_check(std::string name, tree_check_fn fn) {
  if (!fn)
    throw std::invalid_argument("tree check \"" + name + "\" has no function");
  tree_checks_.emplace_back(std::move(name), std::move(fn));
  return *this;
}

namespace {

/// Runs `fn` (user code) and turns what it throws into an error of `name`
/// at `at`; errors it appended before throwing stay: real findings.
template <class Fn>
void guarded(const std::string& at, const std::string& name,
             validation_errors& out, Fn fn) {
  try {
    fn();
  } catch (const std::exception& e) {
    out.push_back({at, name,
                   std::string{"check failed with an exception: "}
                     + e.what()});
  } catch (...) {
    out.push_back({at, name, "check failed with an unknown exception"});
  }
}

/// Whether a change at `changed` may change what `pattern` matches: one is
/// a prefix of the other, a wildcard matching any segment.
bool touches(const std::vector<path_segment>& pattern,
             const config_path& changed) {
  auto n = std::min(pattern.size(), changed.segments.size());
  for (std::size_t i = 0; i < n; ++i)
    if (!is_wildcard(pattern[i]) && pattern[i] != changed.segments[i])
      return false;
  return true;
}

} // namespace

void rule_set::check(const json& candidate, validation_errors& out) const {
  for (auto& r : rules_) {
    // Paths were validated at registration; re-parsing here keeps the stored
    // rule a plain string.
    if (auto pattern = config_path::parse(r.path))
      check_rule(r, pattern->segments, candidate, {}, out);
  }
  for (auto& x : subtree_checks_)
    if (auto path = config_path::parse(x.path))
      guarded(x.path, x.name, out,
              [&] { x.fn(cfgactors::find(candidate, *path), out); });
  // Not a structured binding: C++17 lambdas cannot capture one (clang).
  for (auto& check : tree_checks_)
    guarded("", check.first, out, [&] { check.second(candidate, out); });
}

void rule_set::check(const layer_data& candidate,
                     const std::vector<std::string>* changed,
                     validation_errors& out) const {
  std::vector<config_path> paths;
  if (changed != nullptr) {
    paths.reserve(changed->size());
    for (auto& text : *changed) {
      auto path = config_path::parse(text);
      if (!path) {
        paths.clear();
        changed = nullptr; // not a path we wrote: check everything
        break;
      }
      paths.push_back(std::move(*path));
    }
  }
  auto due = [&](const std::vector<path_segment>& pattern) {
    return changed == nullptr
           || std::any_of(paths.begin(), paths.end(),
                          [&](const config_path& c) {
                            return touches(pattern, c);
                          });
  };
  for (auto& r : rules_) {
    auto pattern = config_path::parse(r.path);
    if (!pattern)
      continue;
    auto& segs = pattern->segments;
    // Where to check: below the first wildcard without changed paths;
    // with them, each change's own matches only (a wildcard bound to the
    // change's key there), the rest of the pattern expanded below. The
    // matches no change touches passed before.
    std::vector<config_path> starts;
    auto extend = [&](config_path at) {
      while (at.segments.size() < segs.size()
             && !is_wildcard(segs[at.segments.size()]))
        at.segments.push_back(segs[at.segments.size()]);
      for (auto& x : starts)
        if (x.segments == at.segments)
          return;
      starts.push_back(std::move(at));
    };
    if (changed == nullptr) {
      extend({});
    } else {
      for (auto& c : paths) {
        if (!touches(segs, c))
          continue;
        config_path at;
        auto n = std::min(segs.size(), c.segments.size());
        at.segments.assign(c.segments.begin(), c.segments.begin() + n);
        extend(std::move(at));
      }
    }
    for (auto& at : starts) {
      auto value = candidate.find(at);
      if (value == nullptr) {
        if (r.must_exist && at.segments.size() == segs.size())
          out.push_back({at.str(), r.name, "is required but missing"});
        continue;
      }
      check_rule(r, segs, *value, at, out);
    }
  }
  for (auto& x : subtree_checks_) {
    auto path = config_path::parse(x.path);
    if (path && due(path->segments))
      guarded(x.path, x.name, out, [&] { x.fn(candidate.find(*path), out); });
  }
  for (auto& check : tree_checks_)
    guarded("", check.first, out, [&] { check.second(*candidate, out); });
}

void rule_set::check_rule(const rule& r,
                          const std::vector<path_segment>& pattern,
                          const json& node, config_path at,
                          validation_errors& out) const {
  auto on_value = [&](const config_path& where, const json& value) {
    std::optional<std::string> message;
    // A rule is user code and must not take the validator down with it.
    try {
      message = r.fn(value);
    } catch (const std::exception& e) {
      message = std::string{"check failed with an exception: "} + e.what();
    } catch (...) {
      message = "check failed with an unknown exception";
    }
    if (message)
      out.push_back({where.str(), r.name, std::move(*message)});
  };
  auto on_missing = [&](const config_path& where) {
    if (r.must_exist)
      out.push_back({where.str(), r.name, "is required but missing"});
  };
  auto pos = at.segments.size();
  expand(node, at, pattern, pos, on_value, on_missing);
}

rule_set& rule_set::subtree_check(std::string path, std::string name,
                                  subtree_check_fn fn) {
  parse_rule_path(path);
  if (!fn)
    throw std::invalid_argument("subtree check \"" + name + "\" on \""
                                + path + "\" has no function");
  subtree_checks_.push_back({std::move(path), std::move(name), std::move(fn)});
  return *this;
}

} // namespace cfgactors

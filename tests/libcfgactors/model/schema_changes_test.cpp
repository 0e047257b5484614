// The incremental schema proof (schema_validity.hpp): for a candidate that
// equals a valid tree except at and below its changed paths, proving the
// changes only must give the verdict of the full pass, for every keyword
// above, below and on the changed paths.
#define CAF_SUITE schema_changes
#include "cfgactors_test.hpp"

#include <iterator>
#include <memory>
#include <random>
#include <string>
#include <vector>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validator.hpp>

#include "cfgactors/diff.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/schema.hpp"
#include "model/config_tree.hpp"
#include "model/hash_tree.hpp"
#include "model/schema_validity.hpp"

namespace schema_changes_suite {

using namespace cfgactors;

namespace {

using adapter = valijson::adapters::NlohmannJsonAdapter;

// Schemas that use every keyword the proof treats apart: descended
// (properties, patternProperties, additionalProperties, allOf, $ref,
// propertyNames), checked on an ancestor (type, required, min/maxProperties,
// dependencies) and not local (anyOf, oneOf, not, if/then/else, enum, const,
// contains, uniqueItems, schema dependencies). Each with a valid document to
// start from.
struct schema_case {
  const char* name;
  const char* schema;
  const char* start;
};

const schema_case cases[] = {
  {"properties",
   R"({"type": "object", "required": ["name", "db"],
       "additionalProperties": false,
       "properties": {
         "name": {"type": "string", "minLength": 1, "maxLength": 8},
         "port": {"type": "integer", "minimum": 1, "maximum": 9999},
         "db": {"type": "object", "required": ["host"],
                "minProperties": 1, "maxProperties": 4,
                "properties": {
                  "host": {"type": "string", "pattern": "^[a-z]+$"},
                  "pool": {"type": "integer", "exclusiveMinimum": 0},
                  "mode": {"enum": ["ro", "rw"]}},
                "additionalProperties": {"type": "boolean"}},
         "tags": {"type": "array", "items": {"type": "string"},
                  "uniqueItems": true, "maxItems": 3},
         "flags": {"type": "object",
                   "propertyNames": {"pattern": "^[a-z]{1,4}$"},
                   "additionalProperties": {"type": "boolean"}}}})",
   R"({"name": "a", "port": 5, "db": {"host": "x", "pool": 2, "mode": "ro"},
       "tags": ["a"], "flags": {"a": true}})"},
  {"patterns",
   R"({"type": "object",
       "patternProperties": {"^x-": {"type": "string"},
                             "^n[0-9]$": {"type": "integer"}},
       "additionalProperties": {
         "type": "object", "properties": {"a": {"type": "integer"}},
         "dependencies": {"a": ["b"], "c": {"required": ["d"]}}},
       "dependencies": {"x-a": ["n1"]}})",
   R"({"x-a": "s", "n1": 1, "zz": {"a": 1, "b": true, "k": {"v": 1}},
       "b": {"c": 1, "d": 2}})"},
  {"combinators",
   R"({"type": "object",
       "allOf": [
         {"properties": {"svc": {"type": "object", "required": ["port"]}}},
         {"properties": {"svc": {"properties": {
            "port": {"type": "integer", "maximum": 100},
            "k": {"type": "object", "minProperties": 1}}}}}],
       "anyOf": [{"required": ["a"]}, {"required": ["b"]}],
       "oneOf": [{"properties": {"mode": {"const": "x"}},
                  "required": ["mode"]},
                 {"not": {"required": ["mode"]}}],
       "properties": {"a": {"type": "object"}, "b": {"type": "object"},
                      "deep": {"type": "object",
                               "properties": {"inner": {
                                 "anyOf": [{"type": "integer"},
                                           {"type": "object",
                                            "required": ["v"]}]}}}}})",
   R"({"svc": {"port": 1, "k": {"v": 1}}, "a": {"x": 1},
       "deep": {"inner": {"v": 1, "k": {}}}})"},
  {"refs_and_conditions",
   R"({"definitions": {
         "node": {"type": "object", "required": ["value"],
                  "properties": {
                    "value": {"type": "integer"},
                    "children": {"type": "object",
                                 "additionalProperties": {
                                   "$ref": "#/definitions/node"}}}}},
       "type": "object",
       "properties": {
         "tree": {"$ref": "#/definitions/node"},
         "cfg": {"type": "object",
                 "if": {"properties": {"kind": {"const": "a"}},
                        "required": ["kind"]},
                 "then": {"required": ["alpha"]},
                 "else": {"properties": {"alpha": false}}}}})",
   R"({"tree": {"value": 1, "children": {"x": {"value": 2,
         "children": {"y": {"value": 3}}}}},
       "cfg": {"kind": "a", "alpha": {"v": 1}}})"},
  {"values_on_ancestors",
   R"({"type": "object",
       "properties": {
         "fixed": {"enum": [{"a": 1, "b": {"c": 2}}, {"a": 2}]},
         "pinned": {"const": {"k": {"v": true}}},
         "list": {"type": "array", "contains": {"type": "integer"},
                  "items": [{"type": "string"}],
                  "additionalItems": {"type": ["integer", "string"]}},
         "deep": {"type": "object",
                  "properties": {"inner": {"not": {"type": "object",
                                                   "required": ["bad"]}}},
                  "additionalProperties": {"not": {"type": "null"}}}}})",
   R"({"fixed": {"a": 1, "b": {"c": 2}}, "pinned": {"k": {"v": true}},
       "list": ["a", 1], "deep": {"inner": {"k": 1}, "x": {"y": 1}}})"},
  {"booleans_and_recursion",
   R"({"type": "object", "maxProperties": 5,
       "propertyNames": {"maxLength": 6},
       "properties": {"off": false, "on": true,
                      "r": {"$ref": "#/definitions/r"}},
       "definitions": {"r": {"type": "object", "additionalProperties": false,
                             "properties": {"x": {"type": "integer"},
                                            "y": {"$ref": "#/definitions/r"}}}}})",
   R"({"on": {"a": 1}, "r": {"x": 1, "y": {"x": 2, "y": {}}}})"},
};

// Keys no schema here names (or only as a pattern would match them).
const char* const foreign_keys[] = {"zz", "x-b", "n2", "abcdefgh", "UP", "k",
                                    "v"};

// The names a schema gives properties, requires or makes dependencies of:
// the keys a change should use to meet its keywords often.
void collect_keys(const json& schema, std::vector<std::string>& out) {
  if (schema.is_array()) {
    for (auto& x : schema)
      collect_keys(x, out);
    return;
  }
  if (!schema.is_object())
    return;
  for (auto& [keyword, value] : schema.items()) {
    if ((keyword == "properties" || keyword == "dependencies")
        && value.is_object())
      for (auto& [name, sub] : value.items())
        out.push_back(name);
    if (keyword == "required" && value.is_array())
      for (auto& name : value)
        if (name.is_string())
          out.push_back(name.get<std::string>());
    collect_keys(value, out);
  }
}

struct compiled {
  valijson::Schema schema;
};

std::unique_ptr<compiled> compile_valijson(const json& document) {
  auto result = std::make_unique<compiled>();
  valijson::SchemaParser parser{valijson::SchemaParser::kDraft7};
  parser.populateSchema(adapter{document}, result->schema);
  return result;
}

bool full_verdict(const valijson::Schema& schema, const json& document) {
  valijson::Validator validator;
  return validator.validate(schema, adapter{document}, nullptr);
}

class generator {
public:
  explicit generator(unsigned seed) : rng_(seed) {
    // nop
  }

  std::size_t below(std::size_t n) {
    return std::uniform_int_distribution<std::size_t>{0, n - 1}(rng_);
  }

  bool chance(int percent) {
    return static_cast<int>(below(100)) < percent;
  }

  /// Draws keys from what `schema` names and a few it does not.
  void use_keys_of(const json& schema) {
    keys_.assign(std::begin(foreign_keys), std::end(foreign_keys));
    collect_keys(schema, keys_);
  }

  std::string key() {
    return keys_[below(keys_.size())];
  }

  json value(int depth = 2) {
    switch (below(depth > 0 ? 16 : 13)) {
      case 0: return 0;
      case 1: return 1;
      case 2: return 150;
      case 3: return -1;
      case 4: return 1.5;
      case 5: return "a";
      case 6: return below(2) == 0 ? "ro" : "x";
      case 7: return "ABC";
      case 8: return "";
      case 9: return true;
      case 10: return nullptr;
      case 11: return below(2) == 0 ? "abcdefghij" : "s";
      case 12: return false;
      case 13:
      case 14: {
        auto x = json::object();
        for (auto n = below(4); n > 0; --n)
          x[key()] = value(depth - 1);
        return x;
      }
      default: {
        auto x = json::array();
        for (auto n = below(4); n > 0; --n)
          x.push_back(value(depth - 1));
        return x;
      }
    }
  }

  /// Paths of every node of `x` reached through objects (arrays count
  /// whole, as in changed_paths).
  void nodes(const json& x, config_path& at, std::vector<config_path>& out) {
    out.push_back(at);
    if (!x.is_object())
      return;
    for (auto& [k, v] : x.items()) {
      at.segments.emplace_back(k);
      nodes(v, at, out);
      at.segments.pop_back();
    }
  }

  /// `x` with one to three random changes: a key added, set or removed, a
  /// node replaced (its type may change), an array item added or changed.
  json mutate(json x) {
    for (auto n = 1 + below(3); n > 0; --n) {
      std::vector<config_path> all;
      config_path root;
      nodes(x, root, all);
      auto& at = all[below(all.size())];
      auto* node = find(x, at);
      switch (below(5)) {
        case 0: // add or overwrite a key
          if (node->is_object())
            (*node)[key()] = value();
          break;
        case 1: // remove a key
          if (node->is_object() && !node->empty()) {
            auto i = node->begin();
            std::advance(i, static_cast<std::ptrdiff_t>(below(node->size())));
            node->erase(i);
          }
          break;
        case 2: // replace the node
          if (!at.empty())
            *node = value();
          break;
        case 3: // an item of an array
          if (node->is_array()) {
            if (node->empty() || chance(50))
              node->push_back(value(1));
            else
              (*node)[below(node->size())] = value(1);
          }
          break;
        default: // a leaf below an object, set to a scalar
          if (node->is_object() && !node->empty()) {
            auto i = node->begin();
            std::advance(i, static_cast<std::ptrdiff_t>(below(node->size())));
            *i = value(0);
          }
      }
    }
    return x;
  }

  /// `paths`, some of them cut to a prefix: roots as a writer's layers may
  /// give them (a superset of what changed).
  std::vector<std::string> coarsen(const std::vector<std::string>& paths) {
    std::vector<std::string> out;
    for (auto& text : paths) {
      auto path = config_path::parse(text);
      if (path && chance(30)) {
        path->segments.resize(below(path->segments.size() + 1));
        out.push_back(path->str());
      } else {
        out.push_back(text);
      }
    }
    return out;
  }

private:
  std::mt19937 rng_;
  std::vector<std::string> keys_{std::begin(foreign_keys),
                                 std::end(foreign_keys)};
};

detail::path_trie trie_of(const std::vector<std::string>& roots) {
  detail::path_trie result;
  for (auto& text : roots)
    result.add(*config_path::parse(text));
  return result;
}

struct tally {
  int total = 0;
  int valid = 0;
  int mismatches = 0;
  int node_mismatches = 0; ///< the tree's verdict against json's
};

/// `base` as a persistent tree edited into `candidate` at `paths` (set
/// where the candidate has a value, else erased), as a writer builds it.
detail::config_tree edited_tree(const json& base, const json& candidate,
                                const std::vector<std::string>& paths) {
  detail::config_tree tree{base};
  for (auto& text : paths) {
    auto path = *config_path::parse(text);
    if (auto* x = find(candidate, path))
      CAF_REQUIRE(tree.assign(path, *x));
    else
      tree.erase(path);
  }
  CAF_REQUIRE_EQUAL(tree.to_json(), candidate);
  return tree;
}

/// A random walk over valid trees of `c`: each step changes the tree, proves
/// the change incrementally and in full, and moves on to the candidate if
/// it is valid (from the start again every 25 steps). The candidate as a
/// persistent tree gets the same incremental verdict.
tally walk(const schema_case& c, generator& gen, int steps) {
  tally result;
  auto document = json::parse(c.schema);
  auto schema = compile_valijson(document);
  gen.use_keys_of(document);
  auto start = json::parse(c.start);
  CAF_REQUIRE(full_verdict(schema->schema, start));
  auto base = start;
  detail::validity_check check;
  for (int i = 0; i < steps; ++i) {
    // Back to the start now and then: a walk drifts towards trees with
    // little left that a keyword constrains.
    if (i % 25 == 0)
      base = start;
    auto candidate = gen.mutate(base);
    auto roots = gen.coarsen(changed_paths(base, candidate));
    auto full = full_verdict(schema->schema, candidate);
    auto changes = check.proves_valid(schema->schema, candidate,
                                      trie_of(roots));
    auto tree = edited_tree(base, candidate, roots);
    auto by_node = check.proves_valid(schema->schema, tree.root(),
                                      trie_of(roots));
    if (by_node != changes) {
      ++result.node_mismatches;
      CAF_MESSAGE(c.name << ": json " << changes << ", tree " << by_node
                         << "\n  base " << base.dump() << "\n  candidate "
                         << candidate.dump());
    }
    ++result.total;
    if (full)
      ++result.valid;
    if (full != changes) {
      ++result.mismatches;
      CAF_MESSAGE(c.name << ": full " << full << ", incremental " << changes
                         << "\n  base " << base.dump() << "\n  candidate "
                         << candidate.dump());
    }
    if (full)
      base = std::move(candidate);
  }
  return result;
}

/// The incremental verdict of `candidate` against `schema`, after a check
/// that `base` is valid and the full verdict agrees.
bool verdict(const char* schema, const char* base, const char* candidate) {
  auto compiled = compile_valijson(json::parse(schema));
  auto x = json::parse(base);
  auto y = json::parse(candidate);
  CAF_REQUIRE(full_verdict(compiled->schema, x));
  detail::validity_check check;
  auto paths = changed_paths(x, y);
  auto changes = check.proves_valid(compiled->schema, y, trie_of(paths));
  CAF_CHECK_EQUAL(changes, full_verdict(compiled->schema, y));
  auto tree = edited_tree(x, y, paths);
  CAF_CHECK_EQUAL(check.proves_valid(compiled->schema, tree.root(),
                                     trie_of(paths)),
                  changes);
  return changes;
}

} // namespace

CAF_TEST(random changes get the verdict of the full pass) {
  generator gen{20261206};
  int total = 0;
  int mismatches = 0;
  for (auto& c : cases) {
    auto t = walk(c, gen, 1500);
    CAF_MESSAGE(c.name << ": " << t.total << " changes, " << t.valid
                       << " valid, " << t.mismatches << " mismatches");
    // Both verdicts occur often enough to mean something.
    CAF_CHECK_GREATER(t.valid, 100);
    CAF_CHECK_GREATER(t.total - t.valid, 100);
    total += t.total;
    mismatches += t.mismatches;
    CAF_CHECK_EQUAL(t.node_mismatches, 0);
  }
  CAF_MESSAGE(mismatches << " mismatches in " << total << " changes");
  CAF_CHECK_EQUAL(mismatches, 0);
}

CAF_TEST(an ancestor keeps its own keywords) {
  auto s = cases[0].schema;
  auto base = R"({"name": "a", "db": {"host": "x"}})";
  // required, on the root and on db
  CAF_CHECK(!verdict(s, base, R"({"name": "a", "db": {"pool": 1}})"));
  CAF_CHECK(!verdict(s, base, R"({"db": {"host": "x"}})"));
  // additionalProperties false, with a new key
  CAF_CHECK(!verdict(s, base, R"({"name": "a", "db": {"host": "x"},
                                  "extra": 1})"));
  // maxProperties on db, additionalProperties with a schema
  CAF_CHECK(!verdict(s, base, R"({"name": "a", "db": {"host": "x",
                                  "b": true, "c": true, "d": true,
                                  "e": true}})"));
  CAF_CHECK(!verdict(s, base, R"({"name": "a", "db": {"host": "x",
                                  "b": 1}})"));
  CAF_CHECK(verdict(s, base, R"({"name": "a", "db": {"host": "x",
                                 "b": true}})"));
  // propertyNames for a new key
  CAF_CHECK(!verdict(s, R"({"name": "a", "db": {"host": "x"}, "flags": {}})",
                     R"({"name": "a", "db": {"host": "x"},
                         "flags": {"TOOLONG": true}})"));
  // a type changed on the way to a change
  CAF_CHECK(!verdict(s, base, R"({"name": "a", "db": 5})"));
}

CAF_TEST(keywords that are not local are proved where they stand) {
  auto s = cases[2].schema;
  auto base = R"({"svc": {"port": 1}, "a": {}})";
  // anyOf above the change: the key that satisfied it is gone
  CAF_CHECK(!verdict(s, base, R"({"svc": {"port": 1}})"));
  // allOf: each branch, incrementally
  CAF_CHECK(!verdict(s, base, R"({"svc": {"port": 200}, "a": {}})"));
  CAF_CHECK(!verdict(s, base, R"({"svc": {"port": 1, "k": {}}, "a": {}})"));
  // oneOf: a mode of x passes the first branch only, any other mode none
  CAF_CHECK(verdict(s, base, R"({"svc": {"port": 1}, "a": {}, "mode": "x"})"));
  CAF_CHECK(!verdict(s, base, R"({"svc": {"port": 1}, "a": {}, "mode": 1})"));
  auto r = cases[3].schema;
  auto tree = R"({"tree": {"value": 1, "children": {"x": {"value": 2}}},
                  "cfg": {"kind": "b"}})";
  // $ref recursion, deep below
  CAF_CHECK(!verdict(r, tree, R"({"tree": {"value": 1, "children":
                                    {"x": {"value": "s"}}},
                                  "cfg": {"kind": "b"}})"));
  // if/then/else on the ancestor of the change
  CAF_CHECK(!verdict(r, tree, R"({"tree": {"value": 1, "children":
                                    {"x": {"value": 2}}},
                                  "cfg": {"kind": "a"}})"));
  CAF_CHECK(!verdict(r, tree, R"({"tree": {"value": 1, "children":
                                    {"x": {"value": 2}}},
                                  "cfg": {"kind": "b", "alpha": 1}})"));
  auto v = cases[4].schema;
  auto values = cases[4].start;
  // enum and const on an ancestor object
  CAF_CHECK(!verdict(v, values, R"({"fixed": {"a": 1, "b": {"c": 3}},
                                    "pinned": {"k": {"v": true}},
                                    "list": ["a", 1],
                                    "deep": {"inner": {"k": 1}, "x": {"y": 1}}})"));
  CAF_CHECK(!verdict(v, values, R"({"fixed": {"a": 1, "b": {"c": 2}},
                                    "pinned": {"k": {"v": false}},
                                    "list": ["a", 1],
                                    "deep": {"inner": {"k": 1}, "x": {"y": 1}}})"));
  // not, below the root
  CAF_CHECK(!verdict(v, values, R"({"fixed": {"a": 1, "b": {"c": 2}},
                                    "pinned": {"k": {"v": true}},
                                    "list": ["a", 1],
                                    "deep": {"inner": {"bad": 1},
                                             "x": {"y": 1}}})"));
  // contains, additionalItems
  CAF_CHECK(!verdict(v, values, R"({"fixed": {"a": 1, "b": {"c": 2}},
                                    "pinned": {"k": {"v": true}},
                                    "list": ["a", "b"],
                                    "deep": {"inner": {"k": 1}, "x": {"y": 1}}})"));
}

CAF_TEST(the schema gives the errors of the full pass for any change) {
  // Through json_schema (bundled references, the regex guard): the errors
  // of a refused candidate are exactly those of validate().
  generator gen{7};
  auto& c = cases[0];
  std::string error;
  auto schema = json_schema::compile(json::parse(c.schema), &error);
  CAF_REQUIRE(schema != nullptr);
  gen.use_keys_of(json::parse(c.schema));
  auto base = json::parse(c.start);
  int refused = 0;
  for (int i = 0; i < 500; ++i) {
    auto candidate = gen.mutate(base);
    // Now and then a string too long for the regex guard.
    if (auto db = candidate.find("db");
        db != candidate.end() && db->is_object() && gen.chance(10))
      (*db)["host"] = std::string(5000, 'a');
    auto roots = gen.coarsen(changed_paths(base, candidate));
    validation_errors full;
    schema->validate(candidate, full);
    validation_errors changes;
    schema->validate(candidate, roots, changes);
    std::vector<std::string> x;
    std::vector<std::string> y;
    for (auto& e : full)
      x.push_back(e.str());
    for (auto& e : changes)
      y.push_back(e.str());
    CAF_CHECK_EQUAL(x, y);
    if (full.empty())
      base = std::move(candidate);
    else
      ++refused;
  }
  CAF_CHECK_GREATER(refused, 50);
}

} // namespace schema_changes_suite

// JSON Schema (draft 7) through valijson: compiling a schema (from a
// document or a file) and validating candidates against it.
#include "cfgactors/schema.hpp"

#include <algorithm>
#include <cassert>
#include <memory>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/schema.hpp>
#include <valijson/schema_parser.hpp>
#include <valijson/validation_results.hpp>
#include <valijson/validator.hpp>

#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"
#include "cfgactors/layer.hpp"
#include "model/config_tree.hpp"
#include "model/hash_tree.hpp"
#include "model/schema_diagnosis.hpp"
#include "model/schema_errors.hpp"
#include "model/schema_guard.hpp"
#include "model/schema_normalize.hpp"
#include "model/schema_refs.hpp"
#include "model/schema_validity.hpp"

namespace cfgactors {

namespace {

using adapter = valijson::adapters::NlohmannJsonAdapter;

// Cheap pre-check for the guard (schema_guard.hpp): most candidates have no
// string, key or array long enough to need it.
bool needs_guard_for(const json& x) {
  if (x.is_string())
    return x.get_ref<const std::string&>().size()
           > detail::max_regex_subject;
  if (x.is_object()) {
    for (auto& [key, value] : x.items())
      if (key.size() > detail::max_regex_subject || needs_guard_for(value))
        return true;
  } else if (x.is_array()) {
    if (x.size() > detail::max_unique_items)
      return true;
    for (auto& value : x)
      if (needs_guard_for(value))
        return true;
  }
  return false;
}

// needs_guard_for, over what `changed` marks in `x` and the keys on the way
// there: the rest of `x` is as in a tree the guard passed.
bool changes_need_guard(const json& x, const detail::path_trie& changed) {
  if (changed.whole || !x.is_object())
    return needs_guard_for(x);
  for (auto& [key, below] : changed.children) {
    if (key.size() > detail::max_regex_subject)
      return true;
    if (auto i = x.find(key); i != x.end() && changes_need_guard(*i, below))
      return true;
  }
  return false;
}

// The same over a persistent tree: only the changed subtrees are made JSON.
bool changes_need_guard(const detail::config_node& x,
                        const detail::path_trie& changed) {
  if (changed.whole || !x.is_object())
    return needs_guard_for(detail::to_json(x));
  for (auto& [key, below] : changed.children) {
    if (key.size() > detail::max_regex_subject)
      return true;
    if (auto member = x.member(key);
        member != nullptr && changes_need_guard(*member, below))
      return true;
  }
  return false;
}

} // namespace

struct json_schema::impl {
  json document;
  /// `document` with its references resolved (schema_refs.hpp): what
  /// valijson compiles, and so what `schema` points into.
  json bundled;
  /// Whether `bundled` runs regexes or uniqueItems (schema_guard.hpp).
  bool guarded = false;
  /// Whether `bundled` has `x-normalize` rules (schema_normalize.hpp).
  bool normalizes = false;
  valijson::Schema schema;

  /// What one validate() call works with. A Validator caches compiled
  /// regexes, so neither part may be shared between concurrent calls, and
  /// compiling a regex per call dominated validation time: callers borrow
  /// one from this pool and give it back.
  struct checker {
    detail::validity_check fast;
    valijson::Validator full;
  };
  std::mutex pool_mtx;
  std::vector<std::unique_ptr<checker>> pool;

  std::unique_ptr<checker> borrow() {
    std::lock_guard<std::mutex> guard{pool_mtx};
    if (pool.empty())
      return std::make_unique<checker>();
    auto result = std::move(pool.back());
    pool.pop_back();
    return result;
  }

  void give_back(std::unique_ptr<checker> x) {
    std::lock_guard<std::mutex> guard{pool_mtx};
    pool.push_back(std::move(x));
  }

  /// Whether `document` (JSON or a persistent tree), equal to a tree this
  /// schema accepted except at and below `changed`, is proven valid along
  /// those paths; false when not proven (invalid, unparsable paths, a
  /// string the regex guard must see, a regex std::regex cannot run).
  /// `as_json` gives the JSON a Debug build checks a proof against.
  template <class Document, class AsJson>
  bool proves_along(const Document& document,
                    const std::vector<std::string>& changed,
                    [[maybe_unused]] AsJson as_json) {
    detail::path_trie trie;
    for (auto& text : changed) {
      auto path = config_path::parse(text);
      if (!path)
        return false;
      trie.add(*path);
    }
    // A string or key the regex guard would refuse: left to the full pass,
    // which refuses it with its path.
    if (guarded && changes_need_guard(document, trie))
      return false;
    try {
      auto x = borrow();
      auto proven = x->fast.proves_valid(schema, document, trie);
#ifndef NDEBUG
      // Debug builds (the test suites) hold the proof to its promise.
      if (proven) {
        valijson::ValidationResults results;
        x->full.validate(schema, adapter{as_json()}, &results);
        assert(results.numErrors() == 0);
      }
#endif
      give_back(std::move(x));
      return proven;
    } catch (const std::exception&) {
      return false; // e.g. a regex too complex for std::regex
    }
  }
};

json_schema::json_schema(std::unique_ptr<impl> ptr) : impl_(std::move(ptr)) {
  // nop
}

json_schema::~json_schema() {
  // nop
}

std::shared_ptr<const json_schema>
json_schema::compile(const json& document, std::string* error,
                     const schema_options& options) {
  auto set_error = [&](std::string text) {
    if (error != nullptr)
      *error = std::move(text);
    return nullptr;
  };
  try {
    auto ptr = std::make_unique<impl>();
    ptr->document = document;
    if (auto problem = detail::find_invalid_regex(ptr->document))
      return set_error(std::move(*problem));
    if (auto problem = detail::find_invalid_normalize(ptr->document))
      return set_error(std::move(*problem));
    std::string ref_error;
    if (!detail::bundle_refs(ptr->document, options, ptr->bundled,
                             ref_error))
      return set_error(detail::invalid_schema(std::nullopt, ref_error));
    try {
      // No fetch functions: every $ref is local by now, and one that is not
      // makes valijson throw rather than reach out to the network.
      valijson::SchemaParser parser{valijson::SchemaParser::kDraft7};
      parser.populateSchema(adapter{ptr->bundled}, ptr->schema);
    } catch (const std::exception& e) {
      return set_error(detail::explain_refusal(ptr->document, e.what()));
    }
    ptr->guarded = detail::needs_guard(ptr->bundled);
    ptr->normalizes = detail::uses_normalize(ptr->bundled);
    return std::shared_ptr<const json_schema>{new json_schema(std::move(ptr))};
  } catch (const std::exception& e) {
    return set_error(detail::invalid_schema(std::nullopt, e.what()));
  } catch (...) {
    return set_error(detail::invalid_schema(std::nullopt, "unknown error"));
  }
}

std::shared_ptr<const json_schema>
json_schema::from_file(const std::string& path, std::string* error,
                       const schema_options& options) {
  auto parsed = parse_file(path);
  if (!parsed) {
    if (error != nullptr)
      *error = parsed.error->str();
    return nullptr;
  }
  std::string compile_error;
  auto result = compile(parsed.value, &compile_error, options);
  if (!result && error != nullptr)
    *error = path + ": " + compile_error;
  return result;
}

void json_schema::validate(const json& candidate,
                           validation_errors& out) const {
  if (impl_->guarded && needs_guard_for(candidate)) {
    if (auto refused = detail::find_unmatchable_string(impl_->bundled,
                                                       candidate)) {
      out.push_back(std::move(*refused));
      return;
    }
  }
  valijson::ValidationResults results;
  try {
    auto checker = impl_->borrow();
    // Most candidates are valid: prove that without valijson's per-property
    // error contexts, and collect errors only for the others.
    auto proven = false;
    try {
      proven = checker->fast.proves_valid(impl_->schema, candidate);
    } catch (const std::exception&) {
      // e.g. a regex too complex for std::regex: the full pass reports it
    }
#ifndef NDEBUG
    // Debug builds (the test suites) hold the fast path to its promise.
    if (proven) {
      checker->full.validate(impl_->schema, adapter{candidate}, &results);
      assert(results.numErrors() == 0);
    }
#endif
    if (!proven)
      checker->full.validate(impl_->schema, adapter{candidate}, &results);
    impl_->give_back(std::move(checker));
    if (proven)
      return;
  } catch (const std::exception& e) {
    out.push_back({"", "schema",
                   std::string{"schema validation failed: "} + e.what()});
    return;
  }
  auto before = out.size();
  detail::translate_errors(results, candidate, impl_->bundled, out);
  // valijson fails a `false` root schema, and a key refused by
  // `propertyNames` directly under the root, without a word: the verdict
  // still stands.
  if (out.size() == before)
    out.push_back({"", impl_->schema.getAlwaysInvalid() ? "schema.false"
                                                        : "schema",
                   impl_->schema.getAlwaysInvalid()
                     ? "the schema is false: no value is allowed"
                     : "the value is refused by the schema (a "
                       "propertyNames or false subschema)"});
}

void json_schema::validate(const json& candidate,
                           const std::vector<std::string>& changed,
                           validation_errors& out) const {
  // The proof holds only for a candidate whose every change the paths name,
  // on top of a tree this schema accepted: the caller's word (the validator
  // keeps track of which tree passed). A candidate it does not prove valid
  // takes the full pass, which finds the errors.
  if (!impl_->proves_along(candidate, changed,
                           [&]() -> const json& { return candidate; }))
    validate(candidate, out);
}

void json_schema::validate(const layer_data& candidate,
                           const std::vector<std::string>& changed,
                           validation_errors& out) const {
  // On the tree: a version that shares all but its change with one this
  // schema accepted is proved along that change; its JSON is made only for
  // the full pass of one that is not proven (the Debug check of a proof
  // reads a copy the candidate does not keep).
  const auto& tree = candidate.tree();
  json copy;
  if (!impl_->proves_along(*tree, changed, [&]() -> const json& {
        copy = detail::to_json(*tree);
        return copy;
      }))
    validate(*candidate, out);
}

std::optional<json> json_schema::normalized(const json& candidate) const {
  if (!impl_->normalizes)
    return std::nullopt;
  return detail::normalize(impl_->bundled, candidate);
}

bool json_schema::normalizes() const noexcept {
  return impl_->normalizes;
}

const json& json_schema::document() const noexcept {
  return impl_->document;
}

} // namespace cfgactors

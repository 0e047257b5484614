// The fast path of schema validation. valijson's ValidationVisitor copies its
// error context (a vector of strings) for every property and array item it
// descends into, even when nobody collects errors; for a config of a hundred
// keys that is most of the validation time. This visitor walks the same
// compiled schema and mirrors valijson's checks for the common keywords,
// without contexts. Each visit() below follows the visit() of the same
// constraint in valijson/validation_visitor.hpp (strict types, as
// valijson::Validator uses by default).
#include "model/schema_validity.hpp"
#include "model/config_tree.hpp"

#include <algorithm>
#include <cstring>
#include <functional>
#include <string_view>

#include <valijson/adapters/nlohmann_json_adapter.hpp>
#include <valijson/adapters/std_string_adapter.hpp>
#include <valijson/constraints/concrete_constraints.hpp>
#include <valijson/constraints/constraint_visitor.hpp>
#include <valijson/subschema.hpp>
#include <valijson/utils/utf8_utils.hpp>
#include <valijson/validation_visitor.hpp>

namespace cfgactors::detail {

namespace {

using adapter = valijson::adapters::NlohmannJsonAdapter;
using valijson::Subschema;
using valijson::constraints::AllOfConstraint;
using valijson::constraints::Constraint;
using valijson::constraints::PropertiesConstraint;
using valijson::constraints::PropertyNamesConstraint;

// Schemas may refer to themselves ($ref, allOf). Documents nest at most a few
// hundred levels (parse and proposal limits), so nesting deeper than this is a
// reference cycle that does not descend: left to the full pass to decide.
constexpr int max_depth = 1024;

} // namespace

class validity_visitor final : public valijson::constraints::ConstraintVisitor {
public:
  validity_visitor(validity_check& state, const json& document)
    : state_(state), target_(&document) {
    // nop
  }

  validity_visitor(const validity_visitor&) = delete;
  validity_visitor& operator=(const validity_visitor&) = delete;

  /// Validates the current target against `schema`.
  bool check(const Subschema& schema) {
    if (schema.getAlwaysInvalid() || depth_ >= max_depth)
      return false;
    ++depth_;
    auto ok = schema.applyStrict(apply_);
    --depth_;
    return ok;
  }

  /// Validates `value` against `schema`: a full proof of its subtree.
  bool check_value(const json& value, const Subschema& schema) {
    return descend(value, schema);
  }

  /// Checks the one keyword `c` on `value` in full.
  bool check_keyword(const json& value, const Constraint& c) {
    auto parent = target_;
    target_ = &value;
    auto ok = c.accept(*this);
    target_ = parent;
    return ok;
  }

  bool visit(const AllOfConstraint& c) override {
    bool ok = true;
    c.applyToSubschemas([&](unsigned, const Subschema* sub) {
      ok = check(*sub);
      return ok;
    });
    return ok;
  }

  bool visit(const AnyOfConstraint& c) override {
    bool any = false;
    c.applyToSubschemas([&](unsigned, const Subschema* sub) {
      any = check(*sub);
      return !any;
    });
    return any;
  }

  bool visit(const ConditionalConstraint& c) override {
    return delegate(c);
  }

  bool visit(const ConstConstraint& c) override {
    return c.getValue()->equalTo(adapter{*target_}, true);
  }

  bool visit(const ContainsConstraint& c) override {
    return delegate(c);
  }

  bool visit(const DependenciesConstraint& c) override {
    return delegate(c);
  }

  bool visit(const EnumConstraint& c) override {
    bool any = false;
    adapter target{*target_};
    c.applyToValues([&](const valijson::adapters::FrozenValue& value) {
      any = value.equalTo(target, true);
      return !any;
    });
    return any;
  }

  bool visit(const FormatConstraint& c) override {
    return delegate(c);
  }

  bool visit(const LinearItemsConstraint& c) override {
    return delegate(c);
  }

  bool visit(const MaximumConstraint& c) override {
    adapter target{*target_};
    if (!target.isNumber() || !target.maybeDouble())
      return true;
    auto x = target.asDouble();
    auto maximum = c.getMaximum();
    return c.getExclusiveMaximum() ? !(x >= maximum) : !(x > maximum);
  }

  bool visit(const MaxItemsConstraint& c) override {
    if (!target_->is_array())
      return true;
    return target_->size() <= c.getMaxItems();
  }

  bool visit(const MaxLengthConstraint& c) override {
    if (!target_->is_string())
      return true;
    auto& text = target_->get_ref<const std::string&>();
    return valijson::utils::u8_strlen(text.c_str()) <= c.getMaxLength();
  }

  bool visit(const MaxPropertiesConstraint& c) override {
    if (!target_->is_object())
      return true;
    return target_->size() <= c.getMaxProperties();
  }

  bool visit(const MinimumConstraint& c) override {
    adapter target{*target_};
    if (!target.isNumber() || !target.maybeDouble())
      return true;
    auto x = target.asDouble();
    auto minimum = c.getMinimum();
    return c.getExclusiveMinimum() ? !(x <= minimum) : !(x < minimum);
  }

  bool visit(const MinItemsConstraint& c) override {
    if (!target_->is_array())
      return true;
    return target_->size() >= c.getMinItems();
  }

  bool visit(const MinLengthConstraint& c) override {
    if (!target_->is_string())
      return true;
    auto& text = target_->get_ref<const std::string&>();
    return valijson::utils::u8_strlen(text.c_str()) >= c.getMinLength();
  }

  bool visit(const MinPropertiesConstraint& c) override {
    if (!target_->is_object())
      return true;
    return target_->size() >= c.getMinProperties();
  }

  bool visit(const MultipleOfDoubleConstraint& c) override {
    return delegate(c);
  }

  bool visit(const MultipleOfIntConstraint& c) override {
    return delegate(c);
  }

  bool visit(const NotConstraint& c) override {
    return delegate(c);
  }

  bool visit(const OneOfConstraint& c) override {
    return delegate(c);
  }

  bool visit(const PatternConstraint& c) override {
    if (!target_->is_string())
      return true;
    auto pattern = c.getPattern<std::string::allocator_type>();
    auto i = state_.regexes_.find(pattern);
    if (i == state_.regexes_.end())
      i = state_.regexes_.emplace(pattern, std::regex(pattern)).first;
    return std::regex_search(target_->get_ref<const std::string&>(),
                             i->second);
  }

  bool visit(const PolyConstraint& c) override {
    return delegate(c);
  }

  bool visit(const PropertiesConstraint& c) override {
    if (!target_->is_object())
      return true;
    bool patterns = false;
    c.applyToPatternProperties([&](const auto&, const Subschema*) {
      patterns = true;
      return false;
    });
    if (patterns)
      return delegate(c);
    auto& object = *target_;
    auto& matched = state_.matched_;
    auto first = matched.size();
    bool ok = true;
    c.applyToProperties([&](const auto& name, const Subschema* sub) {
      // valijson looks names up by c_str(); a name with a NUL in it would
      // need its truncation rules, so leave such schemas to the full pass.
      if (std::strlen(name.c_str()) != name.size()) {
        ok = false;
        return false;
      }
      auto i = object.find(std::string_view{name.data(), name.size()});
      if (i == object.end())
        return true;
      matched.push_back(&*i);
      ok = descend(*i, *sub);
      return ok;
    });
    if (ok) {
      auto additional = c.getAdditionalPropertiesSubschema();
      auto begin = matched.begin() + static_cast<std::ptrdiff_t>(first);
      auto count = static_cast<std::size_t>(matched.end() - begin);
      if (additional == nullptr) {
        ok = count == object.size();
      } else {
        std::less<const json*> less;
        std::sort(begin, matched.end(), less);
        // descend() may grow `matched` (nested objects): index, not iterate.
        for (auto i = object.begin(); ok && i != object.end(); ++i) {
          auto b = matched.begin() + static_cast<std::ptrdiff_t>(first);
          if (!std::binary_search(b, b + static_cast<std::ptrdiff_t>(count),
                                  &*i, less))
            ok = descend(*i, *additional);
        }
      }
    }
    matched.resize(first);
    return ok;
  }

  bool visit(const PropertyNamesConstraint& c) override {
    return delegate(c);
  }

  bool visit(const RequiredConstraint& c) override {
    if (!target_->is_object())
      return true;
    bool ok = true;
    c.applyToRequiredProperties([&](const auto& name) {
      // Same lookup as valijson: by c_str().
      ok = target_->find(std::string_view{name.c_str()}) != target_->end();
      return ok;
    });
    return ok;
  }

  bool visit(const SingularItemsConstraint& c) override {
    if (!target_->is_array())
      return true;
    auto sub = c.getItemsSubschema();
    if (sub == nullptr)
      return true;
    for (auto& item : *target_)
      if (!descend(item, *sub))
        return false;
    return true;
  }

  bool visit(const TypeConstraint& c) override {
    using type = TypeConstraint;
    auto& x = *target_;
    bool ok = false;
    c.applyToNamedTypes([&](type::JsonType t) {
      switch (t) {
        case type::kAny:
          ok = true;
          break;
        case type::kArray:
          ok = x.is_array();
          break;
        case type::kBoolean:
          ok = x.is_boolean();
          break;
        case type::kInteger:
          ok = x.is_number_integer();
          break;
        case type::kNull:
          ok = x.is_null();
          break;
        case type::kNumber:
          ok = x.is_number();
          break;
        case type::kObject:
          ok = x.is_object();
          break;
        case type::kString:
          ok = x.is_string();
          break;
      }
      return !ok;
    });
    // Draft 3 schema types, if any, are valijson's business.
    return ok || delegate(c);
  }

  bool visit(const UniqueItemsConstraint& c) override {
    return delegate(c);
  }

private:
  /// Validates `child` of the current target against `schema`.
  bool descend(const json& child, const Subschema& schema) {
    auto parent = target_;
    target_ = &child;
    auto ok = check(schema);
    target_ = parent;
    return ok;
  }

  /// Lets valijson's own visitor decide a keyword not mirrored here. Without
  /// a results object it returns the same verdict as the full pass and
  /// builds contexts only below this keyword.
  bool delegate(const Constraint& c) {
    valijson::ValidationVisitor<adapter> visitor{adapter{*target_}, {}, true,
                                                 nullptr, state_.regexes_};
    return c.accept(visitor);
  }

  validity_check& state_;
  const json* target_;
  int depth_ = 0;
  Subschema::ApplyFunction apply_{
    [this](const Constraint& c) { return c.accept(*this); }};
};

bool validity_check::proves_valid(const valijson::Subschema& schema,
                                  const json& document) {
  matched_.clear();
  validity_visitor visitor{*this, document};
  return visitor.check(schema);
}

// The incremental proof. Its premise: the document equals a tree the schema
// accepts except at and below the changed paths. A node off those paths
// then has the value it had in that tree, at the same path, and so meets
// the same subschemas through `properties`, `patternProperties`,
// `additionalProperties` (which depend on its key only), `allOf` and `$ref`:
// it passed them there and passes them here. What is left to prove:
//
// - a changed subtree (a path's end, or an ancestor that is no longer an
//   object; arrays count whole): in full, as proves_valid does;
// - on each ancestor of a change, its own keywords, as its key set or its
//   children may differ:
//   - descended towards the changes only: `properties`,
//     `patternProperties`, `additionalProperties` (false included) and
//     `allOf` (each branch, incrementally); `propertyNames` is checked for
//     the keys on the changed paths only (the others were there before);
//   - checked at the ancestor in full, cheaply (O(1), or the size of the
//     keyword, not of the subtree): `type`, `required`, `minProperties`,
//     `maxProperties`, `dependencies` naming properties, and the keywords
//     of strings, numbers and arrays, which pass on an object (`minimum`,
//     `maximum`, `multipleOf`, `minLength`, `maxLength`, `pattern`,
//     `format`, `items`, `additionalItems`, `minItems`, `maxItems`,
//     `contains`, `uniqueItems`; an array on a changed path is proved
//     whole, with them);
//   - not local, so checked at the ancestor in full, over its whole
//     subtree: `anyOf`, `oneOf`, `not`, `if`/`then`/`else`, `enum`,
//     `const`, `dependencies` with schemas, and any other constraint
//     valijson may add.
/// How the proof reads the document: json as it is, or a persistent tree
/// (model/config_tree.hpp) made JSON only under a changed path and under an
/// ancestor whose keyword is not local.
struct json_document {
  using value = json;

  static bool object(const json& x) {
    return x.is_object();
  }

  static const json* member(const json& x, std::string_view key) {
    auto i = x.find(key);
    return i == x.end() ? nullptr : &*i;
  }

  static bool whole(validity_visitor& full, const json& x,
                    const Subschema& schema) {
    return full.check_value(x, schema);
  }

  static bool keyword(validity_visitor& full, const json& object,
                      const Constraint& c) {
    return full.check_keyword(object, c);
  }
};

struct node_document {
  using value = config_node;

  static bool object(const config_node& x) {
    return x.is_object();
  }

  static const config_node* member(const config_node& x,
                                   std::string_view key) {
    return x.member(key);
  }

  static bool whole(validity_visitor& full, const config_node& x,
                    const Subschema& schema) {
    auto value = to_json(x);
    return full.check_value(value, schema);
  }

  /// The keywords an ancestor object answers from its kind, size and keys,
  /// as validity_visitor answers them on an object; any other is checked
  /// on the ancestor's JSON, made for it.
  static bool keyword(validity_visitor& full, const config_node& object,
                      const Constraint& c) {
    using namespace valijson::constraints;
    if (auto type = dynamic_cast<const TypeConstraint*>(&c)) {
      bool ok = false;
      type->applyToNamedTypes([&](TypeConstraint::JsonType t) {
        ok = t == TypeConstraint::kAny || t == TypeConstraint::kObject;
        return !ok;
      });
      if (ok)
        return true;
    } else if (auto req = dynamic_cast<const RequiredConstraint*>(&c)) {
      bool ok = true;
      req->applyToRequiredProperties([&](const auto& name) {
        // Same lookup as valijson: by c_str().
        ok = object.member(std::string_view{name.c_str()}) != nullptr;
        return ok;
      });
      return ok;
    } else if (auto most = dynamic_cast<const MaxPropertiesConstraint*>(&c)) {
      return object.size() <= most->getMaxProperties();
    } else if (auto least = dynamic_cast<const MinPropertiesConstraint*>(&c)) {
      return object.size() >= least->getMinProperties();
    } else if (dynamic_cast<const MaximumConstraint*>(&c)
               || dynamic_cast<const MinimumConstraint*>(&c)
               || dynamic_cast<const MaxItemsConstraint*>(&c)
               || dynamic_cast<const MinItemsConstraint*>(&c)
               || dynamic_cast<const MaxLengthConstraint*>(&c)
               || dynamic_cast<const MinLengthConstraint*>(&c)
               || dynamic_cast<const PatternConstraint*>(&c)) {
      return true; // a keyword of numbers, arrays or strings
    }
    auto value = to_json(object);
    return full.check_keyword(value, c);
  }
};

template <class Document>
class change_proof {
public:
  using value = typename Document::value;

  change_proof(validity_check& state, const json& document)
    : state_(state), full_(state, document) {
    // nop
  }

  /// Validates `target` against `schema`, where `changed` says what of
  /// `target` may differ from the tree the premise names.
  bool check(const Subschema& schema, const value& target,
             const path_trie& changed) {
    if (changed.whole || !Document::object(target))
      return Document::whole(full_, target, schema);
    if (schema.getAlwaysInvalid() || depth_ >= max_depth)
      return false;
    ++depth_;
    Subschema::ApplyFunction apply = [&](const Constraint& c) {
      return keyword(c, target, changed);
    };
    auto ok = schema.applyStrict(apply);
    --depth_;
    return ok;
  }

private:
  bool keyword(const Constraint& c, const value& object,
               const path_trie& changed) {
    if (auto all = dynamic_cast<const AllOfConstraint*>(&c)) {
      bool ok = true;
      all->applyToSubschemas([&](unsigned, const Subschema* sub) {
        ok = check(*sub, object, changed);
        return ok;
      });
      return ok;
    }
    if (auto props = dynamic_cast<const PropertiesConstraint*>(&c))
      return properties(*props, object, changed);
    if (auto names = dynamic_cast<const PropertyNamesConstraint*>(&c))
      return property_names(*names, object, changed);
    return Document::keyword(full_, object, c);
  }

  /// The subschemas valijson applies to the member `key`, as its
  /// PropertiesConstraint visit picks them: the `properties` entry of that
  /// name, every `patternProperties` entry whose regex finds a match in the
  /// name, and `additionalProperties` if neither applies (false: refused).
  bool properties(const PropertiesConstraint& c, const value& object,
                  const path_trie& changed) {
    // Not a structured binding: C++17 lambdas cannot capture those (clang
    // refuses, and builds the fuzz targets).
    for (auto& child : changed.children) {
      auto& key = child.first;
      auto& below = child.second;
      auto* i = Document::member(object, key);
      if (i == nullptr)
        continue; // removed: `required` and the like judge its absence
      bool matched = false;
      bool ok = true;
      c.applyToProperties([&](const auto& name, const Subschema* sub) {
        // valijson looks names up by c_str(): a name with a NUL in it is
        // left to the full pass, as proves_valid does.
        if (std::strlen(name.c_str()) != name.size()) {
          ok = false;
          return false;
        }
        if (key != std::string_view{name.data(), name.size()})
          return true;
        matched = true;
        ok = check(*sub, *i, below);
        return false; // names are unique
      });
      if (!ok)
        return false;
      c.applyToPatternProperties([&](const auto& pattern, const Subschema* sub) {
        std::string text{pattern.c_str()};
        auto r = state_.regexes_.find(text);
        if (r == state_.regexes_.end())
          r = state_.regexes_.emplace(text, std::regex(text)).first;
        if (std::regex_search(key, r->second)) {
          matched = true;
          ok = check(*sub, *i, below);
        }
        return ok;
      });
      if (!ok)
        return false;
      if (!matched) {
        auto additional = c.getAdditionalPropertiesSubschema();
        if (additional == nullptr || !check(*additional, *i, below))
          return false;
      }
    }
    return true;
  }

  /// `propertyNames` for the keys on the changed paths, each judged as
  /// valijson judges it (a string adapter over the name).
  bool property_names(const PropertyNamesConstraint& c, const value& object,
                      const path_trie& changed) {
    for (auto& child : changed.children) {
      auto& key = child.first;
      if (Document::member(object, key) == nullptr)
        continue;
      valijson::adapters::StdStringAdapter name{key};
      valijson::ValidationVisitor<valijson::adapters::StdStringAdapter>
        visitor{name, {}, true, nullptr, state_.regexes_};
      if (!visitor.validateSchema(*c.getSubschema()))
        return false;
    }
    return true;
  }

  validity_check& state_;
  validity_visitor full_;
  int depth_ = 0;
};

bool validity_check::proves_valid(const valijson::Subschema& schema,
                                  const json& document,
                                  const path_trie& changed) {
  matched_.clear();
  change_proof<json_document> proof{*this, document};
  return proof.check(schema, document, changed);
}

bool validity_check::proves_valid(const valijson::Subschema& schema,
                                  const config_node& document,
                                  const path_trie& changed) {
  matched_.clear();
  static const json nothing;
  change_proof<node_document> proof{*this, nothing};
  return proof.check(schema, document, changed);
}

} // namespace cfgactors::detail

// A configuration seen through an overlay: values of one tenant or one
// request that win over a snapshot for that reader only, without a version.
#pragma once

#include <initializer_list>
#include <memory>
#include <string_view>

#include <nlohmann/json.hpp>

#include "cfgactors/fwd.hpp"
#include "cfgactors/path.hpp"

namespace cfgactors {

/// A value read through a view. It points into the base or the overlay when
/// one of them alone decides it, and owns a merged copy only when both hold
/// an object there (or the overlay's object carries deletions).
class view_value {
public:
  view_value() = default;

  explicit view_value(const json* ptr) noexcept : ptr_(ptr) {
    // nop
  }

  explicit view_value(json owned)
    : owned_(std::make_unique<json>(std::move(owned))), ptr_(owned_.get()) {
    // nop
  }

  explicit operator bool() const noexcept {
    return ptr_ != nullptr;
  }

  const json& operator*() const noexcept {
    return *ptr_;
  }

  const json* operator->() const noexcept {
    return ptr_;
  }

  /// The value, or nullptr when absent.
  const json* get() const noexcept {
    return ptr_;
  }

  /// Whether the value had to be built (and is owned by this object).
  bool owned() const noexcept {
    return owned_ != nullptr;
  }

private:
  std::unique_ptr<json> owned_; // heap: ptr_ must survive moves
  const json* ptr_ = nullptr;
};

/// A base tree with an optional overlay merged over it by JSON Merge Patch
/// rules (RFC 7386: objects merge key by key, `null` deletes, anything else
/// replaces). Lookups resolve one path through both trees; the merged whole
/// is never built per lookup. `null` and absent are the same thing here, as
/// they are after a merge. Copying a view is cheap (two shared pointers).
class config_view {
public:
  /// An empty configuration.
  config_view();

  /// The effective tree of `base` (kept alive by the view) under `overlay`.
  /// An overlay that is not an object is ignored: a merge patch that is not
  /// an object would replace the whole configuration.
  /// Copy a view to share its overlay (a tenant's) between many readers.
  explicit config_view(snapshot_ptr base, json overlay = nullptr);

  /// Over a tree that the caller keeps alive as long as the view.
  explicit config_view(const json& base, json overlay = nullptr);

  /// A temporary base would be gone before the first lookup.
  explicit config_view(json&& base, json overlay = nullptr) = delete;

  /// This view with `more` merged over its overlay: a request's overlay on
  /// top of its tenant's. Deletions in either are kept.
  config_view overlaid(const json& more) const;

  /// The value at `path`, or an empty value.
  view_value find(const config_path& path) const;

  /// The value at the dotted `path`; an unparsable path finds nothing.
  view_value find(std::string_view path) const;

  /// The value under a run of object keys, without parsing a path.
  view_value find_keys(std::initializer_list<std::string_view> keys) const;

  /// The JSON type at a run of object keys (`null` when absent), without
  /// building a merged value.
  json::value_t type_at(std::initializer_list<std::string_view> keys) const;

  /// The value at `path` converted to T as json::get<T> converts, or
  /// `fallback` when it is absent or does not convert.
  template <class T>
  T get(std::string_view path, T fallback) const {
    auto value = find(path);
    if (!value)
      return fallback;
    try {
      return value->template get<T>();
    } catch (const json::exception&) {
      return fallback;
    }
  }

  /// The whole merged tree: a full copy, for display rather than lookups.
  json effective() const;

  /// The base tree (a snapshot's JSON is made on first use).
  const json& base() const;

  /// The overlay, or nullptr when there is none.
  const json* overlay() const noexcept {
    return overlay_.get();
  }

  /// The snapshot the view reads, if it was made over one.
  const snapshot_ptr& source() const noexcept {
    return snapshot_;
  }

private:
  snapshot_ptr snapshot_;
  const json* base_; ///< null when reading snapshot_

  std::shared_ptr<const json> overlay_;
};

/// The object at the dotted `path` of `config` (`tenants.acme`) as an
/// overlay; an empty object when it is absent, not an object, or the path
/// does not parse.
json overlay_for(const json& config, std::string_view path);

} // namespace cfgactors

// Path lookups through a base tree and a merge-patch overlay at once.
#include "cfgactors/config_view.hpp"

#include <string>
#include <type_traits>
#include <utility>
#include <variant>

#include "cfgactors/merge.hpp"
#include "cfgactors/snapshot.hpp"

namespace cfgactors {

namespace {

const json& empty_object() {
  static const json instance = json::object();
  return instance;
}

std::shared_ptr<const json> keep_object(json overlay) {
  if (!overlay.is_object())
    return nullptr;
  return std::make_shared<const json>(std::move(overlay));
}

// The same path in both trees. `over == nullptr`: the overlay says nothing
// here, the base decides. `literal`: below a value the overlay replaced
// wholesale, which is data rather than a patch (its nulls are values).
// `gone`: the path was deleted or leads nowhere.
struct cursor {
  const json* base;
  const json* over;
  bool literal = false;
  bool gone = false;
};

const json* child(const json* node, std::string_view key) noexcept {
  if (node == nullptr || !node->is_object())
    return nullptr;
  auto it = node->find(key);
  return it == node->end() ? nullptr : &*it;
}

const json* child(const json* node, std::size_t index) noexcept {
  if (node == nullptr || !node->is_array() || index >= node->size())
    return nullptr;
  return &(*node)[index];
}

template <class Step>
cursor descend(const cursor& at, const Step& step) noexcept {
  if (at.gone)
    return at;
  if (at.over == nullptr)
    return {child(at.base, step), nullptr, false, false};
  if (at.literal || !at.over->is_object()) {
    // The overlay replaced this node wholesale; the base below is hidden.
    auto next = child(at.over, step);
    return {nullptr, next, true, next == nullptr};
  }
  // Merging an object over anything yields an object: an index finds
  // nothing, a key is looked up in both.
  if constexpr (std::is_same_v<Step, std::size_t>) {
    return {nullptr, nullptr, false, true};
  } else {
    auto over = child(at.over, step);
    if (over != nullptr && over->is_null())
      return {nullptr, nullptr, false, true};
    return {child(at.base, step), over, false, false};
  }
}

bool has_null_member(const json& value) {
  if (value.is_object()) {
    for (auto& member : value)
      if (member.is_null() || has_null_member(member))
        return true;
  }
  return false;
}

view_value resolve(const cursor& at) {
  if (at.gone)
    return {};
  if (at.over == nullptr) {
    if (at.base == nullptr || at.base->is_null())
      return {};
    return view_value{at.base};
  }
  if (at.over->is_null())
    return {};
  if (at.literal || !at.over->is_object())
    return view_value{at.over};
  bool base_object = at.base != nullptr && at.base->is_object();
  if (base_object && at.over->empty())
    return view_value{at.base};
  if (base_object)
    return view_value{merged(*at.base, *at.over)};
  // Over a non-object the overlay's object is the value, minus deletions.
  if (has_null_member(*at.over))
    return view_value{merged(json::object(), *at.over)};
  return view_value{at.over};
}

} // namespace

const json& config_view::base() const {
  // A snapshot's JSON is made on the first lookup through the view, not
  // when the view is made: flags compiled from a snapshot never need it.
  return snapshot_ ? *snapshot_->effective : *base_;
}

config_view::config_view() : base_(&empty_object()) {
  // nop
}

config_view::config_view(snapshot_ptr base, json overlay)
  : snapshot_(std::move(base)),
    base_(snapshot_ ? nullptr : &empty_object()),
    overlay_(keep_object(std::move(overlay))) {
  // nop
}

config_view::config_view(const json& base, json overlay)
  : base_(&base), overlay_(keep_object(std::move(overlay))) {
  // nop
}

config_view config_view::overlaid(const json& more) const {
  config_view result{*this};
  if (!more.is_object())
    return result;
  json combined = overlay_ ? *overlay_ : json::object();
  merge_overlays(combined, more, base());
  result.overlay_ = std::make_shared<const json>(std::move(combined));
  return result;
}

view_value config_view::find(const config_path& path) const {
  cursor at{&base(), overlay_.get()};
  for (auto& segment : path.segments)
    at = std::visit([&at](const auto& step) { return descend(at, step); },
                    segment);
  return resolve(at);
}

view_value config_view::find(std::string_view path) const {
  auto parsed = config_path::parse(path);
  if (!parsed)
    return {};
  return find(*parsed);
}

view_value
config_view::find_keys(std::initializer_list<std::string_view> keys) const {
  cursor at{&base(), overlay_.get()};
  for (auto key : keys)
    at = descend(at, key);
  return resolve(at);
}

json::value_t
config_view::type_at(std::initializer_list<std::string_view> keys) const {
  cursor at{&base(), overlay_.get()};
  for (auto key : keys)
    at = descend(at, key);
  if (at.gone)
    return json::value_t::null;
  if (at.over != nullptr)
    return at.over->type(); // null for a null inside an array
  return at.base != nullptr ? at.base->type() : json::value_t::null;
}

json config_view::effective() const {
  if (!overlay_)
    return base();
  return merged(base(), *overlay_);
}

json overlay_for(const json& config, std::string_view path) {
  auto parsed = config_path::parse(path);
  if (!parsed)
    return json::object();
  auto node = cfgactors::find(config, *parsed);
  if (node == nullptr || !node->is_object())
    return json::object();
  return *node;
}

} // namespace cfgactors

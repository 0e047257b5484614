// What a feature flag is evaluated for: the attributes of a request, user or
// host. Read on every evaluation (a rule flag finds three or four of them),
// so they live side by side in one sorted array: a lookup compares a few
// short strings in one or two cache lines instead of walking tree nodes
// spread over the heap (bench/flags: "context lookups").
#pragma once

#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <cstring>
#include <initializer_list>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cfgactors {

namespace detail {

/// Whether `x` and `y` hold the same bytes. Inline word compares for the
/// short texts of attribute names and values, where a call to memcmp would
/// cost more than the comparison.
inline bool same_text(std::string_view x, std::string_view y) noexcept {
  auto n = x.size();
  if (n != y.size())
    return false;
  auto a = x.data();
  auto b = y.data();
  auto word = [](const char* p) {
    uint64_t w;
    std::memcpy(&w, p, sizeof w);
    return w;
  };
  if (n >= 8) {
    if (n > 16)
      return std::memcmp(a, b, n) == 0;
    // Two words that overlap when n < 16.
    return word(a) == word(b) && word(a + n - 8) == word(b + n - 8);
  }
  for (std::size_t i = 0; i < n; ++i)
    if (a[i] != b[i])
      return false;
  return true;
}

} // namespace detail

/// `{{"tenant", "acme"}, {"user", "42"}}`: names are unique, kept in byte
/// order.
class flag_context {
public:
  using attribute = std::pair<std::string, std::string>;
  using const_iterator = std::vector<attribute>::const_iterator;

  flag_context() = default;

  /// Of a name given twice, the first value counts (as a std::map built
  /// from the list would keep it).
  flag_context(std::initializer_list<attribute> attrs) : attrs_(attrs) {
    std::stable_sort(attrs_.begin(), attrs_.end(), by_name);
    auto same = [](const attribute& x, const attribute& y) {
      return x.first == y.first;
    };
    attrs_.erase(std::unique(attrs_.begin(), attrs_.end(), same),
                 attrs_.end());
  }

  /// Adds `name` or replaces its value. Names set in byte order (as from a
  /// JSON object) are appended: building a context of n attributes is then
  /// O(n), not O(n^2).
  flag_context& set(std::string name, std::string value) {
    if (attrs_.empty() || attrs_.back().first < name) {
      attrs_.emplace_back(std::move(name), std::move(value));
      return *this;
    }
    auto it = std::lower_bound(attrs_.begin(), attrs_.end(), name,
                               [](const attribute& x, const std::string& y) {
                                 return x.first < y;
                               });
    if (it != attrs_.end() && it->first == name)
      it->second = std::move(value);
    else
      attrs_.emplace(it, std::move(name), std::move(value));
    return *this;
  }

  /// The attribute's value, or nullptr.
  const std::string* find(std::string_view name) const noexcept {
    // A context has a handful of attributes: comparing lengths first skips
    // most of them without touching their text.
    if (attrs_.size() <= linear_limit) {
      for (auto& [key, value] : attrs_)
        if (detail::same_text(key, name))
          return &value;
      return nullptr;
    }
    auto it = std::lower_bound(attrs_.begin(), attrs_.end(), name,
                               [](const attribute& x, std::string_view y) {
                                 return std::string_view{x.first} < y;
                               });
    if (it != attrs_.end() && it->first == name)
      return &it->second;
    return nullptr;
  }

  std::size_t size() const noexcept {
    return attrs_.size();
  }

  bool empty() const noexcept {
    return attrs_.empty();
  }

  /// The attributes in name order.
  const_iterator begin() const noexcept {
    return attrs_.begin();
  }

  const_iterator end() const noexcept {
    return attrs_.end();
  }

private:
  /// Up to this many attributes a scan beats a binary search.
  static constexpr std::size_t linear_limit = 8;

  static bool by_name(const attribute& x, const attribute& y) {
    return x.first < y.first;
  }

  std::vector<attribute> attrs_;
};

} // namespace cfgactors

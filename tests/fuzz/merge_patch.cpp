// Fuzzes JSON Merge Patch (RFC 7386: merge_into, merged, merge_overlays,
// assign_reusing) and RFC 6902 (json_patch) with diff_view and
// changed_paths. Input: JSON documents one per line: `from` (the target),
// `to` (the patch), optionally a base under both (default {}).
#include <algorithm>
#include <cstddef>
#include <cstdint>
#include <set>
#include <string>
#include <string_view>

#include "cfgactors/diff.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors;
using fuzz::show;

namespace {

void check_merge(const json& target, const json& patch) {
  auto result = merged(target, patch);
  // merged() is merge_into on a copy, and leaves its inputs alone.
  auto copy = target;
  merge_into(copy, patch);
  FUZZ_CHECK(copy == result, show(copy));
  // RFC 7386: a non-object patch replaces; an object patch sets every
  // non-null member, deletes every null one, and keeps the target's others.
  if (!patch.is_object()) {
    FUZZ_CHECK(result == patch, show(result));
    return;
  }
  FUZZ_CHECK(result.is_object(), show(result));
  for (auto& [key, member] : patch.items()) {
    if (member.is_null()) {
      FUZZ_CHECK(!result.contains(key), key);
      continue;
    }
    FUZZ_CHECK(result.contains(key), key);
    static const json none;
    auto inner = target.is_object() && target.contains(key) ? target[key]
                                                            : none;
    FUZZ_CHECK(result[key] == merged(inner, member), key);
  }
  if (target.is_object())
    for (auto& [key, member] : target.items())
      if (!patch.contains(key))
        FUZZ_CHECK(result.contains(key) && result[key] == member, key);
  // Applying a merge patch twice changes nothing more.
  FUZZ_CHECK(merged(result, patch) == result, show(result));
}

void check_overlays(const json& base, const json& first, const json& second) {
  auto combined = first;
  merge_overlays(combined, second, base);
  auto one_by_one = merged(merged(base, first), second);
  auto at_once = merged(base, combined);
  FUZZ_CHECK(at_once == one_by_one,
             "base " + show(base) + "\nfirst " + show(first) + "\nsecond "
               + show(second) + "\none by one " + show(one_by_one)
               + "\ncombined " + show(at_once));
}

void check_json_patch(const json& from, const json& to) {
  auto patch = json_patch(from, to);
  FUZZ_CHECK(patch.is_array(), show(patch));
  // Parsed trees hold valid UTF-8: equal hashes mean equal canonical text,
  // which is what the patch compares (1 and 1.0 differ, though == says not).
  auto from_hash = canonical_hash(from);
  auto to_hash = canonical_hash(to);
  FUZZ_CHECK(patch.empty() == (from_hash == to_hash), show(patch));
  json result;
  try {
    result = from.patch(patch);
  } catch (const json::exception& e) {
    FUZZ_CHECK(false, std::string{e.what()} + "\npatch " + show(patch));
  }
  FUZZ_CHECK(result == to, "patch " + show(patch) + "\ngave " + show(result));
  // A replica checks the result of a patch by its hash: equal by == is not
  // enough where 1 and 1.0 differ in text.
  FUZZ_CHECK(canonical_hash(result) == to_hash,
             "patch " + show(patch) + "\ngave " + show(result));
  FUZZ_CHECK(json_patch(from, from).empty(), show(from));
}

void check_diff_view(const json& from, const json& to) {
  auto paths = changed_paths(from, to);
  auto view = diff_view(from, to);
  FUZZ_CHECK(std::is_sorted(paths.begin(), paths.end()), show(view));
  FUZZ_CHECK(paths.empty() == (canonical_hash(from) == canonical_hash(to)),
             show(view));
  std::set<std::string> unique(paths.begin(), paths.end());
  FUZZ_CHECK(unique.size() == paths.size(), show(view));
  FUZZ_CHECK(view.size() == paths.size(), show(view));
  auto objects = from.is_object() && to.is_object();
  for (auto& [key, entry] : view.items()) {
    FUZZ_CHECK(unique.count(key) == 1, key);
    // Each entry holds what the path finds on either side. An empty key
    // renders like the root and does not parse inside a path: skipped.
    auto path = config_path::parse(key);
    if (!path || path->str() != key || (objects && path->empty()))
      continue;
    auto old_value = find(from, *path);
    auto new_value = find(to, *path);
    if (entry.contains("old")) {
      FUZZ_CHECK(old_value && *old_value == entry["old"], key);
      FUZZ_CHECK(new_value && *new_value == entry["new"], key);
    } else if (entry.contains("added")) {
      FUZZ_CHECK(!old_value, key);
      FUZZ_CHECK(new_value && *new_value == entry["added"], key);
    } else {
      FUZZ_CHECK(entry.contains("removed"), show(entry));
      FUZZ_CHECK(old_value && *old_value == entry["removed"], key);
      FUZZ_CHECK(!new_value, key);
    }
  }
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest{reinterpret_cast<const char*>(data), size};
  auto from = fuzz::parse_json(fuzz::take_line(rest));
  auto to = fuzz::parse_json(fuzz::take_line(rest));
  if (!from || !to)
    return 0;
  auto base = fuzz::parse_json(fuzz::take_line(rest)).value_or(json::object());

  check_merge(*from, *to);
  check_merge(base, *from);
  check_overlays(base, *from, *to);
  check_json_patch(*from, *to);
  check_json_patch(*to, *from);
  check_diff_view(*from, *to);

  // assign_reusing makes an exact copy whatever it starts from.
  auto target = *from;
  assign_reusing(target, *to);
  FUZZ_CHECK(target == *to && target.dump() == to->dump(), show(target));
  return 0;
}

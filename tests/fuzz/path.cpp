// Fuzzes dotted paths: config_path::parse and str, find, assign, erase and
// path_within on a small fixed tree, and config_view's per-path lookups
// against a full merge. Input: a path on the first line, a second path on
// the second (checked as a prefix of the first), the rest a JSON value (the
// value assigned and the view's overlay; taken as a string if not JSON).
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "cfgactors/config_view.hpp"
#include "cfgactors/merge.hpp"
#include "cfgactors/path.hpp"

#include "fuzz_check.hpp"

using namespace cfgactors;
using fuzz::show;

namespace {

const json& fixed_tree() {
  static const json tree = json::parse(R"({
    "a": {"b": [1, {"c": 2}, [3, 4]], "d.e": 3, "x[0]": {"y\\z": null},
          "n": null},
    "list": [[0, 1], [], {"k": "v"}],
    "s": "text", "t": true, "num": 1.5, "0": {"1": [0]}
  })");
  return tree;
}

// The recursive definition, to hold nesting_depth's iterative walk against.
std::size_t depth_of(const json& value) {
  if (!value.is_structured())
    return 0;
  std::size_t deepest = 0;
  for (auto& child : value)
    deepest = std::max(deepest, depth_of(child));
  return deepest + 1;
}

bool is_prefix(const config_path& prefix, const config_path& path) {
  if (prefix.segments.size() > path.segments.size())
    return false;
  for (std::size_t i = 0; i < prefix.segments.size(); ++i)
    if (prefix.segments[i] != path.segments[i])
      return false;
  return true;
}

std::optional<config_path> parse_checked(std::string_view text) {
  std::string error;
  auto path = config_path::parse(text, &error);
  if (!path) {
    // Errors say where: "<what> at offset N", N within the text.
    auto at = error.rfind(" at offset ");
    FUZZ_CHECK(at != std::string::npos, error);
    auto offset = std::stoul(error.substr(at + 11));
    FUZZ_CHECK(offset <= text.size(), error);
    return std::nullopt;
  }
  for (auto& seg : path->segments)
    if (auto key = std::get_if<std::string>(&seg))
      FUZZ_CHECK(!key->empty(), std::string{text});
  // The text form is canonical: str() gives back exactly what parsed, and
  // parses to the same segments.
  auto text_form = path->str();
  FUZZ_CHECK(text_form == text, text_form + " vs " + std::string{text});
  auto again = config_path::parse(text_form);
  FUZZ_CHECK(again && again->segments == path->segments, text_form);
  return path;
}

void check_tree_ops(const json& tree, const config_path& path,
                    const json& value) {
  auto text = path.str();
  // assign: afterwards the path finds the value; on failure nothing changed.
  auto assigned = tree;
  std::string error;
  if (assign(assigned, path, value, &error)) {
    auto found = find(assigned, path);
    FUZZ_CHECK(found != nullptr && *found == value, text);
    // Erasing it again removes something (the root cannot be erased).
    if (!path.empty()) {
      auto erased = assigned;
      FUZZ_CHECK(erase(erased, path), text);
      if (std::holds_alternative<std::string>(path.segments.back()))
        FUZZ_CHECK(find(erased, path) == nullptr, text);
    }
  } else {
    FUZZ_CHECK(!error.empty(), text);
    FUZZ_CHECK(assigned == tree, text + ": " + error);
  }
  // erase: true exactly when find found something (and not the root).
  auto erased = tree;
  auto existed = find(tree, path) != nullptr;
  auto removed = erase(erased, path);
  FUZZ_CHECK(removed == (existed && !path.empty()), text);
  if (!removed)
    FUZZ_CHECK(erased == tree, text);
  else if (std::holds_alternative<std::string>(path.segments.back()))
    FUZZ_CHECK(find(erased, path) == nullptr, text);
}

// A view finds per path what a full merge of its overlay would hold (null and
// absent are the same in a view).
void check_view(const json& base, const json& overlay,
                const config_path& path) {
  config_view view{base, overlay};
  auto effective = overlay.is_object() ? merged(base, overlay) : base;
  FUZZ_CHECK(view.effective() == effective, show(effective));
  auto found = view.find(path);
  auto expected = find(effective, path);
  auto text = path.str();
  if (expected == nullptr || expected->is_null()) {
    FUZZ_CHECK(!found, text + ": " + (found ? show(*found) : ""));
    return;
  }
  FUZZ_CHECK(found, text + ": expected " + show(*expected));
  FUZZ_CHECK(*found == *expected,
             text + ": " + show(*found) + " vs " + show(*expected));
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  std::string_view rest{reinterpret_cast<const char*>(data), size};
  auto first = fuzz::take_line(rest);
  auto second = fuzz::take_line(rest);
  auto value = fuzz::parse_json(rest).value_or(json(std::string{rest}));
  FUZZ_CHECK(nesting_depth(value) == depth_of(value), show(value));

  auto path = parse_checked(first);
  auto other = parse_checked(second);
  if (!path)
    return 0;
  if (other) {
    // path_within agrees with comparing segments, escapes and all.
    FUZZ_CHECK(path_within(path->str(), other->str())
                 == is_prefix(*other, *path),
               path->str() + " within " + other->str());
  }
  for (std::size_t n = 0; n <= path->segments.size(); ++n) {
    config_path prefix;
    prefix.segments.assign(path->segments.begin(),
                           path->segments.begin()
                             + static_cast<std::ptrdiff_t>(n));
    FUZZ_CHECK(path_within(path->str(), prefix.str()),
               path->str() + " within " + prefix.str());
  }
  check_tree_ops(fixed_tree(), *path, value);
  if (value.is_structured())
    check_tree_ops(value, *path, fixed_tree());
  check_view(fixed_tree(), value, *path);
  return 0;
}

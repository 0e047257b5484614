// Tests for JSON Merge Patch (RFC 7386) and the null-keeping overlay merge.
#define CAF_SUITE merge
#include "cfgactors_test.hpp"

#include "cfgactors/merge.hpp"

#include <string>
#include <utility>

namespace merge_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

std::string patched(const char* target, const char* patch) {
  auto result = j(target);
  merge_into(result, j(patch));
  return result.dump();
}

std::string combined(const char* first, const char* second,
                     const char* base = "{}") {
  auto result = j(first);
  merge_overlays(result, j(second), j(base));
  return result.dump();
}

// Applying `first` then `second` to `base`, and their combination at once.
std::pair<std::string, std::string> in_turn_and_at_once(const char* base,
                                                        const char* first,
                                                        const char* second) {
  auto patch = j(first);
  merge_overlays(patch, j(second), j(base));
  return {merged(merged(j(base), j(first)), j(second)).dump(),
          merged(j(base), patch).dump()};
}

} // namespace

CAF_TEST(merge_into passes every example of RFC 7386 appendix A) {
  CAF_CHECK_EQUAL(patched(R"({"a":"b"})", R"({"a":"c"})"), R"({"a":"c"})");
  CAF_CHECK_EQUAL(patched(R"({"a":"b"})", R"({"b":"c"})"),
                  R"({"a":"b","b":"c"})");
  CAF_CHECK_EQUAL(patched(R"({"a":"b"})", R"({"a":null})"), "{}");
  CAF_CHECK_EQUAL(patched(R"({"a":"b","b":"c"})", R"({"a":null})"),
                  R"({"b":"c"})");
  CAF_CHECK_EQUAL(patched(R"({"a":["b"]})", R"({"a":"c"})"), R"({"a":"c"})");
  CAF_CHECK_EQUAL(patched(R"({"a":"c"})", R"({"a":["b"]})"), R"({"a":["b"]})");
  CAF_CHECK_EQUAL(patched(R"({"a":{"b":"c"}})", R"({"a":{"b":"d","c":null}})"),
                  R"({"a":{"b":"d"}})");
  CAF_CHECK_EQUAL(patched(R"({"a":[{"b":"c"}]})", R"({"a":[1]})"),
                  R"({"a":[1]})");
  CAF_CHECK_EQUAL(patched(R"(["a","b"])", R"(["c","d"])"), R"(["c","d"])");
  CAF_CHECK_EQUAL(patched(R"({"a":"b"})", R"(["c"])"), R"(["c"])");
  CAF_CHECK_EQUAL(patched(R"({"a":"foo"})", "null"), "null");
  CAF_CHECK_EQUAL(patched(R"({"a":"foo"})", R"("bar")"), R"("bar")");
  CAF_CHECK_EQUAL(patched(R"({"e":null})", R"({"a":1})"),
                  R"({"a":1,"e":null})");
  CAF_CHECK_EQUAL(patched("[1,2]", R"({"a":"b","c":null})"), R"({"a":"b"})");
  CAF_CHECK_EQUAL(patched("{}", R"({"a":{"bb":{"ccc":null}}})"),
                  R"({"a":{"bb":{}}})");
}

CAF_TEST(objects merge deeply and untouched siblings survive) {
  CAF_CHECK_EQUAL(patched(R"({"db":{"host":"a","port":1},"x":true})",
                          R"({"db":{"port":2}})"),
                  R"({"db":{"host":"a","port":2},"x":true})");
}

CAF_TEST(arrays replace whole and keep nulls inside them) {
  CAF_CHECK_EQUAL(patched(R"({"l":[1,2,3]})", R"({"l":[null,4]})"),
                  R"({"l":[null,4]})");
}

CAF_TEST(a null for a missing key is a no op) {
  CAF_CHECK_EQUAL(patched(R"({"a":1})", R"({"b":null,"c":{"d":null}})"),
                  R"({"a":1,"c":{}})");
}

CAF_TEST(an object over a scalar starts from an empty object) {
  CAF_CHECK_EQUAL(patched(R"({"a":5})", R"({"a":{"b":1,"c":null}})"),
                  R"({"a":{"b":1}})");
}

CAF_TEST(merged returns a new tree and leaves its inputs alone) {
  const auto base = j(R"({"a":1,"b":{"c":2}})");
  const auto overlay = j(R"({"b":{"c":null,"d":3}})");
  auto result = merged(base, overlay);
  CAF_CHECK_EQUAL(result.dump(), R"({"a":1,"b":{"d":3}})");
  CAF_CHECK_EQUAL(base.dump(), R"({"a":1,"b":{"c":2}})");
  CAF_CHECK_EQUAL(overlay.dump(), R"({"b":{"c":null,"d":3}})");
}

CAF_TEST(merge_overlays keeps nulls as tombstones) {
  CAF_CHECK_EQUAL(combined(R"({"a":1,"b":{"c":2}})",
                           R"({"a":null,"b":{"c":null,"d":3}})"),
                  R"({"a":null,"b":{"c":null,"d":3}})");
  CAF_CHECK_EQUAL(combined("{}", R"({"x":{"y":null}})"),
                  R"({"x":{"y":null}})");
}

CAF_TEST(merge_overlays lets a later value replace an earlier tombstone) {
  CAF_CHECK_EQUAL(combined(R"({"a":null})", R"({"a":{"b":1}})"),
                  R"({"a":{"b":1}})");
  CAF_CHECK_EQUAL(combined(R"({"a":{"b":1}})", R"({"a":5})"), R"({"a":5})");
}

CAF_TEST(merge_overlays with non object overlays replaces like merge_into) {
  CAF_CHECK_EQUAL(combined(R"({"a":1})", "[1,null]"), "[1,null]");
  // After a non-object, an object patch starts from nothing: every member
  // of the base goes.
  CAF_CHECK_EQUAL(combined("7", R"({"a":null})", R"({"a":1,"b":2})"),
                  R"({"a":null,"b":null})");
}

CAF_TEST(two combined patches act like applying them one after another) {
  const auto base = j(R"({"log":{"level":"INFO","file":"x"},"n":1,"keep":0})");
  const auto first = j(R"({"log":{"level":"DEBUG"},"n":null,"m":2})");
  const auto second = j(R"({"log":{"file":null},"m":3,"n":4})");
  auto sequential = merged(merged(base, first), second);
  auto patch = first;
  merge_overlays(patch, second, base);
  CAF_CHECK_EQUAL(merged(base, patch).dump(), sequential.dump());
}

CAF_TEST(a combined patch does not bring back what the first one replaced) {
  // `set x 7` in the runtime layer, then a patch that makes x an object:
  // the object replaces the file's x, it does not merge with it.
  auto [in_turn, at_once] = in_turn_and_at_once(R"({"x":{"a":1}})",
                                                R"({"x":7})",
                                                R"({"x":{"b":2}})");
  CAF_CHECK_EQUAL(in_turn, R"({"x":{"b":2}})");
  CAF_CHECK_EQUAL(at_once, in_turn);
  // The same below a deletion, an array, and a non-object first patch.
  std::tie(in_turn, at_once) = in_turn_and_at_once(
    R"({"x":{"a":{"b":1,"c":2}},"y":{"z":1},"k":1})",
    R"({"x":null,"y":{"z":[1]}})",
    R"({"x":{"a":{"c":3,"d":null},"e":{"f":null}},"y":{"z":{"w":1}}})");
  CAF_CHECK_EQUAL(in_turn, R"({"k":1,"x":{"a":{"c":3},"e":{}},"y":{"z":{"w":1}}})");
  CAF_CHECK_EQUAL(at_once, in_turn);
  std::tie(in_turn, at_once) = in_turn_and_at_once(R"({"":7})", "7", "{}");
  CAF_CHECK_EQUAL(in_turn, "{}");
  CAF_CHECK_EQUAL(at_once, in_turn);
  // What the base holds there is deleted member by member.
  CAF_CHECK_EQUAL(combined(R"({"x":7})", R"({"x":{"a":{"b":2}}})",
                           R"({"x":{"a":{"b":1,"c":1},"d":1}})"),
                  R"({"x":{"a":{"b":2,"c":null},"d":null}})");
}

CAF_TEST(assign_reusing turns any tree into an exact copy of the source) {
  const char* trees[] = {
    "null", "true", "3", "-4", "18446744073709551615", "2.5", R"("text")",
    "[]", "[1,2,3]", R"([{"a":1},[2],"x"])", "{}",
    R"({"a":1,"b":{"c":2,"d":[1,2]},"e":"s"})",
    R"({"b":{"c":"2","x":null},"f":false,"a":1.5})",
    R"({"a":{"a":{"a":{}}},"z":[null,true]})",
    R"({"aa":1,"ab":2,"b":3,"ba":{"c":4}})",
  };
  for (auto from : trees) {
    for (auto to : trees) {
      auto source = j(from);
      auto target = j(to);
      assign_reusing(target, source);
      CAF_CHECK_EQUAL(target.dump(), j(from).dump());
      CAF_CHECK_EQUAL(target.type(), source.type());
      CAF_CHECK_EQUAL(source.dump(), j(from).dump()); // left alone
    }
  }
}

CAF_TEST(assign_reusing keeps the number kinds of the source) {
  auto target = j(R"({"i":1,"u":2,"f":3.0})");
  auto source = json{{"i", 1.0}, {"u", -2}, {"f", 3u}};
  assign_reusing(target, source);
  CAF_CHECK(target["i"].is_number_float());
  CAF_CHECK(target["u"].is_number_integer());
  CAF_CHECK(target["f"].is_number_unsigned());
  CAF_CHECK_EQUAL(target, source);
}

} // namespace merge_suite

// Tests for JSON Patch generation and the seed's dotted-path diff view.
#define CAF_SUITE diff
#include "cfgactors_test.hpp"

#include "cfgactors/diff.hpp"
#include "cfgactors/hash.hpp"

#include <string>
#include <vector>

namespace diff_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

using paths = std::vector<std::string>;

} // namespace

CAF_TEST(json_patch yields the expected operations) {
  auto from = j(R"({"a": 1, "b": {"c": 2}, "d": 3})");
  auto to = j(R"({"a": 5, "b": {"c": 2, "e": 4}})");
  auto patch = json_patch(from, to);
  CAF_CHECK_EQUAL(patch.dump(),
                  R"([{"op":"replace","path":"/a","value":5},)"
                  R"({"op":"add","path":"/b/e","value":4},)"
                  R"({"op":"remove","path":"/d"}])");
  CAF_CHECK_EQUAL(from.patch(patch).dump(), to.dump());
}

CAF_TEST(json_patch of equal trees is empty) {
  auto x = j(R"({"a": [1, 2], "b": null})");
  CAF_CHECK_EQUAL(json_patch(x, x).dump(), "[]");
}

CAF_TEST(json_patch escapes keys as json pointers) {
  auto patch = json_patch(j(R"({"a/b": 1, "m~n": 1})"),
                          j(R"({"a/b": 2, "m~n": 2})"));
  CAF_CHECK_EQUAL(patch.dump(),
                  R"([{"op":"replace","path":"/a~1b","value":2},)"
                  R"({"op":"replace","path":"/m~0n","value":2}])");
}

CAF_TEST(json_patch sees a number change only its kind or sign) {
  // 1 and 1.0 are equal to nlohmann but not in the canonical text that the
  // snapshot hash covers: the patch must carry the change, or a replica that
  // applies it ends with a different hash than the primary.
  auto from = j(R"({"a": 1, "b": 0.0, "c": [2], "d": {"e": 3}})");
  auto to = j(R"({"a": 1.0, "b": -0.0, "c": [2.0], "d": {"e": 3}})");
  CAF_CHECK_EQUAL(json_patch(from, to).dump(),
                  R"([{"op":"replace","path":"/a","value":1.0},)"
                  R"({"op":"replace","path":"/b","value":-0.0},)"
                  R"({"op":"replace","path":"/c/0","value":2.0}])");
  CAF_CHECK_EQUAL(canonical_hash(from.patch(json_patch(from, to))),
                  canonical_hash(to));
  CAF_CHECK_EQUAL(canonical_hash(to.patch(json_patch(to, from))),
                  canonical_hash(from));
  CAF_CHECK_EQUAL(changed_paths(from, to), (paths{"a", "b", "c"}));
  CAF_CHECK_EQUAL(diff_view(from, to)["a"].dump(), R"({"new":1.0,"old":1})");
  // Signed and unsigned integers print alike: no change.
  CAF_CHECK_EQUAL(json_patch(j(R"({"a": 1})"), json{{"a", 1}}).dump(), "[]");
}

CAF_TEST(diff_view renders the seed view for a concrete change) {
  auto from = j(R"({
    "logging": {"level": "INFO", "format": "text"},
    "db": {"pool": {"size": 10, "timeout": 5}},
    "old_flag": true,
    "servers": ["a", "b"]
  })");
  auto to = j(R"({
    "logging": {"level": "DEBUG", "format": "text"},
    "db": {"pool": {"size": 10}},
    "features": {"x": {"enabled": true}},
    "servers": ["a", "c"]
  })");
  auto view = diff_view(from, to);
  CAF_CHECK_EQUAL(view.dump(),
                  R"({"db.pool.timeout":{"removed":5},)"
                  R"("features":{"added":{"x":{"enabled":true}}},)"
                  R"("logging.level":{"new":"DEBUG","old":"INFO"},)"
                  R"("old_flag":{"removed":true},)"
                  R"("servers":{"new":["a","c"],"old":["a","b"]}})");
}

CAF_TEST(diff_view compares an object and a scalar whole) {
  auto view = diff_view(j(R"({"a": {"b": 1}})"), j(R"({"a": 7})"));
  CAF_CHECK_EQUAL(view.dump(), R"({"a":{"new":7,"old":{"b":1}}})");
}

CAF_TEST(diff_view of equal trees is empty) {
  auto x = j(R"({"a": {"b": [1, {"c": null}]}})");
  CAF_CHECK_EQUAL(diff_view(x, x).dump(), "{}");
  CAF_CHECK(changed_paths(x, x).empty());
}

CAF_TEST(a changed non object root has the empty path) {
  CAF_CHECK_EQUAL(diff_view(j("1"), j("2")).dump(),
                  R"({"":{"new":2,"old":1}})");
  CAF_CHECK_EQUAL(diff_view(j(R"({"a":1})"), j("[1]")).dump(),
                  R"({"":{"new":[1],"old":{"a":1}}})");
  CAF_CHECK_EQUAL(changed_paths(j("null"), j("{}")), paths{""});
}

CAF_TEST(null values count as present) {
  auto view = diff_view(j(R"({"a": null})"), j(R"({"a": 1, "b": null})"));
  CAF_CHECK_EQUAL(view.dump(),
                  R"({"a":{"new":1,"old":null},"b":{"added":null}})");
}

CAF_TEST(diff paths escape keys like config_path) {
  auto from = j(R"({"a.b": {"c[0]": 1}, "x\\y": 1})");
  auto to = j(R"({"a.b": {"c[0]": 2}})");
  CAF_CHECK_EQUAL(changed_paths(from, to),
                  (paths{"a\\.b.c\\[0]", "x\\\\y"}));
  CAF_CHECK_EQUAL(diff_view(from, to).dump(),
                  R"({"a\\.b.c\\[0]":{"new":2,"old":1},)"
                  R"("x\\\\y":{"removed":1}})");
}

CAF_TEST(changed_paths are sorted and match the diff_view keys) {
  auto from = j(R"({"a": {"b": 1, "z": 1}, "a-b": 1, "m": 1})");
  auto to = j(R"({"a": {"b": 2}, "a-b": 2, "n": 1})");
  auto changed = changed_paths(from, to);
  CAF_CHECK_EQUAL(changed, (paths{"a-b", "a.b", "a.z", "m", "n"}));
  paths keys;
  auto view = diff_view(from, to);
  for (auto& item : view.items())
    keys.push_back(item.key());
  CAF_CHECK_EQUAL(keys, changed);
}

namespace {

json paths_sample() {
  return json::parse(R"({"a": {"b": 1, "c": {"d": [1, 2], "e": "x"}},
                         "f": 2, "g": {"h": null}, "i.j": {"k": 1}})");
}

} // namespace

CAF_TEST(changed paths below roots are the full diff under those roots) {
  auto from = paths_sample();
  auto to = from;
  to["a"]["c"]["d"][1] = 3;     // inside an array: the array counts
  to["a"]["c"]["new"] = {{"z", 1}};
  to["f"] = json{{"now", "object"}}; // a scalar became an object
  to.erase("g");
  to["i.j"]["k"] = 2;           // a key with a dot
  auto full = changed_paths(from, to);
  CAF_CHECK_EQUAL(full, (std::vector<std::string>{"a.c.d", "a.c.new", "f",
                                                  "g", "i\\.j.k"}));
  // Roots as a write names them: deeper than the change, shallower, into
  // an array, through a scalar, a removed key, the root itself.
  CAF_CHECK_EQUAL(changed_paths(from, to, {"a.c.d[1]", "a.c.new.z", "f.now",
                                           "g.h", "i\\.j"}),
                  full);
  CAF_CHECK_EQUAL(changed_paths(from, to, {""}), full);
  CAF_CHECK_EQUAL(changed_paths(from, to, {"a"}),
                  (std::vector<std::string>{"a.c.d", "a.c.new"}));
  // Only what is under the roots: the rest is not looked at.
  CAF_CHECK_EQUAL(changed_paths(from, to, {"a.b", "zzz"}),
                  std::vector<std::string>{});
  CAF_CHECK_EQUAL(changed_paths(from, to, {"f", "f", "f.now"}),
                  std::vector<std::string>{"f"});
  // A root that does not parse: the full diff, never less.
  CAF_CHECK_EQUAL(changed_paths(from, to, {"a..b"}), full);
}

CAF_TEST(a patch from the changed paths turns one tree into the other) {
  auto from = paths_sample();
  auto to = from;
  to["a"]["c"]["d"] = json::array({1});
  to["a"]["b"] = 1.0; // the kind counts, as in the hash
  to["n"] = {{"new", true}};
  to.erase("f");
  to["g"]["h"] = 0;
  auto paths = changed_paths(from, to);
  auto patch = json_patch_at(from, to, paths);
  CAF_CHECK_EQUAL(patch.size(), paths.size());
  auto patched = from.patch(patch);
  CAF_CHECK_EQUAL(canonical_hash(patched), canonical_hash(to));
  // And back from the patch: the same paths.
  CAF_CHECK_EQUAL(patch_paths(patch, patched), paths);
  // A patch into arrays (as json_patch makes) names the array.
  auto full = json_patch(from, to);
  CAF_CHECK_EQUAL(patch_paths(full, from.patch(full)), paths);
  // Not a patch: everything.
  CAF_CHECK_EQUAL(patch_paths(json::object(), to), std::vector<std::string>{""});
  CAF_CHECK_EQUAL(patch_paths(json::array({json{{"op", "add"}}}), to),
                  std::vector<std::string>{""});
}

} // namespace diff_suite

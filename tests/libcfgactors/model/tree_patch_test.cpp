#define CAF_SUITE tree_patch
// A replica's patch applied to a persistent tree: the same tree as the
// patch applied to JSON, what it does not take said so, what does not apply
// refused.
#include "cfgactors_test.hpp"

#include "model/tree_patch.hpp"

#include <functional>
#include <random>
#include <string>
#include <vector>

#include "cfgactors/diff.hpp"
#include "model/config_tree.hpp"
#include "tree_parts.hpp"

namespace tree_patch_suite {

using namespace cfgactors;
using detail::tree_patch_result;

namespace {

json j(const char* text) {
  return json::parse(text);
}

/// `patch` applied to a tree of `before`: the result and the tree.
std::pair<tree_patch_result, json> patched(const json& before,
                                           const json& patch,
                                           std::vector<std::string>* paths
                                           = nullptr) {
  detail::config_tree tree{before};
  std::vector<std::string> seen;
  auto result = detail::patch_tree(tree, patch, seen);
  if (paths != nullptr)
    *paths = seen;
  return {result, tree.to_json()};
}

} // namespace

CAF_TEST(add replace and remove of members apply as on json) {
  auto before = j(R"({"a":{"b":1,"c":[1,2]},"d":"x","e.f":1})");
  auto patch = j(R"([
    {"op":"replace","path":"/a/b","value":2},
    {"op":"add","path":"/a/n","value":{"deep":true}},
    {"op":"remove","path":"/d"},
    {"op":"add","path":"/a/c","value":[3]},
    {"op":"replace","path":"/e.f","value":2},
    {"op":"add","path":"/t~1s~0","value":0}
  ])");
  std::vector<std::string> paths;
  auto [result, after] = patched(before, patch, &paths);
  CAF_CHECK(result == tree_patch_result::applied);
  CAF_CHECK_EQUAL(after, before.patch(patch));
  CAF_CHECK_EQUAL(paths, (std::vector<std::string>{"a.b", "a.c", "a.n", "d",
                                                   "e\\.f", "t/s~"}));
}

CAF_TEST(what a tree does not take is left to json) {
  auto before = j(R"({"a":{"b":1},"l":[1,2,3]})");
  for (auto patch : {R"([{"op":"move","from":"/a/b","path":"/c"}])",
                     R"([{"op":"copy","from":"/a/b","path":"/c"}])",
                     R"([{"op":"test","path":"/a/b","value":1}])",
                     R"([{"op":"add","path":"/l/1","value":9}])",
                     R"([{"op":"remove","path":"/l/0"}])",
                     R"([{"op":"replace","path":"","value":{}}])"})
    CAF_CHECK(patched(before, j(patch)).first
              == tree_patch_result::unsupported);
}

CAF_TEST(a patch that does not apply is refused) {
  auto before = j(R"({"a":{"b":1},"s":5})");
  for (auto patch : {R"([{"op":"remove","path":"/a/x"}])",
                     R"([{"op":"replace","path":"/a/x","value":1}])",
                     R"([{"op":"add","path":"/x/y","value":1}])",
                     R"([{"op":"add","path":"/s/y","value":1}])",
                     R"([{"op":"add","path":"/a/b"}])",
                     R"([{"op":"add","path":"a/b","value":1}])",
                     R"([{"op":"nope","path":"/a"}])",
                     R"([{"path":"/a"}])", R"([3])", R"({"op":"add"})"}) {
    auto result = patched(before, j(patch)).first;
    // A scalar on the way is no object: json refuses it, the tree leaves
    // it to json.
    if (std::string{patch}.find("/s/y") != std::string::npos)
      CAF_CHECK(result == tree_patch_result::unsupported);
    else
      CAF_CHECK(result == tree_patch_result::failed);
  }
}

CAF_TEST(random patches between random trees apply as on json) {
  std::mt19937 rng{20261207};
  auto pick = [&](int n) { return static_cast<int>(rng() % n); };
  const char* keys[] = {"a", "b", "c", "d.e", "f/g"};
  std::function<json(int)> value = [&](int depth) -> json {
    switch (pick(depth > 0 ? 5 : 3)) {
      case 0: return pick(3);
      case 1: return std::string(1, static_cast<char>('x' + pick(3)));
      case 2: return json::array({pick(2)});
      default: {
        auto x = json::object();
        for (int i = pick(4); i > 0; --i)
          x[keys[pick(5)]] = value(depth - 1);
        return x;
      }
    }
  };
  std::size_t applied = 0;
  for (int round = 0; round < 2000; ++round) {
    auto from = value(3);
    auto to = value(3);
    if (!from.is_object() || !to.is_object())
      continue;
    auto patch = json_patch_at(from, to, changed_paths(from, to));
    auto [result, after] = patched(from, patch);
    CAF_REQUIRE(result == tree_patch_result::applied);
    CAF_CHECK_EQUAL(after, to);
    ++applied;
  }
  CAF_CHECK_GREATER(applied, 250u);
}

CAF_TEST(the patched tree shares what the patch left alone) {
  auto cfg = json::object();
  for (int i = 0; i < 2000; ++i)
    cfg["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  detail::config_tree before{cfg};
  auto tree = before;
  std::vector<std::string> paths;
  CAF_REQUIRE(detail::patch_tree(tree,
                                 j(R"([{"op":"replace","path":"/s3/k7",
                                        "value":-1}])"),
                                 paths)
              == tree_patch_result::applied);
  CAF_CHECK_LESS_OR_EQUAL(test::parts_made(before.root(), tree.root()), 8u);
  CAF_CHECK_EQUAL(before.root().member("s4"), tree.root().member("s4"));
}

} // namespace tree_patch_suite

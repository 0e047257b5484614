// Tests for dotted paths: syntax, rendering and the tree operations.
#define CAF_SUITE path
#include "cfgactors_test.hpp"

#include "cfgactors/path.hpp"

#include <string>
#include <vector>

namespace path_suite {

using namespace cfgactors;

namespace {

config_path p(const char* text) {
  auto result = config_path::parse(text);
  CAF_REQUIRE(result.has_value());
  return *result;
}

// The parse error for `text`, or "" if it parsed.
std::string syntax_error(const char* text) {
  std::string error;
  if (config_path::parse(text, &error))
    return "";
  return error;
}

} // namespace

CAF_TEST(a path splits into keys and indices) {
  auto path = p("a.b[2].c");
  CAF_REQUIRE_EQUAL(path.segments.size(), 4u);
  CAF_CHECK(path.segments[0] == path_segment{std::string{"a"}});
  CAF_CHECK(path.segments[1] == path_segment{std::string{"b"}});
  CAF_CHECK(path.segments[2] == path_segment{std::size_t{2}});
  CAF_CHECK(path.segments[3] == path_segment{std::string{"c"}});
  CAF_CHECK_EQUAL(path.str(), "a.b[2].c");
}

CAF_TEST(a number after a dot is a key and not an index) {
  auto path = p("a.2");
  CAF_REQUIRE_EQUAL(path.segments.size(), 2u);
  CAF_CHECK(path.segments[1] == path_segment{std::string{"2"}});
  CAF_CHECK_EQUAL(path.str(), "a.2");
}

CAF_TEST(the empty text names the root) {
  auto path = p("");
  CAF_CHECK(path.empty());
  CAF_CHECK_EQUAL(path.str(), "");
}

CAF_TEST(a path may start with an index and chain indices) {
  auto path = p("[0][1].x");
  CAF_REQUIRE_EQUAL(path.segments.size(), 3u);
  CAF_CHECK(path.segments[0] == path_segment{std::size_t{0}});
  CAF_CHECK(path.segments[1] == path_segment{std::size_t{1}});
  CAF_CHECK_EQUAL(path.str(), "[0][1].x");
}

CAF_TEST(keys with dots brackets and backslashes round trip through escapes) {
  config_path path;
  path.segments = {std::string{"a.b"}, std::string{"c[0]"},
                   std::string{"d\\e"}, std::size_t{3}};
  auto text = path.str();
  CAF_CHECK_EQUAL(text, "a\\.b.c\\[0].d\\\\e[3]");
  auto back = config_path::parse(text);
  CAF_REQUIRE(back.has_value());
  CAF_CHECK(back->segments == path.segments);
}

CAF_TEST(malformed paths are rejected with a reason) {
  CAF_CHECK_EQUAL(syntax_error("a..b"), "empty key at offset 2");
  CAF_CHECK_EQUAL(syntax_error(".a"), "empty key at offset 0");
  CAF_CHECK_EQUAL(syntax_error("a."), "empty key at offset 2");
  CAF_CHECK_EQUAL(syntax_error("a[x]"),
                  "expected a non-negative integer index at offset 2");
  CAF_CHECK_EQUAL(syntax_error("a[-1]"),
                  "expected a non-negative integer index at offset 2");
  CAF_CHECK_EQUAL(syntax_error("a[1"), "expected ']' at offset 3");
  CAF_CHECK_EQUAL(syntax_error("a["),
                  "expected a non-negative integer index at offset 2");
  CAF_CHECK_EQUAL(syntax_error("a[01]"),
                  "index with a leading zero at offset 2");
  CAF_CHECK_EQUAL(syntax_error("a[0]b"),
                  "expected '.' or '[' but got 'b' at offset 4");
  CAF_CHECK_EQUAL(syntax_error("a.[0]"), "empty key at offset 2");
  CAF_CHECK_EQUAL(syntax_error("a\\"), "dangling '\\' at offset 1");
  CAF_CHECK_EQUAL(syntax_error("a\\x"), "invalid escape '\\x' at offset 1");
  CAF_CHECK_EQUAL(syntax_error("a[99999999999999999999999]"),
                  "index too large at offset 2");
  // Without an error sink the result alone reports the failure.
  CAF_CHECK(!config_path::parse("a..b").has_value());
}

CAF_TEST(find follows keys and indices and misses on the wrong kind) {
  const json root = json::parse(R"({"a": {"b": [10, {"c": "x"}]}, "s": 1})");
  auto hit = find(root, p("a.b[1].c"));
  CAF_REQUIRE(hit != nullptr);
  CAF_CHECK_EQUAL(hit->get<std::string>(), "x");
  CAF_CHECK(find(root, p("")) == &root);
  CAF_CHECK(find(root, p("a.b[2]")) == nullptr);   // out of range
  CAF_CHECK(find(root, p("a.b.0")) == nullptr);    // key into an array
  CAF_CHECK(find(root, p("a[0]")) == nullptr);     // index into an object
  CAF_CHECK(find(root, p("s.t")) == nullptr);      // through a scalar
  CAF_CHECK(find(root, p("missing")) == nullptr);
}

CAF_TEST(find on a mutable tree allows changing the node) {
  json root = json::parse(R"({"a": {"b": 1}})");
  auto hit = find(root, p("a.b"));
  CAF_REQUIRE(hit != nullptr);
  *hit = 2;
  CAF_CHECK_EQUAL(root.dump(), R"({"a":{"b":2}})");
}

CAF_TEST(assign creates intermediate objects) {
  json root = json::object();
  CAF_CHECK(assign(root, p("a.b.c"), 1));
  CAF_CHECK_EQUAL(root.dump(), R"({"a":{"b":{"c":1}}})");
  CAF_CHECK(assign(root, p("a.d"), "x"));
  CAF_CHECK_EQUAL(root.dump(), R"({"a":{"b":{"c":1},"d":"x"}})");
}

CAF_TEST(assign replaces a null intermediate with an object) {
  json root = json::parse(R"({"a": null})");
  CAF_CHECK(assign(root, p("a.b"), true));
  CAF_CHECK_EQUAL(root.dump(), R"({"a":{"b":true}})");
  json null_root;
  CAF_CHECK(assign(null_root, p("x"), 1));
  CAF_CHECK_EQUAL(null_root.dump(), R"({"x":1})");
}

CAF_TEST(assign at the root replaces the whole tree) {
  json root = json::parse(R"({"a": 1})");
  CAF_CHECK(assign(root, p(""), json::array({1, 2})));
  CAF_CHECK_EQUAL(root.dump(), "[1,2]");
}

CAF_TEST(assign across a scalar fails and leaves the tree unchanged) {
  json root = json::parse(R"({"a": {"b": 5}})");
  auto before = root;
  std::string error;
  CAF_CHECK(!assign(root, p("a.b.c"), 1, &error));
  CAF_CHECK_EQUAL(error, "cannot set key 'c' inside number at a.b");
  CAF_CHECK(root == before);
  CAF_CHECK(!assign(root, p("a.b[0]"), 1, &error));
  CAF_CHECK_EQUAL(error, "cannot index number at a.b");
  CAF_CHECK(root == before);
  // Failing late must not leave the intermediates created early.
  CAF_CHECK(!assign(root, p("x.y[3]"), 1, &error));
  CAF_CHECK_EQUAL(error, "index 3 out of range at x.y (size 0)");
  CAF_CHECK(root == before);
  // The error sink is optional.
  CAF_CHECK(!assign(root, p("a.b.c"), 1));
}

CAF_TEST(assign replaces within range appends at the size and fails beyond) {
  json root = json::parse(R"({"l": [1, 2]})");
  CAF_CHECK(assign(root, p("l[0]"), 10));
  CAF_CHECK(assign(root, p("l[2]"), 3));
  CAF_CHECK_EQUAL(root.dump(), R"({"l":[10,2,3]})");
  std::string error;
  CAF_CHECK(!assign(root, p("l[5]"), 6, &error));
  CAF_CHECK_EQUAL(error, "index 5 out of range at l (size 3)");
  CAF_CHECK_EQUAL(root.dump(), R"({"l":[10,2,3]})");
  CAF_CHECK(!assign(root, p("l[1].x"), 1, &error));
  CAF_CHECK_EQUAL(error, "cannot set key 'x' inside number at l[1]");
  CAF_CHECK(assign(root, p("l[1]"), nullptr));
  CAF_CHECK(assign(root, p("l[1].x"), 1));
  CAF_CHECK_EQUAL(root.dump(), R"({"l":[10,{"x":1},3]})");
}

CAF_TEST(assign through a missing node with index zero creates an array) {
  json root = json::object();
  CAF_CHECK(assign(root, p("servers[0].host"), "h1"));
  CAF_CHECK(assign(root, p("servers[1].host"), "h2"));
  CAF_CHECK_EQUAL(root.dump(),
                  R"({"servers":[{"host":"h1"},{"host":"h2"}]})");
}

CAF_TEST(assign rejects a key into an array and an index into an object) {
  json root = json::parse(R"({"l": [1], "o": {}})");
  std::string error;
  CAF_CHECK(!assign(root, p("l.x"), 1, &error));
  CAF_CHECK_EQUAL(error, "cannot set key 'x' inside array at l");
  CAF_CHECK(!assign(root, p("o[0]"), 1, &error));
  CAF_CHECK_EQUAL(error, "cannot index object at o");
}

CAF_TEST(erase removes keys and array elements) {
  json root = json::parse(R"({"a": {"b": 1, "c": 2}, "l": [1, 2, 3]})");
  CAF_CHECK(erase(root, p("a.b")));
  CAF_CHECK(erase(root, p("l[1]")));
  CAF_CHECK_EQUAL(root.dump(), R"({"a":{"c":2},"l":[1,3]})");
  CAF_CHECK(!erase(root, p("a.b")));
  CAF_CHECK(!erase(root, p("l[2]")));
  CAF_CHECK(!erase(root, p("x.y")));
  CAF_CHECK(!erase(root, p("a.c.d")));
  CAF_CHECK(!erase(root, p("")));
  CAF_CHECK_EQUAL(root.dump(), R"({"a":{"c":2},"l":[1,3]})");
}

CAF_TEST(path_within respects segment boundaries) {
  CAF_CHECK(path_within("logging.level", "logging"));
  CAF_CHECK(path_within("logging.level", ""));
  CAF_CHECK(path_within("", ""));
  CAF_CHECK(path_within("logging", "logging"));
  CAF_CHECK(path_within("a[0].b", "a"));
  CAF_CHECK(path_within("a[0].b", "a[0]"));
  CAF_CHECK(!path_within("logging2", "logging"));
  CAF_CHECK(!path_within("logging", "logging.level"));
  CAF_CHECK(!path_within("log", "logging"));
  CAF_CHECK(!path_within("", "logging"));
  // An escaped dot belongs to the key: key "a.b" is not below key "a".
  CAF_CHECK(!path_within("a\\.b", "a"));
  CAF_CHECK(path_within("a\\\\.b", "a\\\\"));
  CAF_CHECK(!path_within("a\\.b", "a\\"));
}

CAF_TEST(nesting depth counts containers and ignores scalars) {
  CAF_CHECK_EQUAL(nesting_depth(json(1)), 0u);
  CAF_CHECK_EQUAL(nesting_depth(json::object()), 1u);
  CAF_CHECK_EQUAL(nesting_depth(json::parse("[[1]]")), 2u);
  CAF_CHECK_EQUAL(nesting_depth(json::parse(R"({"a": [{}], "b": 1})")), 3u);
  CAF_CHECK_EQUAL(nesting_depth(json::parse(R"([1, [2, [3]], {}])")), 3u);
}

CAF_TEST(nesting depth handles one hundred thousand levels) {
  json deep = 1;
  for (int i = 0; i < 100000; ++i) {
    json outer = json::array();
    outer.push_back(std::move(deep));
    deep = std::move(outer);
  }
  CAF_CHECK_EQUAL(nesting_depth(deep), 100000u);
}

} // namespace path_suite

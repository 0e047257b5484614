#define CAF_SUITE flag_context
// Tests for flag_context, the attributes a flag is evaluated for: a lookup
// finds exactly the name asked for, whatever its length, including names and
// values that differ from another in one byte only (the lookup compares
// words at a time); set replaces or inserts in any order; a list keeps the
// first of a repeated name; past a handful of attributes the lookup searches
// by halves and still finds each one. Rules comparing text (eq, in, not_in)
// go through the same comparison and are checked the same way.
#include "cfgactors_test.hpp"

#include <algorithm>
#include <random>
#include <string>
#include <vector>

#include "cfgactors/flag_context.hpp"
#include "cfgactors/flags.hpp"
#include "cfgactors/snapshot.hpp"

namespace flag_context_suite {

using namespace cfgactors;

namespace {

/// `n` bytes of varied text.
std::string text_of(std::size_t n, char seed) {
  std::string out;
  for (std::size_t i = 0; i < n; ++i)
    out += static_cast<char>('a' + (seed + i * 7) % 26);
  return out;
}

/// `x` with its byte at `at` changed.
std::string changed_at(std::string x, std::size_t at) {
  x[at] = x[at] == 'z' ? 'y' : static_cast<char>(x[at] + 1);
  return x;
}

} // namespace

CAF_TEST(a lookup tells apart names that differ in one byte at any place) {
  // Lengths around the word boundaries of the comparison (8 and 16) and
  // past them; one attribute alone and among others of the same length.
  for (std::size_t n = 1; n <= 40; ++n) {
    auto name = text_of(n, 3);
    for (std::size_t at = 0; at < n; ++at) {
      auto other = changed_at(name, at);
      flag_context alone{{name, "v"}};
      CAF_CHECK(alone.find(other) == nullptr);
      CAF_REQUIRE(alone.find(name) != nullptr);
      CAF_CHECK_EQUAL(*alone.find(name), "v");
      flag_context both{{name, "mine"}, {other, "theirs"}};
      CAF_REQUIRE(both.find(name) != nullptr);
      CAF_REQUIRE(both.find(other) != nullptr);
      CAF_CHECK_EQUAL(*both.find(name), "mine");
      CAF_CHECK_EQUAL(*both.find(other), "theirs");
    }
    // A prefix or an extension of the name is another name.
    flag_context ctx{{name, "v"}};
    CAF_CHECK(ctx.find(name.substr(0, n - 1)) == nullptr);
    CAF_CHECK(ctx.find(name + "a") == nullptr);
  }
  flag_context empty_name{{"", "anonymous"}};
  CAF_REQUIRE(empty_name.find("") != nullptr);
  CAF_CHECK_EQUAL(*empty_name.find(""), "anonymous");
  CAF_CHECK(empty_name.find("a") == nullptr);
  CAF_CHECK(flag_context{}.find("") == nullptr);
}

CAF_TEST(set inserts in any order and replaces a value) {
  flag_context ctx;
  ctx.set("user", "1").set("country", "DE").set("tenant", "acme");
  ctx.set("app_version", "2.0.0").set("country", "FR");
  CAF_CHECK_EQUAL(ctx.size(), 4u);
  CAF_CHECK_EQUAL(*ctx.find("country"), "FR");
  CAF_CHECK_EQUAL(*ctx.find("user"), "1");
  std::vector<std::string> names;
  for (auto& [name, value] : ctx)
    names.push_back(name);
  CAF_CHECK_EQUAL(names, (std::vector<std::string>{"app_version", "country",
                                                   "tenant", "user"}));
}

CAF_TEST(a list keeps the first value of a repeated name) {
  flag_context ctx{{"tenant", "acme"}, {"user", "1"}, {"tenant", "globex"}};
  CAF_CHECK_EQUAL(ctx.size(), 2u);
  CAF_CHECK_EQUAL(*ctx.find("tenant"), "acme");
}

CAF_TEST(many attributes are each found and nothing else is) {
  // More than a scan covers: the lookup searches by halves. Set in a
  // shuffled order, each replaced once.
  std::vector<std::string> names;
  for (std::size_t i = 0; i < 200; ++i)
    names.push_back(text_of(1 + i % 23, static_cast<char>(i)) + "."
                    + std::to_string(i));
  std::mt19937 rng{42};
  std::shuffle(names.begin(), names.end(), rng);
  flag_context ctx;
  for (auto& name : names)
    ctx.set(name, "old");
  for (auto& name : names)
    ctx.set(name, name + "=v");
  CAF_CHECK_EQUAL(ctx.size(), names.size());
  for (auto& name : names) {
    CAF_REQUIRE(ctx.find(name) != nullptr);
    CAF_CHECK_EQUAL(*ctx.find(name), name + "=v");
    auto other = changed_at(name, name.size() - 1);
    if (std::count(names.begin(), names.end(), other) == 0)
      CAF_CHECK(ctx.find(other) == nullptr);
    CAF_CHECK(ctx.find(name + "x") == nullptr);
  }
  CAF_CHECK(std::is_sorted(ctx.begin(), ctx.end()));
}

CAF_TEST(text rules match values that differ in one byte only when equal) {
  // eq, in and not_in compare the attribute with each value as the lookup
  // compares names; a value one byte off must not count as equal.
  for (std::size_t n = 1; n <= 24; ++n) {
    auto value = text_of(n, 5);
    for (std::size_t at = 0; at < n; ++at) {
      auto other = changed_at(value, at);
      auto config = json::parse(R"({"features": {
        "eq":     {"rules": [{"attribute": "a", "op": "eq", "values": [""]}],
                   "rollout": 0},
        "in":     {"rules": [{"attribute": "a", "op": "in",
                              "values": ["", "-"]}], "rollout": 0},
        "not_in": {"rules": [{"attribute": "a", "op": "not_in",
                              "values": [""]}], "rollout": 0}}})");
      for (auto name : {"eq", "in", "not_in"})
        config["features"][name]["rules"][0]["values"][0] = other;
      feature_flags flags{config};
      flag_context same{{"a", other}};
      flag_context off_by_one{{"a", value}};
      CAF_CHECK(flags.enabled("eq", same));
      CAF_CHECK(!flags.enabled("eq", off_by_one));
      CAF_CHECK(flags.enabled("in", same));
      CAF_CHECK(!flags.enabled("in", off_by_one));
      CAF_CHECK(!flags.enabled("not_in", same));
      CAF_CHECK(flags.enabled("not_in", off_by_one));
    }
  }
}

} // namespace flag_context_suite

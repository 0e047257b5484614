// Tests for secret path patterns: masking trees, patches and diff views,
// visiting secret values, and the paths a JSON Schema marks secret.
#define CAF_SUITE secrets
#include "cfgactors_test.hpp"

#include "cfgactors/diff.hpp"
#include "cfgactors/secrets.hpp"
#include "cfgactors/snapshot.hpp"

#include <algorithm>
#include <map>
#include <memory>
#include <string>
#include <vector>

namespace secrets_suite {

using namespace cfgactors;

namespace {

json j(const char* text) {
  return json::parse(text);
}

using strings = std::vector<std::string>;

config_path p(const char* text) {
  auto result = config_path::parse(text);
  if (!result)
    CAF_FAIL("bad path in the test: " << text);
  return *result;
}

/// `tree` masked with `patterns` (at the root unless `at` is given).
json masked(const strings& patterns, json tree, const char* at = "") {
  secret_paths{patterns}.mask(tree, p(at));
  return tree;
}

/// `path -> value` of every secret `for_each` visits in `tree`.
std::map<std::string, json> visited(const secret_paths& secrets,
                                    const json& tree) {
  std::map<std::string, json> out;
  secrets.for_each(tree, [&](const config_path& at, const json& value) {
    auto [_, fresh] = out.emplace(at.str(), value);
    if (!fresh)
      CAF_FAIL("visited twice: " << at.str());
  });
  return out;
}

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

} // namespace

// -- parsing and matching ---------------------------------------------------

CAF_TEST(patterns are sorted and unique and bad ones are named) {
  strings errors;
  secret_paths s{{"tenants.*.key", "db.password", "a..b", "db.password"},
                 &errors};
  CAF_CHECK_EQUAL(s.patterns(), (strings{"db.password", "tenants.*.key"}));
  CAF_CHECK(!s.empty());
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK(contains(errors[0], "a..b"));
  CAF_CHECK(secret_paths{}.empty());
  CAF_CHECK(secret_paths{{"x[y]"}}.empty());
  CAF_CHECK(secret_paths({"b", "a"}) == secret_paths({"a", "b", "a"}));
}

CAF_TEST(covers is true at a secret and below it only) {
  secret_paths s{{"db.password", "tenants.*.key", "servers[1].token"}};
  CAF_CHECK(s.covers(p("db.password")));
  CAF_CHECK(s.covers(p("db.password.inner")));
  CAF_CHECK(s.covers(p("db.password[3]")));
  CAF_CHECK(!s.covers(p("db")));
  CAF_CHECK(!s.covers(p("")));
  CAF_CHECK(!s.covers(p("db.passwordx")));
  CAF_CHECK(!s.covers(p("db.host")));
  CAF_CHECK(s.covers(p("tenants.acme.key")));
  CAF_CHECK(s.covers(p("tenants[0].key")));
  CAF_CHECK(s.covers(p("tenants.acme.key.part")));
  CAF_CHECK(!s.covers(p("tenants.acme")));
  CAF_CHECK(!s.covers(p("tenants.acme.name")));
  CAF_CHECK(s.covers(p("servers[1].token")));
  CAF_CHECK(!s.covers(p("servers[0].token")));
  // `servers.1` names a key "1", not an index; still covered, as JSON
  // pointers name indexes as text (`/servers/1/token`).
  CAF_CHECK(s.covers(p("servers.1.token")));
  CAF_CHECK(!s.covers(p("servers.0.token")));
  CAF_CHECK(!secret_paths{}.covers(p("db.password")));
}

// -- mask ---------------------------------------------------------------------

CAF_TEST(an exact path masks that value and nothing else) {
  auto tree = j(R"({"db": {"host": "h", "password": "pw-1", "port": 5432},
                    "password": "top-level", "dbx": {"password": "other"}})");
  CAF_CHECK_EQUAL(masked({"db.password"}, tree),
                  j(R"({"db": {"host": "h", "password": "***", "port": 5432},
                        "password": "top-level",
                        "dbx": {"password": "other"}})"));
  CAF_CHECK_EQUAL(std::string{masked_value}, "***");
  // Any kind of value is masked, not only strings.
  CAF_CHECK_EQUAL(masked({"n"}, j(R"({"n": 12345, "m": 1})")),
                  j(R"({"n": "***", "m": 1})"));
  CAF_CHECK_EQUAL(masked({"n"}, j(R"({"n": null})")), j(R"({"n": "***"})"));
  CAF_CHECK_EQUAL(masked({"n"}, j(R"({"n": [1, 2]})")), j(R"({"n": "***"})"));
}

CAF_TEST(nested secrets are masked at every depth) {
  auto tree = j(R"({"db": {"password": "a", "replica": {"password": "b",
                    "host": "r"}}, "api": {"v1": {"auth": {"key": "c"}}}})");
  CAF_CHECK_EQUAL(masked({"db.password", "db.replica.password",
                          "api.v1.auth.key"},
                         tree),
                  j(R"({"db": {"password": "***", "replica": {"password":
                        "***", "host": "r"}}, "api": {"v1": {"auth": {"key":
                        "***"}}}})"));
  // An outer secret hides the inner one with it.
  CAF_CHECK_EQUAL(masked({"db", "db.replica.password"}, tree),
                  j(R"({"db": "***", "api": {"v1": {"auth": {"key": "c"}}}})"));
}

CAF_TEST(a star matches every key of an object) {
  auto tree = j(R"({"tenants": {"acme": {"key": "k1", "name": "Acme"},
                                "beta": {"key": "k2"},
                                "gamma": {"name": "no key"},
                                "delta": "a scalar"}})");
  CAF_CHECK_EQUAL(masked({"tenants.*.key"}, tree),
                  j(R"({"tenants": {"acme": {"key": "***", "name": "Acme"},
                                    "beta": {"key": "***"},
                                    "gamma": {"name": "no key"},
                                    "delta": "a scalar"}})"));
  // A star at the end masks every child; at the start every top level key.
  CAF_CHECK_EQUAL(masked({"tenants.*"}, tree),
                  j(R"({"tenants": {"acme": "***", "beta": "***",
                                    "gamma": "***", "delta": "***"}})"));
  CAF_CHECK_EQUAL(masked({"*.acme.key"}, tree),
                  j(R"({"tenants": {"acme": {"key": "***", "name": "Acme"},
                                    "beta": {"key": "k2"},
                                    "gamma": {"name": "no key"},
                                    "delta": "a scalar"}})"));
  // A star and a named key next to each other.
  CAF_CHECK_EQUAL(masked({"tenants.*.name", "tenants.beta.key"}, tree),
                  j(R"({"tenants": {"acme": {"key": "k1", "name": "***"},
                                    "beta": {"key": "***"},
                                    "gamma": {"name": "***"},
                                    "delta": "a scalar"}})"));
}

CAF_TEST(a star matches every index of an array and an index one) {
  auto tree = j(R"({"servers": [{"host": "a", "password": "p0"},
                                {"host": "b", "password": "p1"},
                                {"host": "c"}, 7]})");
  CAF_CHECK_EQUAL(masked({"servers.*.password"}, tree),
                  j(R"({"servers": [{"host": "a", "password": "***"},
                                    {"host": "b", "password": "***"},
                                    {"host": "c"}, 7]})"));
  CAF_CHECK_EQUAL(masked({"servers[1].password"}, tree),
                  j(R"({"servers": [{"host": "a", "password": "p0"},
                                    {"host": "b", "password": "***"},
                                    {"host": "c"}, 7]})"));
  auto last = masked({"servers[3]"}, tree);
  CAF_CHECK_EQUAL(last["servers"][3], "***");
  CAF_CHECK_EQUAL(last["servers"][2], tree["servers"][2]);
  CAF_CHECK_EQUAL(masked({"servers[9]"}, tree), tree);
  CAF_CHECK_EQUAL(masked({"servers.*"}, j(R"({"servers": [1, [2], {}]})")),
                  j(R"({"servers": ["***", "***", "***"]})"));
  // Arrays in arrays.
  CAF_CHECK_EQUAL(masked({"m.*.*"}, j(R"({"m": [[1, 2], [3]]})")),
                  j(R"({"m": [["***", "***"], ["***"]]})"));
}

CAF_TEST(a secret path that names an object masks the whole object) {
  auto tree = j(R"({"db": {"password": "pw", "nested": {"deep": [1, 2]}},
                    "x": 1})");
  auto out = masked({"db"}, tree);
  CAF_CHECK_EQUAL(out, j(R"({"db": "***", "x": 1})"));
  CAF_CHECK(!contains(out.dump(), "pw"));
  CAF_CHECK_EQUAL(masked({"tenants.*"}, j(R"({"tenants": {"a": {"k": 1}}})")),
                  j(R"({"tenants": {"a": "***"}})"));
}

CAF_TEST(mask at a place inside at or above a secret) {
  secret_paths s{{"db.password", "tenants.*.key"}};
  // At the secret itself, and inside it: the whole value.
  json v = "pw";
  s.mask(v, p("db.password"));
  CAF_CHECK_EQUAL(v, "***");
  v = j(R"({"part": "pw"})");
  s.mask(v, p("db.password"));
  CAF_CHECK_EQUAL(v, "***");
  v = "pw";
  s.mask(v, p("db.password.part"));
  CAF_CHECK_EQUAL(v, "***");
  v = "k";
  s.mask(v, p("tenants.acme.key"));
  CAF_CHECK_EQUAL(v, "***");
  // Above it: only what lies at the secret path.
  v = j(R"({"password": "pw", "host": "h"})");
  s.mask(v, p("db"));
  CAF_CHECK_EQUAL(v, j(R"({"password": "***", "host": "h"})"));
  v = j(R"({"key": "k", "name": "n"})");
  s.mask(v, p("tenants.acme"));
  CAF_CHECK_EQUAL(v, j(R"({"key": "***", "name": "n"})"));
  v = j(R"({"acme": {"key": "k"}, "beta": {"name": "n"}})");
  s.mask(v, p("tenants"));
  CAF_CHECK_EQUAL(v, j(R"({"acme": {"key": "***"}, "beta": {"name": "n"}})"));
  // Beside it: nothing.
  v = j(R"({"password": "not a secret here"})");
  auto before = v.dump();
  s.mask(v, p("cache"));
  CAF_CHECK_EQUAL(v.dump(), before);
  v = "h";
  s.mask(v, p("db.host"));
  CAF_CHECK_EQUAL(v, "h");
  // Keys and indexes of `at` count as they do in the tree.
  secret_paths idx{{"servers[1].password"}};
  v = j(R"({"password": "p1"})");
  idx.mask(v, p("servers[1]"));
  CAF_CHECK_EQUAL(v, j(R"({"password": "***"})"));
  v = j(R"({"password": "p0"})");
  idx.mask(v, p("servers[0]"));
  CAF_CHECK_EQUAL(v, j(R"({"password": "p0"})"));
}

CAF_TEST(patterns that match nothing leave the tree byte identical) {
  auto text = R"({"db":{"host":"h","port":5432,"opts":[1,2,{"password":"x"}]},)"
              R"("tenants":["a",{"key":"k"}],"u":"\u00e9\n","n":null,)"
              R"("f":1.5,"z":{}})";
  auto tree = j(text);
  auto before = tree.dump();
  for (auto& patterns :
       {strings{}, strings{"nope"}, strings{"db.password"},
        strings{"db.port.inner"},     // through a scalar
        strings{"tenants.acme.key"},  // a key into an array
        strings{"db.opts.password"},  // a key into an array
        strings{"db[0]"},             // an index into an object
        strings{"z.*"},               // a star over an empty object
        strings{"db.opts[7]"},        // out of range
        strings{"u.*", "n.*", "f.*"}, // stars below scalars
        strings{"*.*.*.*.*"}}) {
    auto copy = tree;
    secret_paths{patterns}.mask(copy);
    CAF_CHECK_EQUAL(copy.dump(), before);
    CAF_CHECK(!secret_paths{patterns}.any_in(tree));
  }
  // A scalar root with secrets that lead below it.
  json scalar = "plain";
  secret_paths{{"db.password"}}.mask(scalar);
  CAF_CHECK_EQUAL(scalar, "plain");
}

CAF_TEST(mask leaves a tree without secrets to the empty set alone) {
  auto tree = j(R"({"db": {"password": "pw"}})");
  secret_paths none;
  none.mask(tree);
  CAF_CHECK_EQUAL(tree, j(R"({"db": {"password": "pw"}})"));
  none.mask(tree, p("db.password"));
  CAF_CHECK_EQUAL(tree, j(R"({"db": {"password": "pw"}})"));
}

CAF_TEST(keys with dots and brackets are matched by their escaped pattern) {
  auto tree = j(R"({"a.b": {"c[0]": "s1", "d": 1},
                    "a": {"b": {"c[0]": "s2"}}})");
  CAF_CHECK_EQUAL(masked({R"(a\.b.c\[0])"}, tree),
                  j(R"({"a.b": {"c[0]": "***", "d": 1},
                        "a": {"b": {"c[0]": "s2"}}})"));
}

// -- mask_patch ---------------------------------------------------------------

CAF_TEST(mask_patch masks values at and below secrets named by pointers) {
  secret_paths s{{"db.password", "a/b.c", "m~n.key", "servers.*.password",
                  "list[1]"}};
  auto patch = j(R"([
    {"op": "replace", "path": "/db/password", "value": "new-pw"},
    {"op": "add", "path": "/db", "value": {"password": "pw2", "host": "h"}},
    {"op": "add", "path": "/a~1b/c", "value": "slash-secret"},
    {"op": "add", "path": "/a~1b", "value": {"c": "slash2", "d": 1}},
    {"op": "add", "path": "/m~0n/key", "value": "tilde-secret"},
    {"op": "add", "path": "/m~0n", "value": {"key": "tilde2", "other": 2}},
    {"op": "add", "path": "/servers/1/password", "value": "srv-pw"},
    {"op": "add", "path": "/servers/1", "value": {"password": "srv2", "h": 1}},
    {"op": "replace", "path": "/servers", "value": [{"password": "s3"}, {}]},
    {"op": "replace", "path": "/list/1", "value": "l1"},
    {"op": "replace", "path": "/list/0", "value": "l0"},
    {"op": "replace", "path": "/list", "value": ["x0", "x1"]},
    {"op": "remove", "path": "/db/password"},
    {"op": "replace", "path": "/db/host", "value": "visible"},
    {"op": "add", "path": "/a~1b/d", "value": "visible-too"}
  ])");
  s.mask_patch(patch);
  CAF_CHECK_EQUAL(patch, j(R"([
    {"op": "replace", "path": "/db/password", "value": "***"},
    {"op": "add", "path": "/db", "value": {"password": "***", "host": "h"}},
    {"op": "add", "path": "/a~1b/c", "value": "***"},
    {"op": "add", "path": "/a~1b", "value": {"c": "***", "d": 1}},
    {"op": "add", "path": "/m~0n/key", "value": "***"},
    {"op": "add", "path": "/m~0n", "value": {"key": "***", "other": 2}},
    {"op": "add", "path": "/servers/1/password", "value": "***"},
    {"op": "add", "path": "/servers/1", "value": {"password": "***", "h": 1}},
    {"op": "replace", "path": "/servers", "value": [{"password": "***"}, {}]},
    {"op": "replace", "path": "/list/1", "value": "***"},
    {"op": "replace", "path": "/list/0", "value": "l0"},
    {"op": "replace", "path": "/list", "value": ["x0", "***"]},
    {"op": "remove", "path": "/db/password"},
    {"op": "replace", "path": "/db/host", "value": "visible"},
    {"op": "add", "path": "/a~1b/d", "value": "visible-too"}
  ])"));
}

CAF_TEST(mask_patch decodes escapes in the right order) {
  // "~01" is "~1" (a tilde, then a one), not "/": RFC 6901 decodes ~1 first.
  secret_paths s{{"x~1.k"}};
  auto patch = j(R"([{"op": "add", "path": "/x~01/k", "value": "s"},
                     {"op": "add", "path": "/x~1/k", "value": "not-secret"}])");
  s.mask_patch(patch);
  CAF_CHECK_EQUAL(patch[0]["value"], "***");
  CAF_CHECK_EQUAL(patch[1]["value"], "not-secret");
}

CAF_TEST(mask_patch masks the whole tree at the root pointer) {
  secret_paths s{{"db.password"}};
  auto patch = j(R"([{"op": "replace", "path": "",
                      "value": {"db": {"password": "pw", "host": "h"}}}])");
  s.mask_patch(patch);
  CAF_CHECK_EQUAL(patch[0]["value"],
                  j(R"({"db": {"password": "***", "host": "h"}})"));
}

CAF_TEST(mask_patch shows nothing of a value at a place it cannot read) {
  secret_paths s{{"db.password"}};
  auto patch = j(R"([{"op": "add", "path": "db/password", "value": "pw"},
                     {"op": "add", "path": 7, "value": "pw2"},
                     "not an op",
                     {"op": "test", "value": "no path"}])");
  auto untouched = patch[1];
  s.mask_patch(patch);
  CAF_CHECK_EQUAL(patch[0]["value"], "***");
  // Not a pointer at all, or no path: left as is (json_patch never writes
  // such operations).
  CAF_CHECK_EQUAL(patch[1], untouched);
  CAF_CHECK_EQUAL(patch[2], "not an op");
  // Not an array: nothing to do.
  auto obj = j(R"({"path": "/db/password", "value": "pw"})");
  s.mask_patch(obj);
  CAF_CHECK_EQUAL(obj["value"], "pw");
  // No secrets: untouched.
  auto plain = j(R"([{"op": "add", "path": "db/password", "value": "pw"}])");
  secret_paths{}.mask_patch(plain);
  CAF_CHECK_EQUAL(plain[0]["value"], "pw");
}

CAF_TEST(a patch from json_patch masked hides every changed secret) {
  auto from = j(R"({"db": {"password": "OLD-secret-value", "host": "a"},
                    "tenants": {"t1": {"key": "OLD-key"}}})");
  auto to = j(R"({"db": {"password": "NEW-secret-value", "host": "b"},
                  "tenants": {"t1": {"key": "NEW-key"},
                              "t2": {"key": "ADDED-key", "name": "two"}}})");
  auto patch = json_patch(from, to);
  CAF_REQUIRE(contains(patch.dump(), "NEW-secret-value"));
  secret_paths{{"db.password", "tenants.*.key"}}.mask_patch(patch);
  auto text = patch.dump();
  CAF_CHECK(!contains(text, "secret-value"));
  CAF_CHECK(!contains(text, "-key\""));
  CAF_CHECK(contains(text, "\"b\""));
  CAF_CHECK(contains(text, "two"));
}

// -- mask_view ----------------------------------------------------------------

CAF_TEST(mask_view masks old and new and added and removed values) {
  secret_paths s{{"db.password", "tenants.*.key"}};
  auto view = j(R"({
    "db.password": {"old": "old-pw", "new": "new-pw"},
    "db.host": {"old": "a", "new": "b"},
    "tenants.t2": {"added": {"key": "added-key", "name": "two"}},
    "tenants.t1.key": {"removed": "removed-key"},
    "tenants": {"old": {"t1": {"key": "k1"}}, "new": 5},
    "db": {"removed": {"password": "gone-pw", "host": "h"}}
  })");
  s.mask_view(view);
  CAF_CHECK_EQUAL(view, j(R"({
    "db.password": {"old": "***", "new": "***"},
    "db.host": {"old": "a", "new": "b"},
    "tenants.t2": {"added": {"key": "***", "name": "two"}},
    "tenants.t1.key": {"removed": "***"},
    "tenants": {"old": {"t1": {"key": "***"}}, "new": 5},
    "db": {"removed": {"password": "***", "host": "h"}}
  })"));
}

CAF_TEST(mask_view on a diff_view hides both values of a changed secret) {
  auto from = j(R"({"db": {"password": "OLD-pw-1234", "host": "a"},
                    "servers": [{"password": "srv-OLD"}]})");
  auto to = j(R"({"db": {"password": "NEW-pw-5678", "host": "b"},
                  "servers": [{"password": "srv-NEW"}],
                  "extra": {"db": {"password": "not-a-secret"}}})");
  auto view = diff_view(from, to);
  CAF_REQUIRE(contains(view.dump(), "OLD-pw-1234"));
  secret_paths{{"db.password", "servers.*.password"}}.mask_view(view);
  auto text = view.dump();
  CAF_MESSAGE("masked view: " << text);
  for (auto secret : {"OLD-pw-1234", "NEW-pw-5678", "srv-OLD", "srv-NEW"})
    CAF_CHECK(!contains(text, secret));
  CAF_CHECK(contains(text, "not-a-secret"));
  CAF_CHECK_EQUAL(view["db.host"], j(R"({"old": "a", "new": "b"})"));
}

CAF_TEST(mask_view masks entries whose key is not a path) {
  secret_paths s{{"db.password"}};
  auto view = j(R"({"a..b": {"old": 1, "new": 2}, "ok": {"old": 1, "new": 2},
                    "odd": 5})");
  s.mask_view(view);
  CAF_CHECK_EQUAL(view, j(R"({"a..b": {"old": "***", "new": "***"},
                              "ok": {"old": 1, "new": 2}, "odd": 5})"));
  // Not an object, or no secrets: untouched.
  auto list = j(R"([{"old": "pw"}])");
  s.mask_view(list);
  CAF_CHECK_EQUAL(list, j(R"([{"old": "pw"}])"));
  auto plain = j(R"({"db.password": {"old": "pw", "new": "pw2"}})");
  secret_paths{}.mask_view(plain);
  CAF_CHECK_EQUAL(plain["db.password"]["new"], "pw2");
}

// -- for_each and any_in ------------------------------------------------------

CAF_TEST(for_each visits exactly the secret values) {
  secret_paths s{{"db.password", "tenants.*.key", "servers.*.password",
                  "servers[0].token", "missing.value", "whole"}};
  auto tree = j(R"({
    "db": {"password": "pw", "host": "h"},
    "tenants": {"a": {"key": "ka"}, "b": {"name": "nb"}, "c": {"key": null}},
    "servers": [{"password": "s0", "token": "t0"}, {"password": "s1",
                 "token": "t1"}, "scalar"],
    "whole": {"x": [1, 2]},
    "other": {"password": "not secret"}
  })");
  auto seen = visited(s, tree);
  std::map<std::string, json> expected{
    {"db.password", "pw"},          {"tenants.a.key", "ka"},
    {"tenants.c.key", nullptr},     {"servers[0].password", "s0"},
    {"servers[1].password", "s1"},  {"servers[0].token", "t0"},
    {"whole", j(R"({"x": [1, 2]})")}};
  CAF_CHECK_EQUAL(seen, expected);
  CAF_CHECK(s.any_in(tree));
  CAF_CHECK(!s.any_in(j(R"({"db": {"host": "h"}, "tenants": {}})")));
  CAF_CHECK(visited(secret_paths{}, tree).empty());
  CAF_CHECK(!secret_paths{}.any_in(tree));
}

CAF_TEST(for_each on a mutable tree may change the secret values) {
  secret_paths s{{"db.password", "tenants.*.key"}};
  auto tree = j(R"({"db": {"password": "pw", "host": "h"},
                    "tenants": {"a": {"key": "ka"}, "b": {"key": "kb"}}})");
  std::vector<std::string> paths;
  s.for_each(tree, [&](const config_path& at, json& value) {
    paths.push_back(at.str());
    value = "sealed(" + value.get<std::string>() + ")";
  });
  CAF_CHECK_EQUAL(paths, (strings{"db.password", "tenants.a.key",
                                  "tenants.b.key"}));
  CAF_CHECK_EQUAL(tree, j(R"js({"db": {"password": "sealed(pw)", "host": "h"},
                              "tenants": {"a": {"key": "sealed(ka)"},
                                          "b": {"key": "sealed(kb)"}}})js"));
}

CAF_TEST(a pattern and one below it are visited once at the outer one) {
  secret_paths s{{"db", "db.password"}};
  auto tree = j(R"({"db": {"password": "pw"}})");
  auto seen = visited(s, tree);
  CAF_REQUIRE_EQUAL(seen.size(), 1u);
  CAF_CHECK_EQUAL(seen.begin()->first, "db");
}

// -- with ---------------------------------------------------------------------

CAF_TEST(with returns the same set when nothing new is added) {
  auto base = secret_paths::with(nullptr, {"db.password"});
  CAF_REQUIRE(base != nullptr);
  CAF_CHECK_EQUAL(base->patterns(), (strings{"db.password"}));
  CAF_CHECK_EQUAL(secret_paths::with(base, {}), base);
  CAF_CHECK_EQUAL(secret_paths::with(base, {"db.password"}), base);
  CAF_CHECK_EQUAL(secret_paths::with(base, {"db.password", "db.password"}),
                  base);
  // A pattern that does not parse adds nothing either.
  CAF_CHECK_EQUAL(secret_paths::with(base, {"a..b"}), base);
  CAF_CHECK(secret_paths::with(nullptr, {}) == nullptr);
  CAF_CHECK(secret_paths::with(nullptr, {"a..b"}) == nullptr);
  // Something new: a new set, the old one unchanged.
  auto more = secret_paths::with(base, {"tenants.*.key", "db.password"});
  CAF_REQUIRE(more != nullptr);
  CAF_CHECK(more != base);
  CAF_CHECK_EQUAL(more->patterns(), (strings{"db.password", "tenants.*.key"}));
  CAF_CHECK_EQUAL(base->patterns(), (strings{"db.password"}));
  CAF_CHECK_EQUAL(secret_paths::with(more, {"tenants.*.key"}), more);
  // Duplicates in `more` alone.
  auto twice = secret_paths::with(nullptr, {"x", "x"});
  CAF_REQUIRE(twice != nullptr);
  CAF_CHECK_EQUAL(twice->patterns(), (strings{"x"}));
}

// -- snapshots ----------------------------------------------------------------

CAF_TEST(a snapshot shows its secrets masked unless asked for them) {
  layer_stack layers;
  layers.put("file:a.yaml", j(R"({"db": {"password": "pw", "host": "h"}})"));
  auto effective = layers.effective();
  auto secrets = secret_paths::with(nullptr, {"db.password"});
  auto snap = snapshot::make(1, "test", layers, effective, 0, secrets);
  CAF_CHECK_EQUAL(snap->secrets, secrets);
  CAF_CHECK_EQUAL(snap->shown(true), effective);
  CAF_CHECK_EQUAL(snap->shown(false),
                  j(R"({"db": {"password": "***", "host": "h"}})"));
  CAF_CHECK_EQUAL(*snap->effective, effective);
  // The hash is that of the real tree.
  auto plain = snapshot::make(1, "test", layers, effective, 0);
  CAF_CHECK_EQUAL(snap->hash, plain->hash);
  CAF_CHECK(plain->secrets == nullptr);
  CAF_CHECK_EQUAL(plain->shown(false), effective);
  // An empty set is no set.
  auto empty = snapshot::make(1, "test", layers, effective, 0,
                              std::make_shared<const secret_paths>());
  CAF_CHECK(empty->secrets == nullptr);
}

// -- schema_secret_paths ------------------------------------------------------

CAF_TEST(the schema marks secrets through every kind of subschema) {
  auto schema = j(R"({
    "type": "object",
    "definitions": {
      "credentials": {
        "type": "object",
        "properties": {"user": {"type": "string"},
                       "password": {"type": "string", "x-secret": true}}
      },
      "unused": {"properties": {"never": {"x-secret": true}}}
    },
    "properties": {
      "db": {"$ref": "#/definitions/credentials"},
      "api": {"type": "object",
              "properties": {"token": {"type": "string", "writeOnly": true},
                             "url": {"type": "string", "writeOnly": false}}},
      "tenants": {"type": "object",
                  "additionalProperties": {
                    "properties": {"key": {"x-secret": true},
                                   "name": {"type": "string"}}}},
      "certs": {"patternProperties": {"^k": {"x-secret": true}}},
      "servers": {"type": "array",
                  "items": {"properties": {"password": {"x-secret": true}}}},
      "pair": {"items": [{"type": "string"}, {"x-secret": true}]},
      "whole": {"type": "object", "x-secret": true,
                "properties": {"inner": {"x-secret": true}}},
      "combined": {"allOf": [{"properties": {"a": {"x-secret": true}}},
                             {"properties": {"b": {"type": "string"}}}],
                   "anyOf": [{"properties": {"c": {"writeOnly": true}}}],
                   "oneOf": [{"properties": {"d": {"x-secret": true}}}]},
      "not.flagged": {"x-secret": "true"},
      "dotted.key": {"x-secret": true},
      "closed": {"additionalProperties": false},
      "open": {"additionalProperties": true}
    }
  })");
  auto paths = schema_secret_paths(schema);
  CAF_CHECK_EQUAL(paths, (strings{"api.token", "certs.*", "combined.a",
                                  "combined.c", "combined.d", "db.password",
                                  R"(dotted\.key)", "pair.*",
                                  "servers.*.password", "tenants.*.key",
                                  "whole", "whole.inner"}));
  // The paths work as patterns on a configuration of that shape.
  secret_paths s{paths};
  CAF_CHECK_EQUAL(s.patterns().size(), paths.size());
  auto config = j(R"({"db": {"user": "u", "password": "pw"},
                      "tenants": {"t": {"key": "k", "name": "n"}},
                      "servers": [{"password": "sp"}],
                      "dotted.key": "dk", "dotted": {"key": "not"}})");
  s.mask(config);
  CAF_CHECK_EQUAL(config, j(R"({"db": {"user": "u", "password": "***"},
                                "tenants": {"t": {"key": "***", "name": "n"}},
                                "servers": [{"password": "***"}],
                                "dotted.key": "***",
                                "dotted": {"key": "not"}})"));
}

CAF_TEST(a secret root schema and a root $ref) {
  CAF_CHECK_EQUAL(schema_secret_paths(j(R"({"x-secret": true})")),
                  (strings{""}));
  auto schema = j(R"({"$ref": "#/definitions/root",
                      "definitions": {"root": {"properties": {
                        "pw": {"x-secret": true}}}}})");
  CAF_CHECK_EQUAL(schema_secret_paths(schema), (strings{"pw"}));
  // A $ref that leads nowhere, or is not local, or not a pointer: nothing.
  CAF_CHECK(schema_secret_paths(j(R"({"properties": {
    "a": {"$ref": "#/definitions/missing"},
    "b": {"$ref": "http://example.com/schema.json#/x"},
    "c": {"$ref": "#no-slash"}}})")).empty());
  CAF_CHECK(schema_secret_paths(j("true")).empty());
  CAF_CHECK(schema_secret_paths(j("{}")).empty());
}

CAF_TEST(a self referencing schema terminates) {
  // A tree: every node has children of the same schema and a secret.
  auto tree = j(R"({
    "definitions": {"node": {"type": "object", "properties": {
      "secret": {"x-secret": true},
      "children": {"type": "array", "items": {"$ref": "#/definitions/node"}}
    }}},
    "$ref": "#/definitions/node"
  })");
  auto paths = schema_secret_paths(tree);
  CAF_REQUIRE(!paths.empty());
  CAF_CHECK(std::find(paths.begin(), paths.end(), "secret") != paths.end());
  CAF_CHECK(std::find(paths.begin(), paths.end(), "children.*.secret")
            != paths.end());
  CAF_CHECK(std::find(paths.begin(), paths.end(),
                      "children.*.children.*.secret")
            != paths.end());
  CAF_MESSAGE(paths.size() << " paths, the longest " << paths.back());
  // The whole document refers to itself, directly and through allOf.
  auto self = j(R"({"$ref": "#", "allOf": [{"$ref": "#"}],
                    "properties": {"me": {"$ref": "#"},
                                   "pw": {"x-secret": true}}})");
  auto own = schema_secret_paths(self);
  CAF_MESSAGE(own.size() << " paths");
  CAF_CHECK(std::find(own.begin(), own.end(), "pw") != own.end());
  CAF_CHECK(std::find(own.begin(), own.end(), "me.pw") != own.end());
  CAF_CHECK(std::find(own.begin(), own.end(), "me.me.me.pw") != own.end());
  // Two references to each other.
  auto pair = j(R"({"definitions": {
                      "a": {"properties": {"b": {"$ref": "#/definitions/b"}}},
                      "b": {"properties": {"a": {"$ref": "#/definitions/a"},
                                           "k": {"writeOnly": true}}}},
                    "$ref": "#/definitions/a"})");
  auto both = schema_secret_paths(pair);
  CAF_CHECK(std::find(both.begin(), both.end(), "b.k") != both.end());
  CAF_CHECK(std::find(both.begin(), both.end(), "b.a.b.k") != both.end());
}

CAF_TEST(a schema that refers to itself from many places terminates) {
  // Every node has three children of its own kind: the paths to its secret
  // grow threefold with each level. The shallow ones are all there.
  auto tree = j(R"({"properties": {"left": {"$ref": "#"},
                                   "right": {"$ref": "#"},
                                   "up": {"$ref": "#"},
                                   "pw": {"x-secret": true}}})");
  auto paths = schema_secret_paths(tree);
  CAF_MESSAGE(paths.size() << " paths");
  for (auto expected : {"pw", "left.pw", "up.right.pw", "right.left.up.pw",
                        "up.up.up.up.pw", "left.right.up.left.right.pw"})
    CAF_CHECK(std::find(paths.begin(), paths.end(), expected) != paths.end());
  // A set of that many is made once: with() does not compare every pair.
  auto secrets = secret_paths::with(nullptr, paths);
  CAF_REQUIRE(secrets != nullptr);
  CAF_CHECK_EQUAL(secrets->patterns().size(), paths.size());
  auto config = j(R"({"pw": "a", "left": {"pw": "b", "up": {"pw": "c"}}})");
  secrets->mask(config);
  CAF_CHECK_EQUAL(config, j(R"({"pw": "***", "left": {"pw": "***",
                                                     "up": {"pw": "***"}}})"));
}

} // namespace secrets_suite

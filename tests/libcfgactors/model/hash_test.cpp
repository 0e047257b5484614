// Tests for SHA-256 and the canonical content hash of configuration trees.
#define CAF_SUITE hash
#include "cfgactors_test.hpp"

#include "cfgactors/diff.hpp"
#include "cfgactors/hash.hpp"
#include "cfgactors/parse.hpp"
#include "cfgactors/path.hpp"
#include "model/config_tree.hpp"
#include "model/hash_tree.hpp"
#include "reference_hash.hpp"

#include <nlohmann/json.hpp>

#include <functional>
#include <limits>
#include <string>
#include <vector>

namespace hash_suite {

using namespace cfgactors;

using cfgactors::test::reference_hash;

CAF_TEST(sha256 matches the published test vectors) {
  CAF_CHECK_EQUAL(sha256_hex("abc"), "ba7816bf8f01cfea414140de5dae2223"
                                     "b00361a396177a9cb410ff61f20015ad");
  CAF_CHECK_EQUAL(sha256_hex(""), "e3b0c44298fc1c149afbf4c8996fb924"
                                  "27ae41e4649b934ca495991b7852b855");
  CAF_CHECK_EQUAL(
    sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
    "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

CAF_TEST(sha256 hashes embedded nul bytes) {
  using namespace std::string_literals;
  CAF_CHECK_NOT_EQUAL(sha256_hex("a\0b"s), sha256_hex("a"));
  CAF_CHECK_EQUAL(sha256_hex("a\0b"s).size(), 64u);
}

CAF_TEST(a container hashes its text with nested containers as their hashes) {
  // No container inside: the SHA-256 of the compact sorted dump.
  auto flat = json::parse(R"({"b": 1, "a": true, "c": "x"})");
  CAF_CHECK_EQUAL(canonical_hash(flat),
                  sha256_hex(R"({"a":true,"b":1,"c":"x"})"));
  CAF_CHECK_EQUAL(canonical_hash(json::object()), sha256_hex("{}"));
  CAF_CHECK_EQUAL(canonical_hash(json(5)), sha256_hex("5"));
  // A nested container is written as `#` and its own hash.
  auto inner = canonical_hash(json::parse("[true,null,\"x\"]"));
  CAF_CHECK_EQUAL(inner, sha256_hex(R"([true,null,"x"])"));
  auto value = json::parse(R"({"b": 1, "a": [true, null, "x"]})");
  CAF_CHECK_EQUAL(canonical_hash(value),
                  sha256_hex("{\"a\":#" + inner + ",\"b\":1}"));
}

// The values docs/HASH.md lists, computed by its Python reference: a changed
// definition (a separator, the order of keys, how a scalar is written) fails
// here and in tests/docs/hash_doc.
CAF_TEST(golden hashes) {
  std::pair<const char*, const char*> vectors[] = {
    {"{}", "44136fa355b3678a1146ad16f7e8649e94fb4fc21fe77e8310c060f61caaff8a"},
    {R"({"b": 1, "a": [true, null, "x"]})",
     "5e5246046de4190d1d8c8d406d90556762e48a8fa152de6d8980ca9e549ebb72"},
    {R"({"service": "consumer", "port": 7070, "features": {"beta": true,
        "rollout": [1, 2, 3]}, "owner": null})",
     "ca0fe6bc188647b95d5aefac06e8a00b563d09d9165600020a9d4090c82ba8dd"},
    {R"({"a": {"b": {"c": "\u00fc\u0001"}}, "l": [{"x": 1}, [2]]})",
     "ff89f144d5ffcb571660eddc4da897a81ff72e7c8f3a4590781b1d93dfdfb224"},
    {"[]", "4f53cda18c2baa0c0354bb5f9a3ecbe5ed12ab4d8e11ba873c2f11161202b945"},
    {R"("x")", "ba2df4903a2c14e86dc3bcca58911b44ac1d2514b7227bf6eb08cfb978f55a1b"},
  };
  for (auto& [text, expected] : vectors)
    CAF_CHECK_EQUAL(canonical_hash(json::parse(text)), expected);
}

CAF_TEST(the same tree built in a different key order hashes equally) {
  json x;
  x["zeta"] = 1;
  x["alpha"]["two"] = 2;
  x["alpha"]["one"] = 1;
  json y;
  y["alpha"]["one"] = 1;
  y["alpha"]["two"] = 2;
  y["zeta"] = 1;
  CAF_CHECK_EQUAL(canonical_hash(x), canonical_hash(y));
  auto z = json::parse("{ \"zeta\" : 1,\n \"alpha\": {\"two\":2, \"one\":1} }");
  CAF_CHECK_EQUAL(canonical_hash(x), canonical_hash(z));
}

CAF_TEST(yaml and json spellings of one config hash equally) {
  auto from_yaml = parse_document("server:\n  port: 8080\n  tls: true\n"
                                  "name: svc\n",
                                  document_format::yaml, "a.yaml");
  auto from_json = parse_document(
    R"({"name":"svc","server":{"tls":true,"port":8080}})",
    document_format::json, "a.json");
  CAF_REQUIRE(from_yaml);
  CAF_REQUIRE(from_json);
  CAF_CHECK_EQUAL(canonical_hash(from_yaml.value),
                  canonical_hash(from_json.value));
}

CAF_TEST(different trees hash differently) {
  auto a = json::parse(R"({"a": 1})");
  auto b = json::parse(R"({"a": 2})");
  auto c = json::parse(R"({"a": "1"})");
  auto d = json::parse(R"([{"a": 1}])");
  CAF_CHECK_NOT_EQUAL(canonical_hash(a), canonical_hash(b));
  CAF_CHECK_NOT_EQUAL(canonical_hash(a), canonical_hash(c));
  CAF_CHECK_NOT_EQUAL(canonical_hash(a), canonical_hash(d));
}

CAF_TEST(a hash is sixty four lower case hex digits) {
  auto h = canonical_hash(json::parse(R"({"k": [1, 2.5, "s"]})"));
  CAF_CHECK_EQUAL(h.size(), 64u);
  CAF_CHECK_EQUAL(h.find_first_not_of("0123456789abcdef"), std::string::npos);
}

CAF_TEST(invalid utf8 in a string hashes without throwing) {
  json value = {{"bad", std::string{"\xff\xfe"}}};
  std::string h;
  try {
    h = canonical_hash(value);
  } catch (...) {
    CAF_FAIL("canonical_hash threw on invalid UTF-8");
  }
  CAF_CHECK_EQUAL(h.size(), 64u);
  CAF_CHECK_EQUAL(h, canonical_hash(value));
}

CAF_TEST(non ascii text hashes as utf8 and not as escapes) {
  json value = {{"k", "\xc3\xa9"}};
  CAF_CHECK_EQUAL(canonical_hash(value), sha256_hex("{\"k\":\"\xc3\xa9\"}"));
}

CAF_TEST(the streamed hash equals the sha256 of dump for every kind of value) {
  using namespace std::string_literals;
  std::string big(10000, 'x');
  json many = json::object();
  for (int i = 0; i < 2000; ++i)
    many["key" + std::to_string(i)] = i % 3 == 0 ? json(i * 0.5) : json(i);
  json values = json::array({
    json::object(), json::array(), nullptr, true, false, 0, -1,
    std::numeric_limits<int64_t>::min(), std::numeric_limits<int64_t>::max(),
    std::numeric_limits<uint64_t>::max(), 1.0, 0.1, -0.0, 1e300, 5e-324,
    std::numeric_limits<double>::quiet_NaN(),
    std::numeric_limits<double>::infinity(), "", "plain ~text~ 0x7f:\x7f",
    "quote\" back\\slash /", "\b\f\n\r\t\x01\x1f", "\xc3\xa9 \xe2\x82\xac",
    "\xff\xfe", "cut \xc3", "nul \0 inside"s, big, many,
    json::binary({1, 2, 3}),
    json{{"k\"ey", 1}, {"\xc3\xa9", {1, 2.5, "s"}}, {"\x01", json::object()},
         {"\xff", nullptr}, {"", json::array({json::array(), json::object()})}},
  });
  for (auto& value : values)
    CAF_CHECK_EQUAL(canonical_hash(value), reference_hash(value));
  CAF_CHECK_EQUAL(canonical_hash(values), reference_hash(values));
  // Without a container inside, a narrow container's hash is that of its
  // dump, and so is a wide one's as journals of format 4 stored it.
  json narrow = json::object();
  for (int i = 0; i < 32; ++i)
    narrow["key" + std::to_string(i)] = i;
  CAF_CHECK_EQUAL(canonical_hash(narrow),
                  sha256_hex(narrow.dump(-1, ' ', false,
                                         json::error_handler_t::replace)));
  CAF_CHECK_EQUAL(detail::unpieced_hash(many),
                  sha256_hex(many.dump(-1, ' ', false,
                                       json::error_handler_t::replace)));
  CAF_CHECK_NOT_EQUAL(canonical_hash(many), detail::unpieced_hash(many));
}

// docs/HASH.md's wide vectors, made here as its Python makes them.
CAF_TEST(a container wider than 32 is hashed in pieces) {
  auto range = [](int n) {
    auto out = json::array();
    for (int i = 0; i < n; ++i)
      out.push_back(i);
    return out;
  };
  // 32 items: one piece, written whole as before.
  CAF_CHECK_EQUAL(canonical_hash(range(32)),
                  "23b22df6bf551a4e788327db3b3d3d96e1eca49078d2c6bd0049da2d390eca8b");
  CAF_CHECK_EQUAL(canonical_hash(range(32)), detail::unpieced_hash(range(32)));
  json keys = json::object();
  for (int i = 0; i < 33; ++i)
    keys[(i < 10 ? "k0" : "k") + std::to_string(i)] = i;
  CAF_CHECK_EQUAL(canonical_hash(keys),
                  "19b12f0d1a1354808e1e41ccca65a02821313559b8b7c586f51b9928766bfc9c");
  // 33 pieces of pieces: a level of groups above them.
  CAF_CHECK_EQUAL(canonical_hash(range(1025)),
                  "13e4eaf95f9fc32808d18bfe58d9bb32ee3a2bbb1b4e5e8833aacc94ee762a31");
  json sections = json::object();
  for (int i = 0; i < 100; ++i) {
    auto name = std::to_string(i);
    sections["s" + std::string(3 - name.size(), '0') + name] = {{"on", i % 2 == 0}};
  }
  CAF_CHECK_EQUAL(canonical_hash(sections),
                  "e103c67dd4f067cdf531eea3d4363537e500c44be6f94adbfadf56dcc65b7a9c");
  // The pieces as the definition writes them, by hand: 33 members are a
  // piece of 32 and one of 1.
  std::string first = "{", second = "{\"k32\":32}";
  for (int i = 0; i < 32; ++i)
    first += (i > 0 ? "," : "") + json((i < 10 ? "k0" : "k") + std::to_string(i)).dump()
             + ":" + std::to_string(i);
  first += "}";
  CAF_CHECK_EQUAL(canonical_hash(keys),
                  sha256_hex("{~#" + sha256_hex(first) + ",#" + sha256_hex(second)
                             + "}"));
  for (auto n : {31, 32, 33, 64, 65, 1024, 1025, 1056, 1057, 40000})
    CAF_CHECK_EQUAL(canonical_hash(range(n)), reference_hash(range(n)));
}

namespace {

/// A tree of `width` sections of `width` members, a few of them nested
/// objects and arrays.
json sample_tree(int width, int salt) {
  json tree = json::object();
  for (int i = 0; i < width; ++i) {
    auto& section = tree["s" + std::to_string(i)];
    section = json::object();
    for (int j = 0; j < width; ++j)
      section["k" + std::to_string(j)] = i * 1000 + j + salt;
    section["nested"]["deep"]["v"] = i;
    section["list"] = json::array({i, json{{"x", i}}});
  }
  return tree;
}

detail::path_trie trie_of(const std::vector<std::string>& paths) {
  detail::path_trie result;
  for (auto& text : paths)
    result.add(*config_path::parse(text));
  return result;
}

/// The values inside a container at every depth, the slow way.
std::size_t count_values(const json& x) {
  std::size_t n = 0;
  for (auto& item : x) {
    ++n;
    if (item.is_structured())
      n += count_values(item);
  }
  return n;
}

/// `before` as a persistent tree edited into `after` at `paths` (what
/// changed_paths found between them): set where `after` has a value, else
/// erased, as a writer builds the next version from the last.
detail::config_tree edited_tree(const json& before, const json& after,
                                const std::vector<std::string>& paths) {
  detail::config_tree tree{before};
  for (auto& text : paths) {
    auto path = *config_path::parse(text);
    if (auto* x = find(after, path))
      CAF_REQUIRE(tree.assign(path, *x));
    else
      CAF_REQUIRE(tree.erase(path));
  }
  CAF_REQUIRE_EQUAL(tree.to_json(), after);
  return tree;
}

/// Rehashes `before`'s tree `old` after each edit alone and after all of
/// them together, along the paths a diff finds, and checks each result
/// (its hash and its count of values) against the reference; returns the
/// tree after all. The same with `before` as a persistent tree edited
/// along those paths: the same digests and counts.
detail::hash_tree_ptr
check_edits(const json& before, const detail::hash_tree_ptr& old,
            const std::vector<std::function<void(json&)>>& edits) {
  auto old_node = detail::hash_tree_of(detail::config_tree{before}.root());
  CAF_REQUIRE(old_node != nullptr);
  CAF_CHECK_EQUAL(old_node->hex(), old->hex());
  CAF_CHECK_EQUAL(old_node->values, old->values);
  auto all = before;
  for (auto& edit : edits) {
    auto after = before;
    edit(after);
    edit(all);
    auto paths = changed_paths(before, after);
    CAF_REQUIRE(!paths.empty());
    auto next = detail::rehash(old, after, trie_of(paths));
    CAF_CHECK_EQUAL(next->hex(), reference_hash(after));
    CAF_CHECK_NOT_EQUAL(next->hex(), old->hex());
    CAF_CHECK_EQUAL(next->values, count_values(after));
    auto tree = edited_tree(before, after, paths);
    auto by_node = detail::rehash(old_node, tree.root(), trie_of(paths));
    CAF_CHECK_EQUAL(by_node->hex(), next->hex());
    CAF_CHECK_EQUAL(by_node->values, next->values);
  }
  CAF_CHECK_EQUAL(old->values, count_values(before));
  auto paths = changed_paths(before, all);
  auto next = detail::rehash(old, all, trie_of(paths));
  CAF_CHECK_EQUAL(next->hex(), reference_hash(all));
  CAF_CHECK_EQUAL(next->values, count_values(all));
  auto tree = edited_tree(before, all, paths);
  CAF_CHECK_EQUAL(detail::rehash(old_node, tree.root(), trie_of(paths))->hex(),
                  next->hex());
  return next;
}

} // namespace

CAF_TEST(a hash recomputed along the changed paths equals the full hash) {
  auto before = sample_tree(12, 0);
  auto old = detail::hash_tree_of(before);
  CAF_REQUIRE(old != nullptr);
  CAF_CHECK_EQUAL(old->hex(), canonical_hash(before));
  // Each edit, alone and all together: a scalar, a nested scalar, a new
  // key, a removed key, a removed section, a type change, an array item,
  // a key containing a dot.
  std::vector<std::function<void(json&)>> edits = {
    [](json& t) { t["s0"]["k0"] = 77; },
    [](json& t) { t["s3"]["nested"]["deep"]["v"] = "changed"; },
    [](json& t) { t["s4"]["new"] = json{{"a", 1}}; },
    [](json& t) { t["s5"].erase("k5"); },
    [](json& t) { t.erase("s6"); },
    [](json& t) { t["s7"]["nested"] = json::array({1}); },
    [](json& t) { t["s8"]["list"][1]["x"] = -1; },
    [](json& t) { t["s9"]["a.b"] = json::object({{"c", 1}}); },
    [](json& t) { t["zz"] = json::object(); },
  };
  auto next = check_edits(before, old, edits);
  // Unchanged sections are shared, not hashed again.
  CAF_CHECK_EQUAL(next->members[1].first, "s1");
  CAF_CHECK_EQUAL(next->members[1].second, old->members[1].second);
  CAF_CHECK_NOT_EQUAL(next->members[0].second, old->members[0].second);
  // Nothing changed: the same tree.
  CAF_CHECK_EQUAL(detail::rehash(old, before, {}), old);
}

CAF_TEST(a wide object recomputed along the changed paths equals the full hash) {
  // 70 sections of 72 members: the root and every section are hashed in
  // pieces. Changed values keep the pieces' bounds (only their pieces are
  // hashed again); added and removed members shift them.
  auto before = sample_tree(70, 0);
  auto old = detail::hash_tree_of(before);
  CAF_REQUIRE(old != nullptr);
  CAF_CHECK_EQUAL(old->pieces.size(), 3u);
  CAF_CHECK_EQUAL(old->hex(), reference_hash(before));
  // 70 sections of 72 members, 2 values under `nested` and 3 in `list`.
  CAF_CHECK_EQUAL(old->values, 70u * (1 + 72 + 2 + 3));
  std::vector<std::function<void(json&)>> edits = {
    [](json& t) { t["s0"]["k0"] = 77; },
    [](json& t) { t["s69"]["k69"] = "last"; },
    [](json& t) { t["s35"]["nested"]["deep"]["v"] = "changed"; },
    [](json& t) { t["s10"]["k10"] = 1; t["s60"]["k5"] = 2; },
    [](json& t) { t["s4"]["new"] = json{{"a", 1}}; },
    [](json& t) { t["s5"].erase("k5"); },
    [](json& t) { t.erase("s6"); },
    [](json& t) { t.erase("s6"); t["s6x"] = 1; },
    [](json& t) { t["s7"]["nested"] = json::array({1}); },
    [](json& t) { t["s8"] = 8; },
    [](json& t) { t["s9"] = json::array({1, 2}); },
    [](json& t) {
      for (int i = 0; i < 40; ++i)
        t["s1"].erase("k" + std::to_string(i));
    },
  };
  check_edits(before, old, edits);
  // A changed value: the other pieces are the old version's nodes.
  auto after = before;
  after["s0"]["k0"] = -1;
  auto one = detail::rehash(old, after, trie_of({"s0.k0"}));
  CAF_CHECK_EQUAL(one->hex(), reference_hash(after));
  CAF_REQUIRE_EQUAL(one->pieces.size(), 3u);
  CAF_CHECK_NOT_EQUAL(one->pieces[0].second, old->pieces[0].second);
  CAF_CHECK_EQUAL(one->pieces[1].second, old->pieces[1].second);
  CAF_CHECK_EQUAL(one->pieces[2].second, old->pieces[2].second);
  // 2,000 members: 63 pieces under a level of two groups, of which the
  // changed piece's group is hashed again.
  json flat = json::object();
  for (int i = 0; i < 2000; ++i)
    flat["f" + std::to_string(i)] = i;
  auto flat_old = detail::hash_tree_of(flat);
  CAF_REQUIRE_EQUAL(flat_old->groups.size(), 1u);
  CAF_CHECK_EQUAL(flat_old->groups[0].size(), 2u);
  for (auto key : {"f0", "f1500", "f999"}) {
    auto changed = flat;
    changed[key] = -1;
    auto flat_next = detail::rehash(flat_old, changed, trie_of({key}));
    CAF_CHECK_EQUAL(flat_next->hex(), reference_hash(changed));
    CAF_CHECK_EQUAL(flat_next->values, 2000u);
  }
}

CAF_TEST(a changed path left out gives another hash than the full one) {
  // The incremental hash trusts its paths: this is why every caller takes
  // them from a diff or a patch of the same two trees.
  auto before = sample_tree(4, 0);
  auto old = detail::hash_tree_of(before);
  auto after = before;
  after["s1"]["k1"] = -5;
  after["s2"]["k2"] = -5;
  auto partial = detail::rehash(old, after, trie_of({"s1.k1"}));
  CAF_CHECK_NOT_EQUAL(partial->hex(), canonical_hash(after));
  auto complete = detail::rehash(old, after, trie_of({"s1.k1", "s2.k2"}));
  CAF_CHECK_EQUAL(complete->hex(), canonical_hash(after));
}

CAF_TEST(a persistent tree hashes as the json it holds) {
  // Every shape the pieces and cursors meet: empty containers, widths
  // around a piece (32) and a block (32, split where they fill), wide
  // objects and arrays whose pieces start inside blocks, nesting.
  auto range = [](int n) {
    json out = json::object();
    for (int i = 0; i < n; ++i)
      out["m" + std::to_string(i)] = i % 3 == 0 ? json{{"v", i}} : json(i);
    return out;
  };
  auto items = [](int n) {
    json out = json::array();
    for (int i = 0; i < n; ++i)
      out.push_back(i % 5 == 0 ? json::array({i, "x"}) : json(i));
    return out;
  };
  std::vector<json> trees{json::object(), json::array(),
                          json{{"a", json::object()}, {"b", json::array()}}};
  for (auto n : {1, 31, 32, 33, 64, 65, 100, 1024, 1025, 1057, 5000}) {
    trees.push_back(range(n));
    trees.push_back(items(n));
    trees.push_back(json{{"outer", range(n)}, {"list", items(n)}, {"x", 1.5}});
  }
  for (auto& x : trees) {
    auto tree = detail::config_tree{x};
    auto by_node = detail::hash_tree_of(tree.root());
    CAF_REQUIRE(by_node != nullptr);
    CAF_CHECK_EQUAL(by_node->hex(), reference_hash(x));
    CAF_CHECK_EQUAL(by_node->values, count_values(x));
  }
  CAF_CHECK(detail::hash_tree_of(*detail::node_of(json(1))) == nullptr);
  // One member changed in a 5,000-member object built by edits (its
  // blocks split where they filled, not where pieces start): only that
  // piece and the groups above it are new.
  detail::config_tree built{json::object()};
  for (int i = 0; i < 5000; ++i)
    CAF_REQUIRE(built.assign(*config_path::parse("m" + std::to_string(i)),
                             json(i)));
  auto old = detail::hash_tree_of(built.root());
  CAF_CHECK_EQUAL(old->hex(), reference_hash(built.to_json()));
  auto after = built;
  CAF_REQUIRE(after.assign(*config_path::parse("m2500"), json(-1)));
  auto next = detail::rehash(old, after.root(), trie_of({"m2500"}));
  CAF_CHECK_EQUAL(next->hex(), reference_hash(after.to_json()));
  std::size_t shared = 0;
  for (std::size_t i = 0; i < next->pieces.size(); ++i)
    shared += next->pieces[i].second == old->pieces[i].second;
  CAF_CHECK_EQUAL(shared, old->pieces.size() - 1);
}

} // namespace hash_suite

// Tests for the persistent config tree: it holds what json holds, edits as
// json's assign and erase do (errors included), keeps old versions intact
// and shares every node a change did not touch.
#define CAF_SUITE config_tree
#include "cfgactors_test.hpp"

#include "model/config_tree.hpp"
#include "tree_parts.hpp"

#include <random>
#include <string>
#include <unordered_set>
#include <vector>

namespace config_tree_suite {

using namespace cfgactors;
using detail::config_node;
using detail::config_tree;
using detail::tree_block;

namespace {

config_path p(const char* text) {
  auto result = config_path::parse(text);
  CAF_REQUIRE(result.has_value());
  return *result;
}

// 100 keys a section, as bench/pipeline's configs.
json sections(std::size_t keys) {
  json result = json::object();
  for (std::size_t i = 0; i < keys; ++i)
    result["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  return result;
}

// Checks one block and everything below it: counts, first keys, widths,
// keys in order across blocks. Returns the height below (a leaf is 1).
std::size_t check_blocks(const tree_block& block, bool object,
                         const std::string*& last_key, std::string& why) {
  auto fail = [&](std::string text) {
    if (why.empty())
      why = std::move(text);
    return std::size_t{0};
  };
  if (block.leaf()) {
    if (block.entries.empty() || block.entries.size() > detail::block_fanout)
      return fail("leaf of " + std::to_string(block.entries.size()));
    if (block.count != block.entries.size())
      return fail("leaf count");
    for (auto& entry : block.entries) {
      if (object && last_key && !(*last_key < entry.key))
        return fail("key " + entry.key + " after " + *last_key);
      if (!object && !entry.key.empty())
        return fail("array item with a key");
      last_key = &entry.key;
    }
    if (object && block.first != block.entries.front().key)
      return fail("leaf first key");
    return 1;
  }
  if (block.children.size() > detail::block_fanout)
    return fail("inner block of " + std::to_string(block.children.size()));
  std::size_t count = 0;
  std::size_t height = 0;
  for (auto& child : block.children) {
    auto h = check_blocks(*child, object, last_key, why);
    if (height != 0 && h != height)
      return fail("leaves at different depths");
    height = h;
    count += child->count;
  }
  if (count != block.count)
    return fail("inner count");
  if (object && block.first != block.children.front()->first)
    return fail("inner first key");
  return height + 1;
}

// Empty when every container below `node` is a well-formed B-tree.
std::string check_tree(const config_node& node) {
  std::string why;
  if (node.type() == config_node::kind::scalar || !node.block())
    return why;
  const std::string* last_key = nullptr;
  check_blocks(*node.block(), node.is_object(), last_key, why);
  if (why.empty())
    detail::for_each_entry(node.block().get(),
                           [&](const detail::tree_entry& e) {
                             if (why.empty())
                               why = check_tree(*e.value);
                           });
  return why;
}

// What a change made: nodes and blocks of `next` not in `before`.
std::size_t made(const config_tree& before, const config_tree& next) {
  return test::parts_made(before.root(), next.root());
}

// A random scalar, or a small container of them.
json random_value(std::mt19937& rng, int depth = 0) {
  switch (rng() % (depth < 2 ? 8 : 5)) {
    case 0:
      return nullptr;
    case 1:
      return rng() % 2 == 0;
    case 2:
      return static_cast<int>(rng() % 1000) - 500;
    case 3:
      return "v" + std::to_string(rng() % 100);
    case 4:
      return (rng() % 1000) / 8.0;
    case 5:
    case 6: {
      json obj = json::object();
      for (auto n = rng() % 4; n > 0; --n)
        obj["m" + std::to_string(rng() % 6)] = random_value(rng, depth + 1);
      return obj;
    }
    default: {
      json arr = json::array();
      for (auto n = rng() % 4; n > 0; --n)
        arr.push_back(random_value(rng, depth + 1));
      return arr;
    }
  }
}

// A random path into `root`: mostly along what exists, sometimes one step
// past it, sometimes a step of the wrong kind.
config_path random_path(std::mt19937& rng, const json& root) {
  config_path path;
  const json* cur = &root;
  while (cur != nullptr && rng() % 5 != 0) {
    if (cur->is_object() && !cur->empty() && rng() % 8 != 0) {
      auto it = cur->begin();
      std::advance(it, rng() % cur->size());
      path.segments.emplace_back(it.key());
      cur = &*it;
    } else if (cur->is_array() && rng() % 8 != 0) {
      auto index = rng() % (cur->size() + 2);
      path.segments.emplace_back(std::size_t{index});
      cur = index < cur->size() ? &(*cur)[index] : nullptr;
    } else if (rng() % 2 == 0) {
      path.segments.emplace_back("new" + std::to_string(rng() % 3));
      cur = nullptr;
    } else {
      path.segments.emplace_back(std::size_t{rng() % 3});
      cur = nullptr;
    }
  }
  return path;
}

} // namespace

CAF_TEST(a tree reads back as the json it was made of) {
  std::vector<json> samples{
    json::object(),
    json::array(),
    nullptr,
    "text",
    json::parse(R"({"b": 1, "a": [true, null, "x", 2.5, -3,
                    18446744073709551615], "\u00fc": {"": {}, "e": []}})"),
    sections(1000),
  };
  json wide_array = json::array();
  for (int i = 0; i < 1100; ++i)
    wide_array.push_back(i % 3 == 0 ? json{{"i", i}} : json(i * 0.5));
  samples.push_back(wide_array);
  for (auto& sample : samples) {
    config_tree tree{sample};
    CAF_CHECK_EQUAL(tree.to_json(), sample);
    // dump, not ==: 1 and 1.0 compare equal but must not turn into each
    // other.
    CAF_CHECK_EQUAL(tree.to_json().dump(), sample.dump());
    CAF_CHECK_EQUAL(check_tree(tree.root()), "");
  }
  config_tree wide{sections(100000)};
  CAF_CHECK_EQUAL(wide.root().size(), 1000u);
  CAF_CHECK_EQUAL(wide.root().block()->count, 1000u);
  CAF_CHECK_EQUAL(detail::block_height(wide.root().block().get()), 2u);
}

CAF_TEST(finding a path finds what json finds) {
  auto doc = json::parse(R"({"a": {"b": [10, {"c": "x"}]}, "n": null})");
  config_tree tree{doc};
  for (auto text : {"a", "a.b", "a.b[0]", "a.b[1].c", "n", "", "a.b[2]",
                    "a.c", "a.b.c", "a[0]", "n.x", "a.b[1].c.d"}) {
    auto path = p(text);
    auto want = find(doc, path);
    auto got = tree.find(path);
    CAF_CHECK_EQUAL(got == nullptr, want == nullptr);
    if (got && want)
      CAF_CHECK_EQUAL(to_json(*got), *want);
  }
}

CAF_TEST(random edits agree with json assign and erase error for error) {
  std::mt19937 rng{20261207};
  json doc = sections(3000);
  doc["list"] = json::array();
  for (int i = 0; i < 70; ++i)
    doc["list"].push_back(i);
  config_tree tree{doc};
  std::size_t assigned = 0;
  std::size_t refused = 0;
  std::size_t erased = 0;
  for (int round = 0; round < 4000; ++round) {
    auto path = random_path(rng, doc);
    if (rng() % 2 == 0) {
      auto want = erase(doc, path);
      auto got = tree.erase(path);
      CAF_CHECK_EQUAL(got, want);
      erased += want ? 1 : 0;
    } else {
      auto value = random_value(rng);
      std::string want_error;
      std::string got_error;
      auto want = assign(doc, path, value, &want_error);
      auto got = tree.assign(path, value, &got_error);
      CAF_CHECK_EQUAL(got, want);
      if (got_error != want_error)
        CAF_MESSAGE("got [" << got_error << "] want [" << want_error << "]");
      CAF_CHECK_EQUAL(got_error, want_error);
      (want ? assigned : refused) += 1;
    }
    if (round % 250 == 0 || round == 3999) {
      CAF_CHECK_EQUAL(tree.to_json(), doc);
      CAF_CHECK_EQUAL(check_tree(tree.root()), "");
    }
  }
  CAF_MESSAGE(assigned << " assigned, " << refused << " refused, " << erased
                       << " erased");
  // Every kind of outcome happened often enough to count.
  CAF_CHECK_GREATER(assigned, 500u);
  CAF_CHECK_GREATER(refused, 100u);
  CAF_CHECK_GREATER(erased, 100u);
}

CAF_TEST(an edit leaves every earlier version as it was) {
  std::mt19937 rng{7};
  json doc = sections(2000);
  config_tree tree{doc};
  std::vector<std::pair<config_tree, json>> versions;
  for (int round = 0; round < 600; ++round) {
    if (round % 50 == 0)
      versions.emplace_back(tree, doc);
    auto path = random_path(rng, doc);
    auto value = random_value(rng);
    if (rng() % 4 == 0) {
      erase(doc, path);
      tree.erase(path);
    } else if (assign(doc, path, value)) {
      CAF_REQUIRE(tree.assign(path, value));
    }
  }
  CAF_CHECK_EQUAL(tree.to_json(), doc);
  for (auto& [old_tree, old_doc] : versions)
    CAF_CHECK_EQUAL(old_tree.to_json(), old_doc);
  // And the versions differ from each other, or this proved nothing.
  CAF_CHECK_NOT_EQUAL(versions.front().first, versions.back().first);
}

CAF_TEST(a one key change makes as many nodes at 100000 keys as at 100) {
  for (std::size_t keys : {100u, 10000u, 100000u}) {
    config_tree before{sections(keys)};
    auto height = detail::block_height(before.root().block().get());
    // The root node, its blocks, the section node, its blocks (100 keys:
    // 2), the value.
    auto bound = 1 + height + 1 + 2 + 1;
    auto set = before;
    CAF_REQUIRE(set.assign(p("s0.k42"), json("changed")));
    auto added = before;
    CAF_REQUIRE(added.assign(p("s0.k42x"), json(1)));
    auto removed = before;
    CAF_REQUIRE(removed.erase(p("s0.k42")));
    CAF_MESSAGE(keys << " keys: set " << made(before, set) << ", add "
                     << made(before, added) << ", erase "
                     << made(before, removed) << " (at most " << bound
                     << ")");
    CAF_CHECK_LESS_OR_EQUAL(made(before, set), bound);
    CAF_CHECK_LESS_OR_EQUAL(made(before, added), bound + 2);
    CAF_CHECK_LESS_OR_EQUAL(made(before, removed), bound);
    CAF_CHECK_EQUAL(before.to_json(), sections(keys));
    CAF_CHECK_EQUAL(set.find(p("s0.k42"))->scalar(), "changed");
  }
}

CAF_TEST(erasing most keys leaves a short tree) {
  std::mt19937 rng{11};
  std::vector<std::string> keys;
  for (int i = 0; i < 5000; ++i)
    keys.push_back("k" + std::to_string(i));
  std::shuffle(keys.begin(), keys.end(), rng);
  config_tree tree{json::object()};
  for (auto& key : keys)
    CAF_REQUIRE(tree.assign(config_path{{key}}, json(1)));
  CAF_CHECK_EQUAL(check_tree(tree.root()), "");
  CAF_CHECK_EQUAL(detail::block_height(tree.root().block().get()), 3u);
  std::shuffle(keys.begin(), keys.end(), rng);
  for (std::size_t i = 0; i + 10 < keys.size(); ++i)
    CAF_REQUIRE(tree.erase(config_path{{keys[i]}}));
  CAF_CHECK_EQUAL(tree.root().size(), 10u);
  CAF_CHECK_EQUAL(check_tree(tree.root()), "");
  std::unordered_set<const void*> parts;
  test::collect_parts(tree.root(), parts);
  CAF_MESSAGE("10 keys left: height "
              << detail::block_height(tree.root().block().get()) << ", "
              << parts.size() << " nodes and blocks");
  CAF_CHECK_LESS_OR_EQUAL(detail::block_height(tree.root().block().get()),
                          2u);
}

CAF_TEST(arrays append set and erase by position) {
  json doc = json::array();
  config_tree tree{doc};
  std::mt19937 rng{3};
  for (int i = 0; i < 3000; ++i) {
    auto op = rng() % 6;
    if (op == 0 && !doc.empty()) {
      auto index = rng() % doc.size();
      doc.erase(index);
      CAF_REQUIRE(tree.erase(config_path{{std::size_t{index}}}));
    } else if (op < 4 || doc.empty()) {
      doc.push_back(i);
      CAF_REQUIRE(tree.assign(config_path{{std::size_t{doc.size() - 1}}},
                              json(i)));
    } else {
      auto index = rng() % doc.size();
      doc[index] = i;
      CAF_REQUIRE(tree.assign(config_path{{std::size_t{index}}}, json(i)));
    }
  }
  CAF_CHECK_EQUAL(tree.to_json(), doc);
  CAF_CHECK_EQUAL(check_tree(tree.root()), "");
  CAF_CHECK_GREATER(doc.size(), 1000u);
}

CAF_TEST(blocks insert anywhere by position) {
  // What an RFC 6902 add into an array does: the items after move up.
  std::vector<int> want;
  detail::tree_block_ptr root;
  std::mt19937 rng{5};
  for (int i = 0; i < 4000; ++i) {
    auto index = rng() % (want.size() + 1);
    if (rng() % 4 == 0 && !want.empty()) {
      index = rng() % want.size();
      want.erase(want.begin() + static_cast<std::ptrdiff_t>(index));
      root = detail::without_index(root, index);
    } else {
      want.insert(want.begin() + static_cast<std::ptrdiff_t>(index), i);
      root = detail::inserted_at(root, index, detail::node_of(json(i)));
    }
  }
  config_node array{config_node::kind::array, root};
  json got = to_json(array);
  CAF_CHECK_EQUAL(got, json(want));
  CAF_CHECK_EQUAL(check_tree(array), "");
  CAF_CHECK_GREATER(want.size(), 1000u);
}

CAF_TEST(equal follows json equality) {
  auto a = json::parse(R"({"x": [1, 2, {"y": "z"}], "n": 1})");
  auto b = json::parse(R"({"x": [1, 2, {"y": "z"}], "n": 1.0})");
  auto c = json::parse(R"({"x": [1, 2, {"y": "w"}], "n": 1})");
  CAF_CHECK_EQUAL(config_tree{a} == config_tree{b}, a == b);
  CAF_CHECK(config_tree{a} != config_tree{c});
  CAF_CHECK(config_tree{json::object()} != config_tree{json::array()});
  CAF_CHECK(config_tree{} == config_tree{json{}});
}

} // namespace config_tree_suite

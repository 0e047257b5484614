// Tests of what etcd holds: the version record's format and the key layout.
// Both are wire formats every node of a cluster must agree on: the goldens
// below were computed outside this code (Python's json.dumps with sorted
// keys, hashlib.sha256) and must never change without a format number.
#define CAF_SUITE version_record
#include "cfgactors_test.hpp"

#include <algorithm>
#include <initializer_list>
#include <string>

#include "etcd/etcd_keys.hpp"
#include "etcd/version_record.hpp"
#include "pipeline/secret_box.hpp"

namespace version_record_suite {

using namespace cfgactors;
using namespace cfgactors::detail;

namespace {

version_record sample() {
  version_record x;
  x.version = 7;
  x.previous = 6;
  x.hash = "ab";
  x.origin = "api:alice";
  x.node = "n1";
  x.timestamp_ms = 1700000000000;
  x.layers.put("runtime", json{{"b", "x"}});
  x.layers.put("defaults", json{{"a", 1}});
  x.secrets = {"db.password"};
  x.idempotency_key = "k1";
  return x;
}

constexpr const char* sample_text
  = R"({"format":1,"hash":"ab","idempotency_key":"k1","layers":[{"data":)"
    R"({"a":1},"name":"defaults"},{"data":{"b":"x"},"name":"runtime"}],)"
    R"("node":"n1","origin":"api:alice","previous":6,"secrets":)"
    R"(["db.password"],"timestamp_ms":1700000000000,"version":7})";

/// sample() with an author and a reason (non-ASCII and a quote: UTF-8 as
/// it is, the quote escaped), as Python's json.dumps(sort_keys=True,
/// separators=(",", ":"), ensure_ascii=False) writes it.
version_record sample_with_reason() {
  auto x = sample();
  x.author = "alice";
  x.reason = "OPS-42: pool too small \u2014 \"undo\"";
  return x;
}

constexpr const char* sample_with_reason_text
  = R"({"author":"alice","format":1,"hash":"ab","idempotency_key":"k1",)"
    R"("layers":[{"data":{"a":1},"name":"defaults"},{"data":{"b":"x"},)"
    R"("name":"runtime"}],"node":"n1","origin":"api:alice","previous":6,)"
    R"("reason":"OPS-42: pool too small — \"undo\"","secrets":)"
    R"(["db.password"],"timestamp_ms":1700000000000,"version":7})";

/// The error text of a refused decode, or "" if it was taken.
std::string refusal(const std::string& text) {
  auto x = decode_version_record(text, "/k");
  if (x)
    return "";
  return caf::to_string(x.error());
}

} // namespace

CAF_TEST(a record encodes to the pinned text) {
  CAF_CHECK_EQUAL(encode(sample()), sample_text);
  auto plain = sample();
  plain.idempotency_key.clear();
  CAF_CHECK(encode(plain).find("idempotency_key") == std::string::npos);
}

CAF_TEST(a record decodes to what was encoded) {
  auto x = decode_version_record(sample_text, "/k");
  CAF_REQUIRE(x);
  auto want = sample();
  CAF_CHECK_EQUAL(x->version, want.version);
  CAF_CHECK_EQUAL(x->previous, want.previous);
  CAF_CHECK_EQUAL(x->hash, want.hash);
  CAF_CHECK_EQUAL(x->origin, want.origin);
  CAF_CHECK_EQUAL(x->node, want.node);
  CAF_CHECK_EQUAL(x->timestamp_ms, want.timestamp_ms);
  CAF_CHECK(x->layers == want.layers);
  CAF_CHECK_EQUAL(x->secrets, want.secrets);
  CAF_CHECK_EQUAL(x->idempotency_key, want.idempotency_key);
  CAF_CHECK_EQUAL(encode(*x), sample_text);
}

CAF_TEST(a record without author and reason encodes as before them) {
  // sample_text is the golden of a record written before authors and
  // reasons: a write without them still encodes to exactly it.
  auto x = sample();
  CAF_CHECK(x.author.empty() && x.reason.empty());
  CAF_CHECK_EQUAL(encode(x), sample_text);
}

CAF_TEST(a record from before authors and reasons decodes with them empty) {
  auto x = decode_version_record(sample_text, "/k");
  CAF_REQUIRE(x);
  CAF_CHECK_EQUAL(x->author, "");
  CAF_CHECK_EQUAL(x->reason, "");
  CAF_CHECK_EQUAL(x->origin, "api:alice");
}

CAF_TEST(a record with author and reason encodes to the pinned text) {
  CAF_CHECK_EQUAL(encode(sample_with_reason()), sample_with_reason_text);
  auto x = decode_version_record(sample_with_reason_text, "/k");
  CAF_REQUIRE(x);
  auto want = sample_with_reason();
  CAF_CHECK_EQUAL(x->author, want.author);
  CAF_CHECK_EQUAL(x->reason, want.reason);
  CAF_CHECK_EQUAL(x->origin, want.origin);
  CAF_CHECK_EQUAL(encode(*x), sample_with_reason_text);
}

CAF_TEST(an author or reason that is not a string is refused by name) {
  std::string text = sample_with_reason_text;
  auto at = text.find(R"("author":"alice")");
  CAF_REQUIRE(at != std::string::npos);
  auto bad = text;
  bad.replace(at, 16, R"("author":7)");
  CAF_CHECK(refusal(bad).find("etcd record /k: `author` is not a string")
            != std::string::npos);
  at = text.find(R"("reason":")");
  CAF_REQUIRE(at != std::string::npos);
  bad = text;
  bad.replace(at, 10, R"("reason":["x"],"x":")");
  CAF_CHECK(refusal(bad).find("`reason` is not a string") != std::string::npos);
}

CAF_TEST(a bad record is refused naming the key and the field) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string text = sample_text;
    auto at = text.find(from);
    CAF_REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  CAF_CHECK_EQUAL(refusal(sample_text), "");
  auto not_json = refusal("{\"format\":1,");
  CAF_CHECK(not_json.find("etcd record /k") != std::string::npos);
  CAF_CHECK(not_json.find("not a JSON object") != std::string::npos);
  CAF_CHECK(refusal(with("\"format\":1", "\"format\":3")).find("format 3")
            != std::string::npos);
  CAF_CHECK(refusal(with("\"hash\":\"ab\"", "\"hash\":1")).find("`hash`")
            != std::string::npos);
  CAF_CHECK(refusal(with("\"version\":7", "\"version\":0")).find("follow")
            != std::string::npos);
  // The previous version must be older: 7 after 7 is no history.
  CAF_CHECK(refusal(with("\"previous\":6", "\"previous\":7")).find("follow")
            != std::string::npos);
  CAF_CHECK(refusal(with("\"name\":\"runtime\"", "\"nome\":\"runtime\""))
              .find("`layers`")
            != std::string::npos);
  CAF_CHECK(refusal(with("[\"db.password\"]", "[1]")).find("`secrets`")
            != std::string::npos);
  CAF_CHECK(refusal(with("\"timestamp_ms\":1700000000000",
                         "\"timestamp_ms\":\"x\""))
              .find("`timestamp_ms`")
            != std::string::npos);
}

CAF_TEST(a record of a change names its base and what it removed) {
  auto x = sample();
  x.base = 6;
  x.removed = {"file:/a.yaml"};
  auto text = encode(x);
  CAF_CHECK(text.find(R"("base":6)") != std::string::npos);
  CAF_CHECK(text.find(R"("removed":["file:/a.yaml"])") != std::string::npos);
  auto back = decode_version_record(text, "/k");
  CAF_REQUIRE(back);
  CAF_CHECK_EQUAL(back->base, 6u);
  CAF_CHECK_EQUAL(back->removed, x.removed);
  x.base = 7; // not before its own version
  CAF_CHECK(!decode_version_record(encode(x), "/k"));
}

namespace {

/// A record of a change: in the runtime layer, `a.b` set, `x.y` (a key with
/// a dot) set, `old` removed.
version_record sample_changes() {
  auto x = sample();
  x.layers = layer_stack{};
  x.base = 6;
  layer_changes ch;
  ch.set.emplace_back(*config_path::parse("a.b"), json{{"c", {1, 2}}});
  config_path dotted;
  dotted.segments.emplace_back(std::string{"x.y"});
  ch.set.emplace_back(dotted, json("z"));
  ch.unset.push_back(*config_path::parse("old"));
  x.changes.emplace_back("runtime", std::move(ch));
  return x;
}

/// As Python's json.dumps(sort_keys=True, separators=(",", ":")) writes it.
constexpr const char* sample_changes_text
  = R"({"base":6,"changes":[{"name":"runtime","set":{"a.b":{"c":[1,2]},)"
    R"("x\\.y":"z"},"unset":["old"]}],"format":2,"hash":"ab",)"
    R"("idempotency_key":"k1","layers":[],"node":"n1","origin":"api:alice",)"
    R"("previous":6,"removed":[],"secrets":["db.password"],)"
    R"("timestamp_ms":1700000000000,"version":7})";

} // namespace

CAF_TEST(a record of changes by path encodes to the pinned text) {
  CAF_CHECK_EQUAL(encode(sample_changes()), sample_changes_text);
  auto back = decode_version_record(sample_changes_text, "/k");
  CAF_REQUIRE(back);
  CAF_REQUIRE_EQUAL(back->changes.size(), 1u);
  auto& [name, ch] = back->changes[0];
  CAF_CHECK_EQUAL(name, "runtime");
  CAF_REQUIRE_EQUAL(ch.set.size(), 2u);
  CAF_CHECK_EQUAL(ch.set[0].first.str(), "a.b");
  CAF_CHECK_EQUAL(ch.set[0].second, (json{{"c", {1, 2}}}));
  CAF_REQUIRE_EQUAL(ch.set[1].first.segments.size(), 1u);
  CAF_CHECK_EQUAL(ch.set[1].first.segments[0], path_segment{"x.y"});
  CAF_REQUIRE_EQUAL(ch.unset.size(), 1u);
  CAF_CHECK_EQUAL(ch.unset[0].str(), "old");
  // A record without changes stays format 1, as earlier nodes read it.
  CAF_CHECK_EQUAL(encode(sample()), sample_text);
}

CAF_TEST(a bad record of changes is refused naming what is wrong) {
  auto with = [](const std::string& from, const std::string& to) {
    std::string text = sample_changes_text;
    auto at = text.find(from);
    CAF_REQUIRE(at != std::string::npos);
    return text.replace(at, from.size(), to);
  };
  // (The rendered error escapes quotes: the parts below have none.)
  auto refused = [&](const std::string& text,
                     std::initializer_list<const char*> parts) {
    auto why = refusal(text);
    CAF_MESSAGE("refused: " << why);
    CAF_CHECK(why.find("etcd record /k") != std::string::npos);
    for (auto part : parts)
      CAF_CHECK(why.find(part) != std::string::npos);
  };
  CAF_CHECK_EQUAL(refusal(sample_changes_text), "");
  refused(with("\"format\":2", "\"format\":1"),
          {"`changes` is not an array in a format 2 record with a base"});
  refused(with("\"base\":6,", ""),
          {"`changes` is not an array in a format 2 record with a base"});
  refused(with("\"unset\":[\"old\"]", "\"unset\":[\"a..b\"]"),
          {"`changes` of layer runtime: ", "unset", "a..b", "not a path"});
  refused(with("\"set\":{\"a.b\"", "\"set\":{\"a[x]\""),
          {"`changes` of layer runtime: ", "set", "a[x]", "not a path"});
  refused(with("\"unset\":[\"old\"]", "\"unset\":{}"),
          {"`changes` of layer runtime: no ", " object and ", " array"});
  refused(with("\"name\":\"runtime\"", "\"name\":7"),
          {"`changes` holds an entry without a name"});
  refused(with("\"layers\":[]", "\"layers\":[{\"data\":{},\"name\":"
                                 "\"runtime\"}]"),
          {"layer runtime is in both `layers` and `changes`"});
  refused(with("\"unset\":[\"old\"]}]", "\"unset\":[\"old\"]},{\"name\":"
                                         "\"runtime\",\"set\":{},"
                                         "\"unset\":[]}]"),
          {"`changes` names layer runtime twice"});
}

CAF_TEST(secret values in changes are sealed and open only where they belong) {
  secret_box box{std::string(32, 'k')};
  auto x = sample_changes();
  x.changes[0].second.set.emplace_back(*config_path::parse("db"),
                                       json{{"password", "hunter2"},
                                            {"user", "app"}});
  auto text = encode(x, &box, "prod");
  CAF_CHECK(text.find("hunter2") == std::string::npos);
  CAF_CHECK(text.find("\"user\":\"app\"") != std::string::npos);
  auto back = decode_version_record(text, "/k", &box, "prod");
  CAF_REQUIRE(back);
  auto& set = back->changes[0].second.set;
  auto db = std::find_if(set.begin(), set.end(),
                         [](auto& x) { return x.first.str() == "db"; });
  CAF_REQUIRE(db != set.end());
  CAF_CHECK_EQUAL(db->second, (json{{"password", "hunter2"}, {"user", "app"}}));
  auto moved = text;
  moved.replace(moved.find("\"version\":7"), 11, "\"version\":8");
  auto refused = decode_version_record(moved, "/k", &box, "prod");
  CAF_REQUIRE(!refused);
  CAF_CHECK(caf::to_string(refused.error()).find("the secret at db.password "
                                                 "in layer runtime does not "
                                                 "open")
            != std::string::npos);
}

CAF_TEST(a record nested deeper than the limit is refused by name) {
  // As text: the point is a record nobody could have written through the
  // API, too deep even to dump recursively.
  auto nested = [](std::size_t levels) {
    std::string text = sample_text;
    auto at = text.find(R"({"b":"x"})");
    return text.replace(at, 9, R"({"b":)" + std::string(levels, '[') + "1"
                                 + std::string(levels, ']') + "}");
  };
  auto fine = decode_version_record(nested(128), "/k");
  CAF_CHECK(fine);
  auto deep = decode_version_record(nested(100000), "/k");
  CAF_REQUIRE(!deep);
  CAF_CHECK(caf::to_string(deep.error()).find("nested deeper than")
            != std::string::npos);
}

CAF_TEST(the key layout is pinned) {
  etcd_keys keys{"prod"};
  CAF_CHECK_EQUAL(keys.root(), "/cfgactors/prod/");
  CAF_CHECK_EQUAL(keys.head(), "/cfgactors/prod/head");
  CAF_CHECK_EQUAL(keys.version(42),
                  "/cfgactors/prod/versions/00000000000000000042");
  CAF_CHECK_EQUAL(keys.version(18446744073709551615ull),
                  "/cfgactors/prod/versions/18446744073709551615");
  CAF_CHECK_EQUAL(keys.node("n1"), "/cfgactors/prod/nodes/n1");
  CAF_CHECK_EQUAL(keys.idempotency("order-1"),
                  "/cfgactors/prod/idempotency/0bafe22156d2698c143b86040446d3"
                  "66ead863ba600d5c924f3d15c786ef4057");
  CAF_CHECK_EQUAL(keys.version_of(keys.version(42)), 42u);
  CAF_CHECK_EQUAL(keys.version_of("/cfgactors/prod/versions/0000000000000000004x"),
                  0u);
  CAF_CHECK_EQUAL(keys.version_of("/cfgactors/other/versions/00000000000000000042"),
                  0u);
  CAF_CHECK_EQUAL(keys.version_of(keys.head()), 0u);
}

CAF_TEST(cluster names are key segments) {
  CAF_CHECK(valid_cluster_name("prod-eu.1_a"));
  CAF_CHECK(!valid_cluster_name(""));
  CAF_CHECK(!valid_cluster_name("a/b"));
  CAF_CHECK(!valid_cluster_name(".."));
  CAF_CHECK(!valid_cluster_name("a b"));
  CAF_CHECK(!valid_cluster_name(std::string(65, 'a')));
  CAF_CHECK(valid_cluster_name(std::string(64, 'a')));
}

CAF_TEST(secret values are sealed in etcd and open only where they belong) {
  secret_box box{std::string(32, 'k')};
  secret_box other{std::string(32, 'j')};
  auto x = sample();
  x.layers.put("runtime", json{{"db", {{"password", "hunter2"}}}, {"b", "x"}});
  auto text = encode(x, &box, "prod");
  CAF_CHECK(text.find("hunter2") == std::string::npos);
  CAF_CHECK(text.find("cfgsealed:v1:") != std::string::npos);
  auto back = decode_version_record(text, "/k", &box, "prod");
  CAF_REQUIRE(back);
  CAF_CHECK(back->layers == x.layers);
  auto why = [](const caf::expected<version_record>& r) {
    return r ? std::string{} : caf::to_string(r.error());
  };
  // No key, another key of the same size, another cluster, another version.
  CAF_CHECK(why(decode_version_record(text, "/k")).find("no secrets key")
            != std::string::npos);
  CAF_CHECK(why(decode_version_record(text, "/k", &other, "prod"))
              .find("does not open")
            != std::string::npos);
  CAF_CHECK(why(decode_version_record(text, "/k", &box, "prod2"))
              .find("does not open")
            != std::string::npos);
  auto moved = text;
  moved.replace(moved.find("\"version\":7"), 11, "\"version\":8");
  CAF_CHECK(why(decode_version_record(moved, "/k", &box, "prod"))
              .find("does not open")
            != std::string::npos);
  // A record of a node without the key holds plain values: read as they are.
  auto plain = decode_version_record(encode(x), "/k", &box, "prod");
  CAF_REQUIRE(plain);
  CAF_CHECK(plain->layers == x.layers);
}

} // namespace version_record_suite

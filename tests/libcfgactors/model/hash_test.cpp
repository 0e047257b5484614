// Tests for SHA-256 and the canonical content hash of configuration trees.
#define CAF_SUITE hash
#include "cfgactors_test.hpp"

#include "cfgactors/hash.hpp"
#include "cfgactors/parse.hpp"

#include <nlohmann/json.hpp>

#include <limits>
#include <string>

using namespace cfgactors;

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

CAF_TEST(the canonical hash is the sha256 of the compact sorted dump) {
  auto value = json::parse(R"({"b": 1, "a": [true, null, "x"]})");
  CAF_CHECK_EQUAL(canonical_hash(value),
                  sha256_hex(R"({"a":[true,null,"x"],"b":1})"));
  CAF_CHECK_EQUAL(canonical_hash(json::object()), sha256_hex("{}"));
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
  for (auto& value : values) {
    auto text = value.dump(-1, ' ', false, json::error_handler_t::replace);
    CAF_CHECK_EQUAL(canonical_hash(value), sha256_hex(text));
  }
  CAF_CHECK_EQUAL(canonical_hash(values),
                  sha256_hex(values.dump(-1, ' ', false,
                                         json::error_handler_t::replace)));
}

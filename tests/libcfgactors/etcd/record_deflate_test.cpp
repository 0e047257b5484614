// Large version records are stored in etcd as zlib streams: what a node
// writes, what it reads (also from zlib outside this code), and what it
// refuses, by name, before it allocates what a crafted stream asks for.
#define CAF_SUITE record_deflate
#include "cfgactors_test.hpp"

#include <string>

#include "error_text.hpp"
#include "etcd/etcd_committer.hpp"
#include "etcd/record_deflate.hpp"
#include "etcd/version_record.hpp"

namespace record_deflate_suite {

using namespace cfgactors;
using namespace cfgactors::detail;
using test::contains;
using test::message_of;

namespace {

constexpr const char* key = "/cfgactors/prod/versions/00000000000000000007";

/// What fits in one request of etcd's default limit besides the rest of
/// the transaction: the committer's text limit.
constexpr std::size_t limit = etcd_default_max_request_bytes
                              - etcd_other_operations_bytes;

/// Python's zlib.compress(text, 9) of a record's text (json.dumps with
/// sorted keys and compact separators): version 7 with two layers.
std::string python_deflated() {
  std::string hex
    = "78da458ecd0a83301084df65cea1349716f22aa5c86ad61a343f24d156c477ef"
      "e6e41e96e59b61760e8c317baa305a61a232c1807a2838cb3ec5ca61d8bb9977"
      "c1b316bcd0ceb9c0bc0e58aa047340963e1502791697e591d6a5169ceab2f422"
      "fc7099f21aaa93eb7c0b8ab6a1d0d263761f175a85e40c2d6e608129f3e6e22a"
      "4f1f0a8587ccb51580ed6f894af9c66c21392db054f2a9f322ebe7fd1a854d4a"
      "bb28c9cff30fd6dc4d47";
  std::string out;
  for (std::size_t i = 0; i < hex.size(); i += 2)
    out.push_back(static_cast<char>(std::stoi(hex.substr(i, 2), nullptr, 16)));
  return out;
}

/// A whole record of `keys` keys in its runtime layer.
version_record whole(int keys) {
  version_record x;
  x.version = 9;
  x.previous = 8;
  x.hash = "cd";
  x.origin = "api:alice";
  x.node = "n1";
  x.timestamp_ms = 1700000000000;
  json data = json::object();
  for (int i = 0; i < keys; ++i)
    data["tenant" + std::to_string(i)] = json{{"rps", i}, {"plan", "pro"}};
  x.layers.put("runtime", std::move(data));
  return x;
}

std::string refusal(std::string_view stored, std::size_t max_bytes
                                             = max_inflated_record) {
  auto x = inflate_record(stored, key, max_bytes);
  if (x)
    return "inflated to " + std::to_string(x->size()) + " bytes";
  return message_of(x.error());
}

} // namespace

CAF_TEST(a record deflated by zlib elsewhere decodes) {
  auto rec = decode_version_record(python_deflated(), key);
  CAF_REQUIRE(rec);
  CAF_CHECK_EQUAL(rec->version, 7u);
  CAF_CHECK_EQUAL(rec->previous, 6u);
  CAF_CHECK_EQUAL(rec->idempotency_key, "k1");
  CAF_REQUIRE(rec->layers.get("runtime") != nullptr);
  CAF_CHECK_EQUAL(*rec->layers.get("runtime"), (json{{"b", "x"}}));
  CAF_CHECK_EQUAL(*rec->layers.get("defaults"), (json{{"a", 1}}));
}

CAF_TEST(a record that fits is stored as its text and a larger one deflated) {
  // 5,000 tenants fit etcd's default request: text, which nodes of
  // earlier builds read too.
  auto fits = whole(5000);
  CAF_CHECK_EQUAL(stored_form(fits, limit), encode(fits));
  auto large = whole(50000);
  auto text = encode(large);
  auto stored = stored_form(large, limit);
  CAF_MESSAGE(text.size() << " bytes stored as " << stored.size());
  CAF_CHECK(text.size() > limit);
  CAF_CHECK_LESS(stored.size(), limit);
  CAF_CHECK(is_deflated_record(stored));
  CAF_CHECK(!is_deflated_record(text));
  CAF_CHECK_LESS(stored.size() * 4, text.size());
  auto inflated = inflate_record(stored, key);
  CAF_REQUIRE(inflated);
  CAF_CHECK_EQUAL(*inflated, text);
  auto rec = decode_version_record(stored, key);
  CAF_REQUIRE(rec);
  CAF_CHECK_EQUAL(encode(*rec), text);
}

CAF_TEST(a record at the limit stays text and one byte more is deflated) {
  // Grow a record to exactly the limit's bytes of text.
  auto x = whole(1);
  x.origin.clear();
  x.origin.resize(limit - encode(x).size(), 'o');
  CAF_REQUIRE_EQUAL(encode(x).size(), limit);
  CAF_CHECK(!is_deflated_record(stored_form(x, limit)));
  x.origin += 'o';
  CAF_CHECK(is_deflated_record(stored_form(x, limit)));
  auto rec = decode_version_record(stored_form(x, limit), key);
  CAF_REQUIRE(rec);
  CAF_CHECK_EQUAL(rec->origin, x.origin);
}

CAF_TEST(a damaged deflated record is refused by name) {
  auto stored = deflate_record(encode(whole(3000)));
  // One byte changed in the middle, same length: the stream or its
  // checksum fails.
  auto flipped = stored;
  flipped[flipped.size() / 2] ^= 0x01;
  auto why = refusal(flipped);
  CAF_CHECK(contains(why, key));
  CAF_CHECK(!contains(why, "inflated to"));
  // The checksum's last byte changed: every block inflates, the Adler-32
  // does not match.
  auto checksum = stored;
  checksum.back() ^= 0x01;
  CAF_CHECK(contains(refusal(checksum), "incorrect data check"));
  // Cut short.
  CAF_CHECK(contains(refusal(stored.substr(0, stored.size() - 10)),
                     "ends early"));
  // Bytes after the end.
  CAF_CHECK(contains(refusal(stored + "{}"), "2 bytes after the end"));
  // The same through the record's decoder.
  auto rec = decode_version_record(flipped, key);
  CAF_REQUIRE(!rec);
  CAF_CHECK(contains(message_of(rec.error()), key));
}

CAF_TEST(a record that inflates beyond the bound is refused before it is) {
  // 8 MiB of one byte deflates to a few KiB.
  auto bomb = deflate_record(std::string(8 * 1024 * 1024, 'a'));
  CAF_CHECK_LESS(bomb.size(), 64 * 1024u);
  auto why = refusal(bomb, 1024 * 1024);
  CAF_CHECK(contains(why, "inflates beyond 1048576 bytes"));
  CAF_CHECK(contains(why, key));
  // At the bound it inflates.
  CAF_CHECK_EQUAL(refusal(bomb, 8 * 1024 * 1024), "inflated to 8388608 bytes");
  CAF_CHECK_EQUAL(max_inflated_record, 256u * 1024 * 1024);
}

CAF_TEST(a stored record starting with anything but 0x78 is read as text) {
  auto rec = decode_version_record("x{}", key);
  CAF_REQUIRE(!rec);
  // 'x' is 0x78: taken for a zlib stream, refused as one.
  CAF_CHECK(contains(message_of(rec.error()), "deflated"));
  auto text = decode_version_record("y{}", key);
  CAF_REQUIRE(!text);
  CAF_CHECK(contains(message_of(text.error()), "not a JSON object"));
}

} // namespace record_deflate_suite

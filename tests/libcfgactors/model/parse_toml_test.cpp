// Tests for reading TOML: values and nesting as JSON, positioned errors, and
// the depth limit on hostile input (deep key paths and inline nesting).
#define CAF_SUITE parse_toml
#include "cfgactors_test.hpp"

#include "cfgactors/parse.hpp"

#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace parse_toml_suite {

using namespace cfgactors;

namespace {

std::string toml(std::string_view text, parse_limits limits = {}) {
  auto result = parse_document(text, document_format::toml, "doc", limits);
  return result ? result.value.dump() : "error: " + result.error->str();
}

parse_limits depth_limit(std::size_t max_depth) {
  parse_limits limits;
  limits.max_depth = max_depth;
  return limits;
}

std::string repeat(std::string_view x, std::size_t n) {
  std::string result;
  for (std::size_t i = 0; i < n; ++i)
    result += x;
  return result;
}

} // namespace

CAF_TEST(toml values become json and integers stay integers) {
  auto text = R"(# a comment
title = "cfg"      # trailing comment
port = 5433
big = 9223372036854775807
neg = -17
hex = 0xff
rate = 0.25
exp = 1e3
on = true
off = false
literal = 'C:\path'
multi = """
two
lines"""
empty = ""
list = [1, 2, 3]
mixed = [1, "a", [true]]
)";
  CAF_CHECK_EQUAL(toml(text),
                  R"({"big":9223372036854775807,"empty":"","exp":1000.0,)"
                  R"("hex":255,"list":[1,2,3],"literal":"C:\\path",)"
                  R"("mixed":[1,"a",[true]],"multi":"two\nlines","neg":-17,)"
                  R"("off":false,"on":true,"port":5433,"rate":0.25,)"
                  R"("title":"cfg"})");
  auto r = parse_document(text, document_format::toml, "doc");
  CAF_REQUIRE(r);
  CAF_CHECK(r.value["port"].is_number_integer());
  CAF_CHECK(r.value["big"].is_number_integer());
  CAF_CHECK(r.value["exp"].is_number_float());
}

CAF_TEST(toml tables dotted keys and inline tables nest) {
  CAF_CHECK_EQUAL(toml("a.b.c = 1\n"
                       "[logging]\nlevel = \"DEBUG\"\n"
                       "[database.pool]\nsize = 5\n"
                       "[server]\ntls = { cert = \"c.pem\", opts.min = 2 }\n"),
                  R"({"a":{"b":{"c":1}},"database":{"pool":{"size":5}},)"
                  R"("logging":{"level":"DEBUG"},)"
                  R"("server":{"tls":{"cert":"c.pem","opts":{"min":2}}}})");
  CAF_CHECK_EQUAL(toml("\"quoted.key\" = 1\n'x y'.z = 2\n"),
                  R"({"quoted.key":1,"x y":{"z":2}})");
  CAF_CHECK_EQUAL(toml(""), "{}");
  CAF_CHECK_EQUAL(toml("\n# only a comment\n"), "{}");
}

CAF_TEST(toml arrays of tables become arrays of objects) {
  CAF_CHECK_EQUAL(toml("[[servers]]\nname = \"a\"\n"
                       "[[servers]]\nname = \"b\"\n"
                       "[servers.tls]\non = true\n"
                       "[[servers.ports]]\nn = 1\n"),
                  R"({"servers":[{"name":"a"},)"
                  R"({"name":"b","ports":[{"n":1}],"tls":{"on":true}}]})");
}

CAF_TEST(toml dates and times become their rfc 3339 text) {
  CAF_CHECK_EQUAL(toml("odt = 1979-05-27T07:32:00Z\n"
                       "off = 1979-05-27T00:32:00.999-07:00\n"
                       "ldt = 1979-05-27T07:32:00\n"
                       "ld = 1979-05-27\n"
                       "lt = 07:32:00\n"),
                  R"({"ld":"1979-05-27","ldt":"1979-05-27T07:32:00",)"
                  R"("lt":"07:32:00","odt":"1979-05-27T07:32:00Z",)"
                  R"("off":"1979-05-27T00:32:00.999-07:00"})");
}

CAF_TEST(toml errors name file line and column) {
  // A missing value: toml++ stops where the value should start.
  CAF_CHECK_EQUAL(toml("a = 1\nb = \n"),
                  "error: doc:2:5: Error while parsing key-value pair: "
                  "expected value, saw '\\n'");
  CAF_CHECK_EQUAL(toml("a = 1\na = 2\n"),
                  "error: doc:2:5: Error while parsing key-value pair: "
                  "cannot redefine existing integer 'a'");
  CAF_CHECK_EQUAL(toml("[t]\nx = \"open\n"),
                  "error: doc:2:10: Error while parsing string: unescaped "
                  "control characters other than TAB (U+0009) are explicitly "
                  "prohibited");
  CAF_CHECK_EQUAL(toml("x = [1, 2\ny = 3\n"),
                  "error: doc:2:1: Error while parsing array: expected comma "
                  "or closing ']', saw 'y'");
  // JSON has no inf or nan: refused at the value, not turned into null.
  CAF_CHECK_EQUAL(toml("ok = 1.0\nrate = nan\n"),
                  "error: doc:2:8: inf and nan have no JSON value");
  CAF_CHECK_EQUAL(toml("ok = 1.0\nrate = inf\n"),
                  "error: doc:2:8: inf and nan have no JSON value");
}

CAF_TEST(toml nesting stops at the depth limit before toml sees it) {
  auto limits = depth_limit(3);
  // Root (1), tables a (2) and b (3): allowed; one more table is not.
  CAF_CHECK_EQUAL(toml("a.b.c = 1\n", limits), R"({"a":{"b":{"c":1}}})");
  CAF_CHECK_EQUAL(toml("a.b.c.d = 1\n", limits),
                  "error: doc:1:6: nesting depth exceeds the limit of 3");
  CAF_CHECK_EQUAL(toml("[a.b]\nc = 1\n", limits), R"({"a":{"b":{"c":1}}})");
  CAF_CHECK_EQUAL(toml("[a.b]\nc.d = 1\n", limits),
                  "error: doc:2:2: nesting depth exceeds the limit of 3");
  CAF_CHECK_EQUAL(toml("[a.b.c]\n", limits),
                  "error: doc:1:5: nesting depth exceeds the limit of 3");
  // [[a]]: the array (2) and its table (3).
  CAF_CHECK_EQUAL(toml("[[a]]\nb = 1\n", limits), R"({"a":[{"b":1}]})");
  CAF_CHECK_EQUAL(toml("[[a.b]]\n", limits),
                  "error: doc:1:4: nesting depth exceeds the limit of 3");
  CAF_CHECK_EQUAL(toml("x = [[1]]\n", limits), R"({"x":[[1]]})");
  CAF_CHECK_EQUAL(toml("x = [[[1]]]\n", limits),
                  "error: doc:1:7: nesting depth exceeds the limit of 3");
  CAF_CHECK_EQUAL(toml("x = {y = {}}\n", limits), R"({"x":{"y":{}}})");
  CAF_CHECK_EQUAL(toml("x = {y.z = {}}\n", limits),
                  "error: doc:1:12: nesting depth exceeds the limit of 3");
  // Dots in strings, comments and values are not levels.
  CAF_CHECK_EQUAL(toml("\"a.b.c.d\" = 'x.y.z' # a.b.c.d\nf = 1.5\n", limits),
                  R"({"a.b.c.d":"x.y.z","f":1.5})");
  CAF_CHECK_EQUAL(toml("s = \"\"\"\n[a.b.c.d]\n\"\"\"\n", limits),
                  R"({"s":"[a.b.c.d]\n"})");
}

CAF_TEST(hostile toml depth fails cleanly) {
  // toml++ walks and frees its tree recursively: 100000 levels of keys would
  // overflow the stack if they reached it.
  auto keys = repeat("a.", 100000) + "a";
  auto r = parse_document("[" + keys + "]\n", document_format::toml, "doc");
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->str(),
                  "doc:1:255: nesting depth exceeds the limit of 128");
  r = parse_document(keys + " = 1\n", document_format::toml, "doc");
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->str(),
                  "doc:1:256: nesting depth exceeds the limit of 128");
  r = parse_document("x = " + repeat("[", 100000), document_format::toml,
                     "doc");
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->str(),
                  "doc:1:132: nesting depth exceeds the limit of 128");
  r = parse_document("x = " + repeat("{y = ", 100000), document_format::toml,
                     "doc");
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->message,
                  "nesting depth exceeds the limit of 128");
}

CAF_TEST(parse_file reads toml files by extension) {
  auto dir = std::filesystem::temp_directory_path()
             / ("cfgactors-toml-test-" + std::to_string(::getpid()));
  std::filesystem::create_directories(dir);
  auto good = (dir / "c.TOML").string();
  std::ofstream{good} << "[logging]\nlevel = \"DEBUG\"\n";
  auto r = parse_file(good);
  CAF_CHECK_EQUAL(r.value.dump(), R"({"logging":{"level":"DEBUG"}})");
  auto bad = (dir / "bad.toml").string();
  std::ofstream{bad} << "[logging]\nlevel = DEBUG\n";
  r = parse_file(bad);
  CAF_REQUIRE(!r);
  CAF_MESSAGE(r.error->str());
  CAF_CHECK_EQUAL(r.error->source, bad);
  CAF_CHECK_EQUAL(r.error->line, 2u);
  CAF_CHECK_EQUAL(r.error->column, 9u);
  CAF_CHECK_EQUAL(r.error->message,
                  "Error while parsing value: could not determine value type");
  CAF_CHECK(format_for_path("x/y.toml") == document_format::toml);
  std::error_code ec;
  std::filesystem::remove_all(dir, ec);
}

} // namespace parse_toml_suite

// Tests for parsing YAML and JSON: positioned errors, limits and hostile input.
#define CAF_SUITE parse
#include "cfgactors_test.hpp"

#include "cfgactors/parse.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <string>

#include <unistd.h>

namespace parse_suite {

using namespace cfgactors;

namespace {

// The error for `text`, or one whose message says it parsed.
parse_error error_of(std::string_view text, document_format format,
                     parse_limits limits = {}) {
  auto result = parse_document(text, format, "doc", limits);
  if (result)
    return {"doc", 0, 0, "<parsed: " + result.value.dump() + ">"};
  return *result.error;
}

parse_error json_error(std::string_view text, parse_limits limits = {}) {
  return error_of(text, document_format::json, limits);
}

parse_error yaml_error(std::string_view text, parse_limits limits = {}) {
  return error_of(text, document_format::yaml, limits);
}

// The dump of a successful parse, or "error: ..." so checks show why.
std::string dump_of(std::string_view text, document_format format) {
  auto result = parse_document(text, format, "doc");
  return result ? result.value.dump() : "error: " + result.error->str();
}

std::string yaml(std::string_view text) {
  return dump_of(text, document_format::yaml);
}

std::string json_text(std::string_view text) {
  return dump_of(text, document_format::json);
}

parse_limits depth_limit(std::size_t max_depth) {
  parse_limits limits;
  limits.max_depth = max_depth;
  return limits;
}

// "line:column" of an error, to check positions in one go.
std::string where(const parse_error& e) {
  return std::to_string(e.line) + ":" + std::to_string(e.column);
}

bool contains(const std::string& str, const std::string& what) {
  return str.find(what) != std::string::npos;
}

// A scratch directory removed at the end of each test that makes one.
struct scratch_dir {
  std::filesystem::path dir;
  scratch_dir() {
    dir = std::filesystem::temp_directory_path()
          / ("cfgactors-parse-test-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
  }
  ~scratch_dir() {
    std::error_code ec;
    std::filesystem::remove_all(dir, ec);
  }
  std::string write(const std::string& name, const std::string& content) {
    auto path = dir / name;
    std::ofstream{path, std::ios::binary} << content;
    return path.string();
  }
};

} // namespace

CAF_TEST(a json syntax error names line and column) {
  // nlohmann stops on the last byte of the offending token: `"b"` ends at 5.
  CAF_CHECK_EQUAL(json_error("{\n  \"a\": 1\n  \"b\": 2\n}").str(),
                  "doc:3:5: syntax error while parsing object - unexpected "
                  "string literal; expected '}'");
  CAF_CHECK_EQUAL(json_error(R"({"a": 1,})").str(),
                  "doc:1:9: syntax error while parsing object key - "
                  "unexpected '}'; expected string literal");
  auto e = json_error("[1, 2,\n  tru ]");
  CAF_CHECK_EQUAL(where(e), "2:6");
  CAF_CHECK(contains(e.message, "invalid literal"));
}

CAF_TEST(truncated json points just past the end) {
  CAF_CHECK_EQUAL(json_error("{\"a\": [1, 2").str(),
                  "doc:1:12: syntax error while parsing array - unexpected "
                  "end of input; expected ']'");
}

CAF_TEST(json rejects trailing garbage comments and invalid utf8) {
  auto e = json_error("{} x");
  CAF_CHECK_EQUAL(where(e), "1:4");
  CAF_CHECK(contains(e.message, "expected end of input"));
  CAF_CHECK_EQUAL(where(json_error("{\n// c\n}")), "2:1");
  CAF_CHECK_EQUAL(where(json_error("\xEF\xBB\xBF" "{,}")), "1:2");
  e = json_error("{\"a\": \"\xff\"}");
  CAF_CHECK_EQUAL(where(e), "1:8");
  CAF_CHECK(contains(e.message, "ill-formed UTF-8"));
}

CAF_TEST(a json number overflow names the line and column of the number) {
  // nlohmann reports an overflow as out_of_range, without a position.
  CAF_CHECK_EQUAL(json_error("{\"port\":\n  1e400}").str(),
                  "doc:2:3: number overflow parsing '1e400'");
  CAF_CHECK_EQUAL(where(json_error("[1, \"1e999\", -1e999]")), "1:14");
}

CAF_TEST(the error string is source line column and message) {
  parse_error e{"conf.yaml", 3, 7, "duplicate key 'a'"};
  CAF_CHECK_EQUAL(e.str(), "conf.yaml:3:7: duplicate key 'a'");
  parse_error no_position{"conf.yaml", 0, 0, "No such file or directory"};
  CAF_CHECK_EQUAL(no_position.str(), "conf.yaml: No such file or directory");
}

CAF_TEST(empty documents become empty objects and scalars stay scalars) {
  CAF_CHECK_EQUAL(json_text(""), "{}");
  CAF_CHECK_EQUAL(json_text(" \n\t "), "{}");
  CAF_CHECK_EQUAL(yaml(""), "{}");
  CAF_CHECK_EQUAL(yaml("# only a comment\n"), "{}");
  CAF_CHECK_EQUAL(yaml("---\n"), "{}");
  CAF_CHECK_EQUAL(yaml("a: 1\n...\n"), R"({"a":1})");
  // A top level scalar or list is returned as is; callers decide.
  CAF_CHECK_EQUAL(json_text("42"), "42");
  CAF_CHECK_EQUAL(yaml("hello"), R"("hello")");
  CAF_CHECK_EQUAL(yaml("- 1\n- two\n"), R"([1,"two"])");
}

CAF_TEST(yaml plain scalars resolve by the core schema) {
  CAF_CHECK_EQUAL(yaml("[~, null, Null, NULL, '']"),
                  R"([null,null,null,null,""])");
  CAF_CHECK_EQUAL(yaml("a:\n"), R"({"a":null})");
  CAF_CHECK_EQUAL(yaml("[true, True, TRUE, false, False, FALSE]"),
                  "[true,true,true,false,false,false]");
  // YAML 1.1 booleans are strings in 1.2.
  CAF_CHECK_EQUAL(yaml("[yes, no, on, off, y]"),
                  R"(["yes","no","on","off","y"])");
  CAF_CHECK_EQUAL(yaml("[0, 017, -5, +5, 0x1F, 0o17, 18446744073709551615]"),
                  "[0,17,-5,5,31,15,18446744073709551615]");
  CAF_CHECK_EQUAL(yaml("[1.5, -0.25, 1e3, .5, 1., +2.5E-1]"),
                  "[1.5,-0.25,1000.0,0.5,1.0,0.25]");
  CAF_CHECK_EQUAL(yaml("[1_000, 0b11, '12', 1.2.3, 12:30, 0x, -0x1, .inf.x]"),
                  R"(["1_000","0b11","12","1.2.3","12:30","0x","-0x1",)"
                  R"(".inf.x"])");
  auto big = parse_document("99999999999999999999", document_format::yaml, "d");
  CAF_CHECK(big.value.is_number_float());
  auto one = parse_document("1", document_format::yaml, "d");
  CAF_CHECK(one.value.is_number_unsigned());
  auto r = parse_document("[.inf, -.inf, +.INF, .nan, .NaN]",
                          document_format::yaml, "d");
  CAF_REQUIRE(r);
  CAF_CHECK(std::isinf(r.value[0].get<double>()) && r.value[0] > 0);
  CAF_CHECK(std::isinf(r.value[1].get<double>()) && r.value[1] < 0);
  CAF_CHECK(std::isinf(r.value[2].get<double>()));
  CAF_CHECK(std::isnan(r.value[3].get<double>()));
  CAF_CHECK(std::isnan(r.value[4].get<double>()));
}

CAF_TEST(quoted and block scalars stay strings) {
  CAF_CHECK_EQUAL(yaml("a: 'true'\nb: \"1\"\nc: \"null\"\nd: |\n  x\n"),
                  R"({"a":"true","b":"1","c":"null","d":"x\n"})");
  CAF_CHECK_EQUAL(yaml("a: 'it''s'\nb: \"q\\\"\"\n"),
                  R"({"a":"it's","b":"q\""})");
}

CAF_TEST(explicit core tags resolve and unknown tags are rejected) {
  CAF_CHECK_EQUAL(yaml("[!!str 123, !!int '12', !!float 1, !!bool 'true', "
                       "!!null '', !!str ~]"),
                  R"(["123",12,1.0,true,null,"~"])");
  CAF_CHECK_EQUAL(yaml_error("a: !!int abc").str(),
                  "doc:1:4: 'abc' is not a valid !!int");
  CAF_CHECK_EQUAL(yaml_error("a: !custom x").str(),
                  "doc:1:4: unsupported tag '!custom'");
}

CAF_TEST(yaml mapping keys become strings) {
  CAF_CHECK_EQUAL(yaml("1: a\ntrue: b\n1.50: c\n'q': d\n"),
                  R"({"1":"a","1.50":"c","q":"d","true":"b"})");
  CAF_CHECK_EQUAL(yaml_error("a: 1\n~: 2\n").str(),
                  "doc:2:1: a mapping key must not be null");
  CAF_CHECK_EQUAL(yaml_error("? [a, b]\n: 1\n").str(),
                  "doc:1:3: a mapping key must be a scalar");
}

CAF_TEST(a yaml syntax error names line and column) {
  CAF_CHECK_EQUAL(yaml_error("a: 1\n b: 2\n").str(),
                  "doc:2:3: illegal map value");
  CAF_CHECK_EQUAL(yaml_error("a: [1, 2\nb: 3\n").str(),
                  "doc:2:2: end of sequence flow not found");
  auto e = yaml_error("a: *missing\n");
  CAF_CHECK_EQUAL(e.line, 1u);
  CAF_CHECK(contains(e.message, "anchor"));
}

CAF_TEST(an unterminated quote at the end of the input is an error) {
  // yaml-cpp 0.7 itself accepts these when a newline follows.
  CAF_CHECK_EQUAL(yaml_error("server:\n  port: 80\n  host: \"x\n").str(),
                  "doc:3:9: unterminated quoted scalar");
  CAF_CHECK_EQUAL(yaml_error("a: 1\nb: !!str &x 'it''s\n").str(),
                  "doc:2:4: unterminated quoted scalar");
  CAF_CHECK_EQUAL(yaml_error("a: 'x").str(), "doc:1:6: illegal EOF in scalar");
  // yaml-cpp does not count a byte order mark in its positions.
  CAF_CHECK_EQUAL(yaml_error("\xEF\xBB\xBF" "a: 1\nb: 'x\n").str(),
                  "doc:2:4: unterminated quoted scalar");
  CAF_CHECK_EQUAL(yaml("\xEF\xBB\xBF" "'a': \"x\"\nb: 'y'\n"),
                  R"({"a":"x","b":"y"})");
}

CAF_TEST(duplicate yaml keys are an error at the second key) {
  CAF_CHECK_EQUAL(yaml_error("a: 1\nb: 2\na: 3\n").str(),
                  "doc:3:1: duplicate key 'a'");
  CAF_CHECK_EQUAL(yaml_error("x: {k: 1, k: 2}").str(),
                  "doc:1:11: duplicate key 'k'");
}

CAF_TEST(a second yaml document is an error) {
  auto e = yaml_error("a: 1\n---\nb: 2\n");
  CAF_CHECK_EQUAL(where(e), "2:1");
  CAF_CHECK(contains(e.message, "second YAML document"));
  CAF_CHECK_EQUAL(where(yaml_error("a: 1\n---\n")), "2:1");
}

CAF_TEST(anchors aliases and merge keys expand) {
  CAF_CHECK_EQUAL(yaml("base: &b {x: 1, y: 2}\n"
                       "use:\n  <<: *b\n  y: 3\n"
                       "copy: *b\n"),
                  R"({"base":{"x":1,"y":2},"copy":{"x":1,"y":2},)"
                  R"("use":{"x":1,"y":3}})");
  CAF_CHECK_EQUAL(yaml("a: &a {k: 1}\nb: &b {k: 2, m: 2}\n"
                       "c: {<<: [*a, *b]}\n"),
                  R"({"a":{"k":1},"b":{"k":2,"m":2},"c":{"k":1,"m":2}})");
  CAF_CHECK_EQUAL(yaml("'<<': 1"), R"({"<<":1})");
  CAF_CHECK_EQUAL(yaml_error("a: {<<: 5}").str(),
                  "doc:1:5: a merge key (<<) needs a mapping or a list of "
                  "mappings");
}

CAF_TEST(a recursive alias is rejected) {
  CAF_CHECK_EQUAL(yaml_error("a: &x {k: *x}\n").str(),
                  "doc:1:11: an alias must not refer to a node that contains "
                  "it");
}

CAF_TEST(an alias bomb is stopped) {
  std::string text = "l0: &l0 [x, x, x, x, x, x, x, x, x, x]\n";
  for (int i = 1; i < 10; ++i) {
    auto prev = "*l" + std::to_string(i - 1);
    text += "l" + std::to_string(i) + ": &l" + std::to_string(i) + " [";
    for (int k = 0; k < 10; ++k)
      text += (k ? ", " : "") + prev;
    text += "]\n";
  }
  auto e = yaml_error(text);
  CAF_CHECK(contains(e.message, "aliases expand to more than"));
  CAF_CHECK(e.line > 1u);
}

CAF_TEST(invalid utf8 in yaml is rejected) {
  CAF_CHECK_EQUAL(yaml_error("a: 1\nb: \xff\xfe\n").str(),
                  "doc:2:4: invalid UTF-8 in scalar");
}

CAF_TEST(ten thousand nested json arrays give a clean error) {
  std::string text(10000, '[');
  text += std::string(10000, ']');
  CAF_CHECK_EQUAL(json_error(text).str(),
                  "doc:1:129: nesting depth exceeds the limit of 128");
  // Unterminated, with objects and strings holding brackets on the way.
  std::string objects = "{\"a\": \"[{\",\n \"b\":";
  for (int i = 0; i < 10000; ++i)
    objects += "{\"k\":";
  CAF_CHECK_EQUAL(where(json_error(objects)),
                  "2:" + std::to_string(5 + 127 * 5 + 1));
}

CAF_TEST(nesting exactly at the limit is accepted and the limit can be raised) {
  auto three = depth_limit(3);
  CAF_CHECK(parse_document("[[[1]]]", document_format::json, "d", three));
  CAF_CHECK_EQUAL(json_error("[[[[1]]]]", three).column, 4u);
  CAF_CHECK(parse_document("[[[1]]]", document_format::yaml, "d", three));
  CAF_CHECK_EQUAL(yaml_error("[[[[1]]]]", three).column, 4u);
  auto deep = std::string(10000, '[') + std::string(10000, ']');
  CAF_CHECK(parse_document(deep, document_format::json, "d",
                           depth_limit(1000000)));
}

CAF_TEST(ten thousand nested yaml flow sequences give a clean error) {
  std::string text(10000, '[');
  text += std::string(10000, ']');
  CAF_CHECK_EQUAL(yaml_error(text).str(),
                  "doc:1:129: nesting depth exceeds the limit of 128");
  // Past yaml-cpp's own recursion guard when our limit is higher.
  auto e = yaml_error(text, depth_limit(1000000));
  CAF_CHECK_EQUAL(e.line, 1u);
  CAF_CHECK(contains(e.message, "too deep"));
}

CAF_TEST(ten thousand nested yaml block mappings give a clean error) {
  std::string text;
  for (std::size_t i = 0; i < 10000; ++i)
    text += std::string(i, ' ') + "a:\n";
  CAF_CHECK_EQUAL(yaml_error(text).str(),
                  "doc:129:129: nesting depth exceeds the limit of 128");
  std::string seqs;
  for (int i = 0; i < 10000; ++i)
    seqs += "- ";
  seqs += "x\n";
  CAF_CHECK_EQUAL(where(yaml_error(seqs)), "1:257");
}

CAF_TEST(a document over max_bytes is refused before parsing) {
  parse_limits limits;
  limits.max_bytes = 10;
  CAF_CHECK_EQUAL(json_error(R"({"a": 12345})", limits).str(),
                  "doc: document is 12 bytes, limit is 10");
  CAF_CHECK_EQUAL(yaml_error("a: 123456789", limits).str(),
                  "doc: document is 12 bytes, limit is 10");
  scratch_dir tmp;
  auto path = tmp.write("big.json", R"({"a": "0123456789"})");
  auto r = parse_file(path, limits);
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->str(), path + ": document is 19 bytes, limit is 10");
}

CAF_TEST(a five mebibyte string parses fine) {
  std::string big(5u << 20, 'x');
  auto r = parse_document("{\"big\": \"" + big + "\"}", document_format::json,
                          "d");
  CAF_REQUIRE(r);
  CAF_CHECK_EQUAL(r.value["big"].get<std::string>().size(), big.size());
  auto y = parse_document("big: '" + big + "'\n", document_format::yaml, "d");
  CAF_REQUIRE(y);
  CAF_CHECK_EQUAL(y.value["big"].get<std::string>().size(), big.size());
}

CAF_TEST(the format follows the file extension) {
  CAF_CHECK(format_for_path("a/b.json") == document_format::json);
  CAF_CHECK(format_for_path("b.yaml") == document_format::yaml);
  CAF_CHECK(format_for_path("b.yml") == document_format::yaml);
  CAF_CHECK(format_for_path("B.YML") == document_format::yaml);
  CAF_CHECK(format_for_path("b.TOML") == document_format::toml);
  CAF_CHECK(!format_for_path("b.ini"));
  CAF_CHECK(!format_for_path("json"));
  CAF_CHECK(!format_for_path("dir.json/file"));
  CAF_CHECK(!format_for_path("b.json.bak"));
}

CAF_TEST(parse_file reads yaml and json files and names them in errors) {
  scratch_dir tmp;
  auto y = parse_file(tmp.write("c.yml", "a:\n  b: [1, 2]\n"));
  CAF_CHECK_EQUAL(y.value.dump(), R"({"a":{"b":[1,2]}})");
  auto j = parse_file(tmp.write("c.JSON", R"({"a": true})"));
  CAF_CHECK_EQUAL(j.value.dump(), R"({"a":true})");
  auto path = tmp.write("bad.yaml", "a: 1\na: 2\n");
  auto r = parse_file(path);
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->str(), path + ":2:1: duplicate key 'a'");
}

CAF_TEST(unreadable files and unknown extensions fail without a position) {
  auto r = parse_file("/nonexistent/dir/config.yaml");
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->source, "/nonexistent/dir/config.yaml");
  CAF_CHECK_EQUAL(where(*r.error), "0:0");
  CAF_CHECK_EQUAL(r.error->message, "No such file or directory");
  scratch_dir tmp;
  auto dir = tmp.dir / "d.json";
  std::filesystem::create_directories(dir);
  r = parse_file(dir.string());
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->str(), dir.string() + ": Is a directory");
  auto ini = tmp.write("c.ini", "a = 1\n");
  r = parse_file(ini);
  CAF_REQUIRE(!r);
  CAF_CHECK_EQUAL(r.error->str(), ini + ": unknown file extension (expected "
                                        ".json, .yaml, .yml or .toml)");
}

} // namespace parse_suite

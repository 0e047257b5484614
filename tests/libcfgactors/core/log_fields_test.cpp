// Tests for reading the library's `event=name key=value` log lines back into
// JSON fields (cfgd's --log-format json), golden lines and round trips.
#define CAF_SUITE log_fields
#include "cfgactors_test.hpp"

#include "cfgactors/log_fields.hpp"

#include <string>
#include <vector>

#include "core/log.hpp"

namespace log_fields_suite {

using namespace cfgactors;
using ojson = nlohmann::ordered_json;

namespace {

ojson fields(const std::string& line) {
  return log_fields(line);
}

ojson parsed(const char* text) {
  return ojson::parse(text);
}

} // namespace

CAF_TEST(a commit line gives one field per key with numbers as numbers) {
  auto f = fields("event=config_committed version=5 hash=\"0a1b2c3d4e5f\" "
                  "origin=\"api:alice\" author=\"alice\" reason=\"\"");
  CAF_CHECK_EQUAL(f, parsed(R"({"event": "config_committed", "version": 5,
    "hash": "0a1b2c3d4e5f", "origin": "api:alice", "author": "alice",
    "reason": "", "msg": "config_committed"})"));
  // Keys keep the line's order.
  CAF_CHECK_EQUAL(f.begin().key(), "event");
}

CAF_TEST(quoted values keep spaces escaped quotes and equals signs) {
  auto f = fields(R"(event=x reason="say \"hi\" a=b c" path="a.b")");
  CAF_CHECK_EQUAL(f["reason"], "say \"hi\" a=b c");
  CAF_CHECK_EQUAL(f["path"], "a.b");
  // `=` inside a bare value belongs to the value.
  auto url = fields("event=x url=http://h/?a=1&b=2");
  CAF_CHECK_EQUAL(url["url"], "http://h/?a=1&b=2");
}

CAF_TEST(escapes of the library come back as the bytes they stand for) {
  auto f = fields(R"(event=x a="l1\nl2\r\\" b="\x01\x7f" c="\q")");
  CAF_CHECK_EQUAL(f["a"], "l1\nl2\r\\");
  CAF_CHECK_EQUAL(f["b"], std::string("\x01\x7f"));
  CAF_CHECK_EQUAL(f["c"], "\\q"); // not an escape of ours: kept as written
}

CAF_TEST(unicode passes through unchanged) {
  auto f = fields("event=x who=\"Zoë 名前 🚀\" bare=ünï");
  CAF_CHECK_EQUAL(f["who"], "Zoë 名前 🚀");
  CAF_CHECK_EQUAL(f["bare"], "ünï");
}

CAF_TEST(an errors array becomes a JSON array of strings) {
  auto line = std::string{"event=config_rejected count=2 errors="}
              + detail::json_strings({"port: must be <= 65535 [range]",
                                      "name: \"x y\" is not [a-z]+ [pattern]"});
  auto f = fields(line);
  CAF_CHECK_EQUAL(f["count"], 2);
  CAF_CHECK_EQUAL(f["errors"],
                  parsed(R"(["port: must be <= 65535 [range]",
                            "name: \"x y\" is not [a-z]+ [pattern]"])"));
}

CAF_TEST(bare values are numbers bools or text) {
  auto f = fields("event=x a=12 b=-3 c=0.25 d=1e3 e=true f=false g=0123 "
                  "h=12abc i=1.2.3 j=-");
  CAF_CHECK_EQUAL(f["a"], 12);
  CAF_CHECK_EQUAL(f["b"], -3);
  CAF_CHECK_EQUAL(f["c"], 0.25);
  CAF_CHECK_EQUAL(f["d"], 1000.0);
  CAF_CHECK_EQUAL(f["e"], true);
  CAF_CHECK_EQUAL(f["f"], false);
  CAF_CHECK_EQUAL(f["g"], "0123"); // a hex hash may start with a zero
  CAF_CHECK_EQUAL(f["h"], "12abc");
  CAF_CHECK_EQUAL(f["i"], "1.2.3");
  CAF_CHECK_EQUAL(f["j"], "-");
}

CAF_TEST(prose words become msg and lines without fields stay whole) {
  auto f = fields("event=cluster_refused reason=auth peer=1.2.3.4 (logged "
                  "once per peer)");
  CAF_CHECK_EQUAL(f["msg"], "(logged once per peer)");
  CAF_CHECK_EQUAL(f["peer"], "1.2.3.4");
  CAF_CHECK_EQUAL(fields("just some words"), parsed(R"({"msg":
    "just some words"})"));
  CAF_CHECK_EQUAL(fields(""), parsed(R"({"msg": ""})"));
}

CAF_TEST(a repeated key collects its values and msg cannot be overwritten) {
  auto f = fields("event=x tag=a tag=\"b c\" tag=3 msg=\"mine\"");
  CAF_CHECK_EQUAL(f["tag"], parsed(R"(["a", "b c", 3])"));
  CAF_CHECK_EQUAL(f["msg_"], "mine");
  CAF_CHECK_EQUAL(f["msg"], "x");
}

CAF_TEST(unclosed quotes and arrays are kept as text) {
  auto a = fields(R"(event=x a="open)");
  CAF_CHECK_EQUAL(a["a"], "\"open");
  auto b = fields("event=x b=[1,2 c=3");
  CAF_CHECK_EQUAL(b["b"], "[1,2");
  CAF_CHECK_EQUAL(b["c"], 3);
  auto c = fields(R"(event=x c=[1,"]"] d=1)");
  CAF_CHECK_EQUAL(c["c"], parsed(R"([1, "]"])"));
  auto d = fields(R"(event=x d=["x" e=1)");
  CAF_CHECK_EQUAL(d["d"], "[\"x\"");
  CAF_CHECK_EQUAL(d["e"], 1);
}

CAF_TEST(any text escaped by the library reads back as itself) {
  std::vector<std::string> texts{
    "",        "plain",       "two words",   "a=b",      "\"quoted\"",
    "back\\",  "\\\"",        "tab\there",   "nl\nnl",   "cr\r",
    "\x1b[2J", "trailing ",   " leading",    "Zoë 🚀",   "[1,2]",
    "x\" y=\"z",
  };
  for (auto& text : texts) {
    auto line = "event=x v=\"" + detail::escaped(text) + "\" after=1";
    auto f = fields(line);
    CAF_CHECK_EQUAL(f["v"], text);
    CAF_CHECK_EQUAL(f["after"], 1);
  }
}

} // namespace log_fields_suite

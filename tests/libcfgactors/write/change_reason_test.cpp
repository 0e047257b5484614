#define CAF_SUITE change_reason
// What a write's reason may hold: one printable line of UTF-8, bounded.
#include "cfgactors_test.hpp"

#include <string>
#include <string_view>

#include "cfgactors/change_reason.hpp"

namespace change_reason_suite {

using namespace cfgactors;

namespace {

bool taken(std::string_view text) {
  return !reason_problem(text).has_value();
}

/// The problem named for `text`, or "" if it is taken.
std::string problem(std::string_view text) {
  return reason_problem(text).value_or("");
}

bool contains(const std::string& text, std::string_view part) {
  return text.find(part) != std::string::npos;
}

} // namespace

CAF_TEST(printable text in any script is a reason) {
  CAF_CHECK(taken(""));
  CAF_CHECK(taken("OPS-42: pool too small, see the ticket"));
  CAF_CHECK(taken("quotes \" and backslashes \\ are text"));
  CAF_CHECK(taken("\u00e9t\u00e9 \u2014 \u65e5\u672c\u8a9e"));
  CAF_CHECK(taken("\xf0\x9f\x9a\x80 four bytes")); // U+1F680
  CAF_CHECK(taken(std::string(max_reason_bytes, 'x')));
}

CAF_TEST(a reason longer than 500 bytes is refused with its length) {
  auto text = problem(std::string(max_reason_bytes + 1, 'x'));
  CAF_CHECK(contains(text, "longer than 500 bytes (501)"));
  // Bytes, not characters: 167 three-byte characters are 501 bytes.
  std::string dashes;
  for (int i = 0; i < 167; ++i)
    dashes += "\u2014";
  CAF_CHECK(!taken(dashes));
}

CAF_TEST(a control character or a line break is refused with its place) {
  CAF_CHECK(contains(problem("two\nlines"), "a control character (at byte 3)"));
  CAF_CHECK(contains(problem("tab\there"), "control character"));
  CAF_CHECK(contains(problem(std::string_view{"nul\0x", 5}),
                     "control character"));
  CAF_CHECK(contains(problem("esc \x1b[31m"), "control character"));
  CAF_CHECK(contains(problem("del \x7f"), "control character"));
  CAF_CHECK(contains(problem("csi \xc2\x9b"), "control character")); // C1
  CAF_CHECK(contains(problem("nel \xc2\x85"), "control character")); // C1
  CAF_CHECK(contains(problem("ls \u2028"), "a line break (at byte 3)"));
  CAF_CHECK(contains(problem("ps \u2029"), "a line break"));
}

CAF_TEST(bytes that are not UTF-8 are refused with their place) {
  CAF_CHECK(contains(problem("bad \xc3\x28"), "not valid UTF-8 (at byte 4)"));
  CAF_CHECK(contains(problem("cut \xe2\x80"), "not valid UTF-8"));
  CAF_CHECK(contains(problem("lone \x80"), "not valid UTF-8"));
  CAF_CHECK(contains(problem("overlong \xc0\xaf"), "not valid UTF-8"));
  CAF_CHECK(contains(problem("overlong \xe0\x80\xaf"), "not valid UTF-8"));
  CAF_CHECK(contains(problem("surrogate \xed\xa0\x80"), "not valid UTF-8"));
  CAF_CHECK(contains(problem("too high \xf4\x90\x80\x80"), "not valid UTF-8"));
  CAF_CHECK(contains(problem("\xff"), "not valid UTF-8 (at byte 0)"));
}

} // namespace change_reason_suite

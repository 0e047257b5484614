#define CAF_SUITE semver
#include "cfgactors_test.hpp"

#include "cfgactors/semver.hpp"

#include "contracts/semver_text.hpp"

#include <string>

namespace semver_suite {

using namespace cfgactors;

namespace {

semver v(const char* text) {
  auto result = semver::parse(text);
  CAF_REQUIRE(result.has_value());
  return *result;
}

std::string parse_error(const char* text) {
  std::string error;
  if (semver::parse(text, &error))
    return "";
  return error;
}

} // namespace

CAF_TEST(versions parse into their parts and render back) {
  auto x = v("1.22.333-rc.1+build.7");
  CAF_CHECK_EQUAL(x.major, 1u);
  CAF_CHECK_EQUAL(x.minor, 22u);
  CAF_CHECK_EQUAL(x.patch, 333u);
  CAF_CHECK_EQUAL(x.pre, (std::vector<std::string>{"rc", "1"}));
  CAF_CHECK_EQUAL(x.build, "build.7");
  CAF_CHECK_EQUAL(x.str(), "1.22.333-rc.1+build.7");
  CAF_CHECK_EQUAL(v("v2.1").str(), "2.1.0");
  CAF_CHECK_EQUAL(v("3").str(), "3.0.0");
}

CAF_TEST(malformed versions are refused with the input quoted) {
  for (auto text : {"", "1..2", "1.2.3.4", "01.2.3", "1.x.3", "1.2.3-",
                    "1.2.3-rc..1", "1.2.3-01", "1.2.3+", "1.2.3+a_b", "-1"}) {
    auto error = parse_error(text);
    CAF_CHECK(!error.empty());
    CAF_CHECK(error.find('"' + std::string{text} + '"') != std::string::npos);
  }
  CAF_CHECK(parse_error("99999999999999999999.0.0").find("numbers")
            != std::string::npos);
}

CAF_TEST(precedence follows semver 2 including pre-releases) {
  // semver.org §11's example chain, each lower than the next.
  const char* chain[] = {"1.0.0-alpha",      "1.0.0-alpha.1", "1.0.0-alpha.beta",
                         "1.0.0-beta",       "1.0.0-beta.2",  "1.0.0-beta.11",
                         "1.0.0-rc.1",       "1.0.0",         "1.0.1",
                         "1.1.0",            "1.10.0",        "2.0.0"};
  for (size_t i = 0; i + 1 < std::size(chain); ++i) {
    CAF_MESSAGE(chain[i] << " < " << chain[i + 1]);
    CAF_CHECK(v(chain[i]) < v(chain[i + 1]));
    CAF_CHECK(v(chain[i + 1]) > v(chain[i]));
    CAF_CHECK(v(chain[i]) != v(chain[i + 1]));
  }
  CAF_CHECK(v("1.0.0+a") == v("1.0.0+b"));
  CAF_CHECK(v("1.2") == v("1.2.0"));
}

CAF_TEST(compatibility needs the same major and no older version) {
  CAF_CHECK(compatible(v("1.4.0"), v("1.2.0")));
  CAF_CHECK(compatible(v("1.2.0"), v("1.2.0")));
  CAF_CHECK(!compatible(v("1.1.9"), v("1.2.0")));
  CAF_CHECK(!compatible(v("2.0.0"), v("1.2.0")));
  CAF_CHECK(!compatible(v("1.2.0-rc.1"), v("1.2.0")));
}

CAF_TEST(the in-place scan accepts and orders exactly as parse does) {
  const char* texts[] = {
    "1.2.3",      "v1.2",      "V3",          "1.2.3-rc.1",   "1.2.3-rc.1+b.2",
    "1.2.3+b",    "",          "v",           "1..2",         "1.2.3.4",
    "01.2.3",     "1.x.3",     "1.2.3-",      "1.2.3-01",     "1.2.3-rc..1",
    "1.2.3+",     "1.2.3+a..b", "1.2.3-a_b",  "1.2.3.4.x",    "1.2-rc.1",
    "2.0.0-alpha.beta.1", "2.0.0-1", "2.0.0-alpha", "99999999999999999999",
    "1.2.3-x.7.z.92", "1.0.0-0",  "1.2.x.4",    "1.2.3-+",
  };
  for (auto x : texts) {
    CAF_MESSAGE("'" << x << "'");
    std::string error;
    auto parsed = semver::parse(x, &error);
    const char* why = nullptr;
    auto scanned = detail::scan_semver(x, &why);
    CAF_REQUIRE_EQUAL(parsed.has_value(), scanned.has_value());
    if (!parsed) {
      CAF_CHECK(error.find(why) != std::string::npos);
      continue;
    }
    for (auto y : texts)
      if (auto other = semver::parse(y))
        CAF_CHECK_EQUAL(detail::compare(*scanned, *other),
                        compare(*parsed, *other));
  }
}

} // namespace semver_suite

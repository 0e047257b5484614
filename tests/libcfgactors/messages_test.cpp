#define CAF_SUITE messages
// Every type that can cross a process boundary survives serialization.
#include "cfgactors_test.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/system_config.hpp"

using namespace cfgactors;

namespace {

struct fixture {
  system_config cfg;
  caf::actor_system sys{cfg};

  template <class T>
  T round_trip(T x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    if (auto err = sink(x))
      CAF_FAIL("serializing failed: " << sys.render(err));
    T result;
    caf::binary_deserializer source{sys, buf};
    if (auto err = source(result))
      CAF_FAIL("deserializing failed: " << sys.render(err));
    return result;
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(message_tests, fixture)

CAF_TEST(write requests round trip with their json values) {
  write_request req{{operation::set("a.b[0]", json{{"x", {1, 2.5, "s"}}}),
                     operation::flag("beta", true),
                     operation::replace_layer("file:/etc/a.yaml",
                                              json{{"k", nullptr}}),
                     operation::rollback(7)},
                    "api:alice",
                    42,
                    {"db.password"}};
  CAF_CHECK_EQUAL(round_trip(req), req);
}

CAF_TEST(source statuses round trip) {
  source_status st;
  st.kind = "file";
  st.layer = "file:/etc/app.yaml";
  st.reads = 3;
  st.fail("/etc/app.yaml:4:7: bad indentation");
  st.rejected = 1;
  CAF_CHECK_EQUAL(round_trip(st), st);
}

CAF_TEST(write results round trip with every reason) {
  auto res = write_result::reject(
    errc::validation_failed,
    {{"logging.level", "schema.enum", "must be one of ..."},
     {"buffer_size", "range", "must be between 100 and 100000, got 5"}});
  res.version = 3;
  res.hash = std::string(64, 'a');
  CAF_CHECK_EQUAL(round_trip(res), res);
}

CAF_TEST(history rows diffs and stats round trip) {
  version_info row{9, "abc", 1700000000000, "file:x"};
  CAF_CHECK_EQUAL(round_trip(row), row);
  diff_result d{1, 2, json::parse(R"([{"op":"remove","path":"/a"}])"),
                json::parse(R"({"a":{"removed":1}})")};
  CAF_CHECK_EQUAL(round_trip(d), d);
  validator_stats vs{3, 1, 2, {{"range", 2}}};
  CAF_CHECK_EQUAL(round_trip(vs), vs);
  router_stats rs{1, 2, 3, 4, 5, 6};
  CAF_CHECK_EQUAL(round_trip(rs), rs);
}

CAF_TEST(errors render with their category and context) {
  auto err = make_error(errc::version_conflict, "expected 3, current is 4");
  CAF_CHECK_EQUAL(sys.render(err),
                  "cfgactors.version_conflict: expected 3, current is 4");
}

CAF_TEST_FIXTURE_SCOPE_END()

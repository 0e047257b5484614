#define CAF_SUITE messages
// Every type that can cross a process boundary survives serialization.
#include "cfgactors_test.hpp"

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/cluster_messages.hpp"
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

  /// Round trip inside a caf::message, as across nodes: only works for a
  /// registered type (an unregistered one fails to load).
  template <class T>
  bool message_round_trip(const T& x) {
    auto msg = caf::make_message(x);
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    if (auto err = sink(msg)) {
      CAF_MESSAGE("serializing failed: " << sys.render(err));
      return false;
    }
    caf::message result;
    caf::binary_deserializer source{sys, buf};
    if (auto err = source(result)) {
      CAF_MESSAGE("deserializing failed: " << sys.render(err));
      return false;
    }
    return result.match_elements<T>() && result.get_as<T>(0) == x;
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

CAF_TEST(cluster messages round trip) {
  hello h{"replica-1", 17, std::string(64, 'f')};
  CAF_CHECK_EQUAL(round_trip(h), h);
  CAF_CHECK(message_round_trip(h));
  replicated_change c{18, 17, "abc", 1700000000123, "api:alice",
                      json::parse(R"([{"op":"replace","path":"/a/b","value":[1,{"x":null}]}])"),
                      true};
  CAF_CHECK_EQUAL(round_trip(c), c);
  c.ack_now = false;
  CAF_CHECK_EQUAL(round_trip(c), c);
  CAF_CHECK(message_round_trip(c));
  full_snapshot f{18,
                  "abc",
                  1700000000123,
                  "file:x",
                  json::parse(R"([{"name":"defaults","data":{"a":1}}])"),
                  json::parse(R"({"a":1,"s":"\u00e9\n"})")};
  CAF_CHECK_EQUAL(round_trip(f), f);
  CAF_CHECK(message_round_trip(f));
  ack a{"replica-1", 18, "abc"};
  CAF_CHECK_EQUAL(round_trip(a), a);
  CAF_CHECK(message_round_trip(a));
}

CAF_TEST(consistent write results and node listings round trip) {
  consistent_write_result r;
  r.result.status = write_status::committed;
  r.result.version = 5;
  r.result.hash = "h";
  r.level = consistency::majority;
  r.satisfied = true;
  r.acked = {"r1", "r2"};
  r.missing = {"r3"};
  CAF_CHECK_EQUAL(round_trip(r), r);
  CAF_CHECK(message_round_trip(r));
  CAF_CHECK(message_round_trip(consistency::all));
  std::vector<replica_info> nodes{{"r1", "connected", 5, "h", 0, 17},
                                  {"r3", "disconnected", 3, "g", 2, 11}};
  CAF_CHECK_EQUAL(round_trip(nodes), nodes);
  CAF_CHECK(message_round_trip(nodes));
  replica_status st{"r1", true, false, 5, "h", 1, 2};
  CAF_CHECK_EQUAL(round_trip(st), st);
  CAF_CHECK(message_round_trip(st));
}

CAF_TEST(consistency levels parse and print) {
  for (auto x : {consistency::local, consistency::majority, consistency::all})
    CAF_CHECK(parse_consistency(to_string(x)) == x);
  CAF_CHECK(!parse_consistency("quorum"));
}

CAF_TEST_FIXTURE_SCOPE_END()

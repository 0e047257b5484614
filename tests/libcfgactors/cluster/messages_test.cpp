#define CAF_SUITE messages
// Every type that can cross a process boundary survives serialization.
#include "cfgactors_test.hpp"

#include <cstdio>
#include <string>

#include <caf/all.hpp>
#include <caf/binary_deserializer.hpp>
#include <caf/binary_serializer.hpp>

#include "cfgactors/actor_types.hpp"
#include "cfgactors/cluster_messages.hpp"
#include "cfgactors/replica_state.hpp"
#include "cfgactors/system_config.hpp"

namespace messages_suite {

using namespace cfgactors;

namespace {

constexpr replica_state all_replica_states[] = {
  replica_state::syncing, replica_state::connected, replica_state::stale,
  replica_state::disconnected};

/// replica_info as it was when its state was a string: what pipe of older
/// builds send and expect.
struct string_state_replica_info {
  std::string node;
  std::string state;
  uint64_t acked_version = 0;
  std::string acked_hash;
  uint64_t lag = 0;
  int64_t last_ack_ms = 0;
};

template <class Inspector>
typename Inspector::result_type inspect(Inspector& f,
                                        string_state_replica_info& x) {
  return f(caf::meta::type_name("replica_info"), x.node, x.state,
           x.acked_version, x.acked_hash, x.lag, x.last_ack_ms);
}

std::string hex(const std::vector<char>& bytes) {
  std::string out;
  char digits[3];
  for (auto byte : bytes) {
    std::snprintf(digits, sizeof(digits), "%02x",
                  static_cast<unsigned char>(byte));
    out += digits;
  }
  return out;
}

struct fixture {
  system_config cfg;
  caf::actor_system sys{cfg};

  template <class T>
  std::vector<char> serialize(T x) {
    std::vector<char> buf;
    caf::binary_serializer sink{sys, buf};
    if (auto err = sink(x))
      CAF_FAIL("serializing failed: " << sys.render(err));
    return buf;
  }

  template <class T>
  caf::expected<T> deserialize(const std::vector<char>& buf) {
    T result;
    caf::binary_deserializer source{sys, buf};
    if (auto err = source(result))
      return err;
    return result;
  }

  template <class T>
  T round_trip(T x) {
    auto result = deserialize<T>(serialize(std::move(x)));
    if (!result)
      CAF_FAIL("deserializing failed: " << sys.render(result.error()));
    return std::move(*result);
  }

  /// Round trip inside a caf::message, as across pipe: only works for a
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
  req.idempotency_key = "k1";
  req.author = "alice";
  req.reason = "OPS-42: \u00e9 \"quoted\"";
  CAF_CHECK_EQUAL(round_trip(req), req);
  CAF_CHECK(message_round_trip(req));
  // A replica forwards a dry run as one.
  req.dry_run = true;
  CAF_CHECK_EQUAL(round_trip(req), req);
  CAF_CHECK(round_trip(req).dry_run);
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
  // A dry run's answer carries its diff (and what to mask) to a replica.
  write_result dry{write_status::accepted, 3, std::string(64, 'b'),
                   errc::none, {}, {}};
  dry.diff.from = 3;
  dry.diff.patch = json::array({{{"op", "replace"}, {"path", "/a"},
                                 {"value", 2}}});
  dry.diff.view = json{{"a", {{"old", 1}, {"new", 2}}}};
  dry.diff.secrets = {"db.password"};
  CAF_CHECK_EQUAL(round_trip(dry), dry);
  CAF_CHECK_EQUAL(round_trip(dry).diff.view, dry.diff.view);
}

CAF_TEST(history rows diffs and stats round trip) {
  version_info row{9, "abc", 1700000000000, "api:alice", "alice",
                   "OPS-42: \u00e9 \"quoted\""};
  CAF_CHECK_EQUAL(round_trip(row), row);
  CAF_CHECK(message_round_trip(row));
  // Author and reason are part of the row: a lost one shows as unequal.
  auto other = row;
  other.reason.clear();
  CAF_CHECK(!(round_trip(other) == row));
  diff_result d{1, 2, json::parse(R"([{"op":"remove","path":"/a"}])"),
                json::parse(R"({"a":{"removed":1}})"), {"db.password"}};
  CAF_CHECK_EQUAL(round_trip(d), d);
  validator_stats vs{3, 1, 2, {{"range", 2}}};
  CAF_CHECK_EQUAL(round_trip(vs), vs);
  router_stats rs{1, 2, 3, 4, 5, 6, 7, 8};
  CAF_CHECK_EQUAL(round_trip(rs), rs);
  auto every = delivery::every_version(7);
  CAF_CHECK_EQUAL(round_trip(every), every);
  CAF_CHECK(message_round_trip(every));
  CAF_CHECK(!(round_trip(every) == delivery::latest()));
}

CAF_TEST(errors render with their category and context) {
  auto err = make_error(errc::version_conflict, "expected 3, current is 4");
  CAF_CHECK_EQUAL(sys.render(err),
                  "cfgactors.version_conflict: expected 3, current is 4");
}

CAF_TEST(cluster messages round trip) {
  hello h{"replica-1", 17, std::string(64, 'f'), std::string(64, 'e'),
          std::string(32, 'd'), true};
  CAF_CHECK_EQUAL(round_trip(h), h);
  CAF_CHECK(message_round_trip(h));
  replicated_change c{18, 17, "abc", 1700000000123, "api:alice",
                      json::parse(R"([{"op":"replace","path":"/a/b","value":[1,{"x":null}]}])"),
                      true, {"db.password", "tenants.*.key"},
                      std::string(32, 'a'), 7, std::string(64, '9'),
                      std::string(64, 'b'), "alice", "OPS-42: why"};
  CAF_CHECK_EQUAL(round_trip(c), c);
  c.ack_now = false;
  CAF_CHECK_EQUAL(round_trip(c), c);
  CAF_CHECK(message_round_trip(c));
  full_snapshot f{18,
                  "abc",
                  1700000000123,
                  "file:x",
                  json::parse(R"([{"name":"defaults","data":{"a":1}}])"),
                  json::parse(R"({"a":1,"s":"\u00e9\n"})"),
                  {"s"},
                  std::string(32, 'a'),
                  7,
                  std::string(64, '9'),
                  std::string(64, 'c'),
                  "alice",
                  "OPS-42: why"};
  CAF_CHECK_EQUAL(round_trip(f), f);
  CAF_CHECK(message_round_trip(f));
  ack a{"replica-1", 18, "abc", "session"};
  CAF_CHECK_EQUAL(round_trip(a), a);
  CAF_CHECK(message_round_trip(a));
}

CAF_TEST(handshake messages and forwarded writes round trip) {
  auth_challenge c{std::string(64, 'a')};
  CAF_CHECK_EQUAL(round_trip(c), c);
  CAF_CHECK(message_round_trip(c));
  auth_proof p{"replica-1", std::string(64, 'a'), std::string(64, 'b'),
               std::string(64, 'c')};
  CAF_CHECK_EQUAL(round_trip(p), p);
  CAF_CHECK(message_round_trip(p));
  auth_accept a{std::string(64, 'd')};
  CAF_CHECK_EQUAL(round_trip(a), a);
  CAF_CHECK(message_round_trip(a));
  linked_write w{"session",
                 write_request{{operation::set("a.b", 1)}, "api:alice", 3,
                               {"a.b"}},
                 consistency::all, 250};
  CAF_CHECK_EQUAL(round_trip(w), w);
  CAF_CHECK(message_round_trip(w));
  // Who and why travel to the primary with the forwarded write.
  w.request.author = "alice";
  w.request.reason = "OPS-42";
  CAF_CHECK_EQUAL(round_trip(w), w);
  CAF_CHECK(message_round_trip(w));
  cluster_stats s{{{"bad_proof", 2}, {"unauthenticated", 7}}, 1, 2, 3};
  CAF_CHECK_EQUAL(round_trip(s), s);
  CAF_CHECK(message_round_trip(s));
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
  std::vector<replica_info> pipe{
    {"r1", replica_state::connected, 5, "h", 0, 17},
    {"r3", replica_state::disconnected, 3, "g", 2, 11}};
  CAF_CHECK_EQUAL(round_trip(pipe), pipe);
  CAF_CHECK(message_round_trip(pipe));
  replica_status st{"r1", true, false, 5, "h", 1, 2,
                    "primary is at version 3, behind this replica's 5: "
                    "refusing to go back",
                    std::string(32, 'a'), 4};
  CAF_CHECK_EQUAL(round_trip(st), st);
  CAF_CHECK(message_round_trip(st));
}

CAF_TEST(replica infos round trip in every state) {
  for (auto state : all_replica_states) {
    replica_info info{"r1", state, 5, "h", 1, 17};
    CAF_CHECK_EQUAL(round_trip(info), info);
    CAF_CHECK(message_round_trip(info));
  }
}

CAF_TEST(a replica info travels exactly as when its state was a string) {
  replica_info info{"r1", replica_state::connected, 5, "h", 0, 17};
  auto bytes = serialize(info);
  CAF_CHECK_EQUAL(bytes, serialize(string_state_replica_info{
                           "r1", "connected", 5, "h", 0, 17}));
  // Pinned from the build whose replica_info held the state as a string.
  CAF_CHECK_EQUAL(hex(bytes), "0272310963"
                              "6f6e6e6563746564"
                              "0000000000000005"
                              "0168"
                              "0000000000000000"
                              "0000000000000011");
  for (auto state : all_replica_states) {
    string_state_replica_info old{"r2", std::string{to_string(state)}, 9,
                                  "g", 2, 11};
    auto loaded = deserialize<replica_info>(serialize(old));
    CAF_REQUIRE(loaded);
    CAF_CHECK_EQUAL(*loaded, (replica_info{"r2", state, 9, "g", 2, 11}));
  }
}

CAF_TEST(a replica info with an unknown state does not load) {
  auto bytes = serialize(string_state_replica_info{"r1", "rebooting", 5, "h",
                                                   0, 17});
  auto loaded = deserialize<replica_info>(bytes);
  CAF_REQUIRE(!loaded);
  CAF_CHECK_EQUAL(loaded.error(), caf::sec::invalid_argument);
  CAF_CHECK_NOT_EQUAL(sys.render(loaded.error()).find("rebooting"),
                      std::string::npos);
}

CAF_TEST(replica states print and parse by name) {
  CAF_CHECK_EQUAL(to_string(replica_state::syncing), "syncing");
  CAF_CHECK_EQUAL(to_string(replica_state::connected), "connected");
  CAF_CHECK_EQUAL(to_string(replica_state::stale), "stale");
  CAF_CHECK_EQUAL(to_string(replica_state::disconnected), "disconnected");
  for (auto state : all_replica_states) {
    auto parsed = replica_state::syncing;
    CAF_CHECK(from_string(to_string(state), parsed));
    CAF_CHECK_EQUAL(parsed, state);
  }
  auto unchanged = replica_state::stale;
  CAF_CHECK(!from_string("Connected", unchanged));
  CAF_CHECK_EQUAL(unchanged, replica_state::stale);
  // What a failing CAF_CHECK_EQUAL prints: the name, not a number.
  CAF_CHECK_EQUAL(caf::deep_to_string(replica_state::disconnected),
                  "\"disconnected\"");
}

CAF_TEST(a replica status names its state) {
  replica_status st;
  CAF_CHECK_EQUAL(st.state(), replica_state::stale);
  st.stale = false;
  CAF_CHECK_EQUAL(st.state(), replica_state::syncing);
  st.connected = true;
  CAF_CHECK_EQUAL(st.state(), replica_state::connected);
  // Not reachable from a replica (connected needs a primary), but stale wins.
  st.stale = true;
  CAF_CHECK_EQUAL(st.state(), replica_state::stale);
}

CAF_TEST(consistency levels parse and print) {
  for (auto x : {consistency::local, consistency::majority, consistency::all})
    CAF_CHECK(parse_consistency(to_string(x)) == x);
  CAF_CHECK(!parse_consistency("quorum"));
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace messages_suite

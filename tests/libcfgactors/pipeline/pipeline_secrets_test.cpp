#define CAF_SUITE pipeline_secrets
// Secret paths through the pipeline: marked by writes and by the schema,
// carried by every later version, kept out of errors and logs, and named
// by diffs so that their patches and views can be masked.
#include "log_recorder.hpp"
#include "pipeline_fixture.hpp"

#include <memory>
#include <string>
#include <vector>

#include "cfgactors/rules.hpp"
#include "cfgactors/schema.hpp"
#include "cfgactors/secrets.hpp"

namespace pipeline_secrets_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

const std::string secret = "Zq7VtK2mXw9LrB4nJd8sHc3PfG6yTa1eUo5iRb0N";
const std::string other_secret = "Nw4Rt8Yu2Io6Pa1Sd5Fg9Hj3Kl7Zx0Cv4Bn8MqWe";

using strings = std::vector<std::string>;

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// The patterns of a snapshot's secrets (empty for none).
strings secrets_of(const snapshot_ptr& snap) {
  return snap->secrets ? snap->secrets->patterns() : strings{};
}

const char* schema_text = R"({
  "type": "object",
  "properties": {
    "db": {"type": "object", "properties": {
      "password": {"type": "string", "x-secret": true,
                   "pattern": "^[A-Za-z0-9]+$", "maxLength": 45},
      "host": {"type": "string"}}},
    "tenants": {"type": "object", "additionalProperties": {
      "type": "object",
      "properties": {"key": {"type": "string", "writeOnly": true}}}}
  }
})";

json_schema_ptr test_schema() {
  std::string err;
  auto schema = json_schema::compile(json::parse(schema_text), &err);
  if (!schema)
    CAF_FAIL("schema: " << err);
  return schema;
}

pipeline_options with_schema_and_rules() {
  pipeline_options opts;
  opts.validation.schema = test_schema();
  auto rules = std::make_shared<rule_set>();
  rules->one_of("api.token", {"allowed-token"})
    .type("vault", "string")
    .one_of("vault.inner.pin", {"0000"});
  opts.validation.rules = rules;
  return opts;
}

/// Keeps the log lines; a base class so that it outlives the actor system.
struct logged {
  log_recorder logs;
};

struct fixture : logged, pipeline_fixture {
  fixture() : pipeline_fixture(with_schema_and_rules()) {
    // nop
  }

  write_result write_env(json data, strings redact) {
    return write(write_request{{operation::replace_layer("env",
                                                         std::move(data))},
                               "env:CFG_", 0, std::move(redact)});
  }

  diff_result diff(uint64_t from, uint64_t to) {
    diff_result result;
    auto f = self->request(pipe.store, caf::infinite, diff_atom::value, from,
                           to);
    run();
    f.receive([&](diff_result& x) { result = std::move(x); },
              [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
    return result;
  }

  /// Checks that nothing the client or the log sees holds `value`.
  void check_hidden(const write_result& res, const std::string& value) {
    CAF_CHECK_EQUAL(res.status, write_status::rejected);
    CAF_CHECK(!res.errors.empty());
    for (auto& err : res.errors) {
      CAF_MESSAGE("error: " << err.str());
      CAF_CHECK(!contains(err.message, value.substr(0, 12)));
      CAF_CHECK(!contains(err.message, value.substr(24, 12)));
      CAF_CHECK(!contains(err.path, value.substr(0, 12)));
    }
    CAF_CHECK(!contains(res.describe(), value.substr(0, 12)));
    CAF_CHECK(logs.lines_with(value.substr(0, 12)).empty());
    CAF_CHECK(logs.lines_with(value.substr(24, 12)).empty());
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(pipeline_secret_tests, fixture)

CAF_TEST(the schema marks paths secret in every version) {
  auto res = set("db.host", "db1");
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(secrets_of(current()),
                  (strings{"db.password", "tenants.*.key"}));
  auto first = current()->secrets;
  res = set("db.password", secret);
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  // The same set, not a copy.
  CAF_CHECK_EQUAL(current()->secrets, first);
  CAF_CHECK_EQUAL((*current()->effective)["db"]["password"], secret);
  auto masked = current()->shown(false);
  CAF_CHECK_EQUAL(masked["db"]["password"], "***");
  auto clear = current()->shown(true);
  CAF_CHECK_EQUAL(clear["db"]["password"], secret);
}

CAF_TEST(a write that redacts a path makes it secret from then on) {
  auto res = write_env(json{{"api", {{"token", "allowed-token"}}}},
                       {"api.token"});
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  auto v1 = current();
  CAF_CHECK_EQUAL(secrets_of(v1),
                  (strings{"api.token", "db.password", "tenants.*.key"}));
  // Later versions from anyone keep it, sharing the set.
  res = set("db.host", "db2");
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(current()->secrets, v1->secrets);
  // Naming it again adds nothing.
  res = write_env(json{{"api", {{"token", "allowed-token"}}}, {"x", 1}},
                  {"api.token"});
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(current()->secrets, v1->secrets);
  // Another path joins them.
  res = write(write_request{{operation::set("extra.key", "k")}, "api:bob", 0,
                            {"extra.key"}});
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(secrets_of(current()),
                  (strings{"api.token", "db.password", "extra.key",
                           "tenants.*.key"}));
  // A rollback to a version before it keeps every path: once secret, always.
  res = write(operation::rollback(v1->version));
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(*current()->effective, *v1->effective);
  CAF_CHECK_EQUAL(secrets_of(current()),
                  (strings{"api.token", "db.password", "extra.key",
                           "tenants.*.key"}));
}

CAF_TEST(a path marked by a rejected write stays secret) {
  auto res = write_env(json{{"api", {{"token", secret}}}}, {"api.token"});
  check_hidden(res, secret);
  res = set("db.host", "db3");
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(secrets_of(current()),
                  (strings{"api.token", "db.password", "tenants.*.key"}));
}

CAF_TEST(a rejected write never shows a secret value) {
  // A rule that echoes the value, on a path the write marks.
  check_hidden(write_env(json{{"api", {{"token", secret}}}}, {"api.token"}),
               secret);
  // Marked once: a later write from anyone is masked as well.
  check_hidden(write(write_request{{operation::set("api.token", other_secret)},
                                   "api:alice", 0, {}}),
               other_secret);
  // The schema's secrets: its pattern and length checks quote the value.
  check_hidden(set("db.password", secret + "!"), secret);
  check_hidden(set("db.password", secret + secret), secret);
  check_hidden(write(write_request{{operation::set("tenants.acme.key", 12),
                                    operation::set("db.password",
                                                   "-" + other_secret)},
                                   "api:alice", 0, {}}),
               other_secret);
  // Several errors at once, the secret among them and next to them.
  auto res = write(write_request{{operation::set("api.token", secret),
                                  operation::set("db.host", 5)},
                                 "api:alice", 0, {}});
  check_hidden(res, secret);
  CAF_CHECK_EQUAL(res.errors.size(), 2u);
  // Values that are not secret are still shown.
  res = set("db.host", 5);
  CAF_CHECK(contains(res.describe(), "got 5"));
  CAF_CHECK_EQUAL(current()->version, 0u);
}

CAF_TEST(a secret object hides the values inside it in errors) {
  // `vault` is secret as a whole; the rule on a value inside it quotes it.
  check_hidden(write_env(json{{"vault", {{"inner", {{"pin", secret}}}}}},
                         {"vault"}),
               secret);
}

CAF_TEST(a diff names the secrets and its masked forms hide them) {
  auto res = write_env(json{{"db", {{"password", "Old0secret0value0123"},
                                    {"host", "db1"}}},
                            {"api", {{"token", "allowed-token"}}}},
                       {"api.token"});
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  auto v1 = current()->version;
  res = write_env(json{{"db", {{"password", "New0secret0value4567"},
                                {"host", "db2"}}},
                        {"api", {{"token", "allowed-token"}}},
                        {"tenants", {{"t1", {{"key", "Tenant0key0value89"}}}}}},
                  {});
  CAF_REQUIRE_EQUAL(res.status, write_status::committed);
  auto v2 = current()->version;
  auto d = diff(v1, v2);
  CAF_CHECK_EQUAL(d.secrets,
                  (strings{"api.token", "db.password", "tenants.*.key"}));
  auto raw = d.patch.dump() + d.view.dump();
  CAF_REQUIRE(contains(raw, "New0secret0value4567"));
  secret_paths secrets{d.secrets};
  secrets.mask_patch(d.patch);
  secrets.mask_view(d.view);
  auto shown = d.patch.dump() + d.view.dump();
  CAF_MESSAGE("masked: " << shown);
  for (auto value : {"Old0secret0value0123", "New0secret0value4567",
                     "Tenant0key0value89"})
    CAF_CHECK(!contains(shown, value));
  CAF_CHECK(contains(shown, "db2"));
  CAF_CHECK_EQUAL(d.view["db.password"],
                  (json{{"old", "***"}, {"new", "***"}}));
  CAF_CHECK_EQUAL(d.view["db.host"], (json{{"old", "db1"}, {"new", "db2"}}));
  // The other way round, and from the empty version 0.
  auto back = diff(v2, v1);
  CAF_CHECK_EQUAL(back.secrets, d.secrets);
  auto from_zero = diff(0, v2);
  CAF_CHECK_EQUAL(from_zero.secrets, d.secrets);
}

CAF_TEST_FIXTURE_SCOPE_END()

// -- without a schema ---------------------------------------------------------

CAF_TEST(a diff across the marking of a path names it either way) {
  pipeline_fixture fx;
  // Not secret yet.
  CAF_REQUIRE(fx.set("api.token", "Early0token0value42").ok());
  auto v1 = fx.current();
  CAF_CHECK(v1->secrets == nullptr);
  auto res = fx.write(write_request{{operation::set("api.token",
                                                    "Later0token0value77")},
                                    "env:CFG_", 0, {"api.token"}});
  CAF_REQUIRE(res.ok());
  auto v2 = fx.current();
  CAF_CHECK_EQUAL(secrets_of(v2), strings{"api.token"});
  for (auto [from, to] : {std::pair{v1->version, v2->version},
                          std::pair{v2->version, v1->version}}) {
    diff_result d;
    auto f = fx.self->request(fx.pipe.store, caf::infinite, diff_atom::value,
                              from, to);
    fx.run();
    f.receive([&](diff_result& x) { d = std::move(x); },
              [&](caf::error& err) { CAF_FAIL(fx.sys.render(err)); });
    CAF_CHECK_EQUAL(d.secrets, strings{"api.token"});
    secret_paths secrets{d.secrets};
    secrets.mask_patch(d.patch);
    secrets.mask_view(d.view);
    auto shown = d.patch.dump() + d.view.dump();
    CAF_CHECK(!contains(shown, "Early0token"));
    CAF_CHECK(!contains(shown, "Later0token"));
  }
  // Two versions before any marking: no secrets to name.
  auto d = fx.self->request(fx.pipe.store, caf::infinite, diff_atom::value,
                            uint64_t{0}, v1->version);
  fx.run();
  d.receive([&](diff_result& x) { CAF_CHECK(x.secrets.empty()); },
            [&](caf::error& err) { CAF_FAIL(fx.sys.render(err)); });
}

} // namespace pipeline_secrets_suite

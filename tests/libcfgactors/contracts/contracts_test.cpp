#define CAF_SUITE contracts
// Contracts as vetoes the validator respects, and the schema_version they
// demand (deterministic, on the test coordinator).
#include "pipeline_fixture.hpp"

#include <stdexcept>

#include "cfgactors/contract_registry.hpp"
#include "log_recorder.hpp"

namespace contracts_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

const std::vector<std::string> levels{"DEBUG", "INFO", "WARNING", "ERROR"};

/// The seed's LoggerConfigContract: a level it knows, a format it can write.
std::shared_ptr<contract> logger_contract() {
  return make_contract("logger")
    .prefix("logging")
    .validate([](const json& candidate) {
      validation_errors errors;
      auto& logging = candidate.at("logging");
      auto level = logging.value("level", "");
      if (std::find(levels.begin(), levels.end(), level) == levels.end())
        errors.push_back(veto("logging.level", "unknown level " + level));
      auto format = logging.value("format", "text");
      if (format != "text" && format != "json")
        errors.push_back(veto("logging.format", "cannot write " + format));
      return errors;
    });
}

/// A veto without a path: the error names the contract's prefix.
std::shared_ptr<contract> buffers_contract() {
  return make_contract("buffers")
    .prefix("buffer_size")
    .validate([](const json& candidate) {
      auto n = candidate.value("buffer_size", 0);
      if (n <= 0 || (n & (n - 1)) != 0)
        return validation_errors{
          veto("", "must be a power of two, not " + std::to_string(n))};
      return validation_errors{};
    });
}

std::shared_ptr<contract> needs_schema(std::string name, std::string min) {
  return make_contract(std::move(name)).min_schema_version(min);
}

json base_config() {
  return json{{"schema_version", "2.1.0"},
              {"logging", {{"level", "INFO"}, {"format", "text"}}},
              {"buffer_size", 1024},
              {"database", {{"host", "db1"}}}};
}

pipeline_options with(std::shared_ptr<contract_registry> contracts) {
  pipeline_options opts;
  opts.validation.contracts = std::move(contracts);
  return opts;
}

// Bases are built in order: the registry and the log capture exist before
// the pipeline and outlive it.
struct registry_holder {
  std::shared_ptr<contract_registry> contracts
    = std::make_shared<contract_registry>();
};

struct fixture : registry_holder, log_recorder, pipeline_fixture {
  fixture() : pipeline_fixture(with(contracts)) {
    auto res = write(operation::replace_layer("file:app.yaml", base_config()));
    CAF_REQUIRE_EQUAL(res.status, write_status::committed);
    CAF_REQUIRE_EQUAL(res.version, 1u);
  }

  const validator_stats& stats() {
    return validator_st().stats;
  }

  /// Checks that `res` was refused and nothing changed.
  void check_refused(const write_result& res, const snapshot_ptr& before) {
    CAF_CHECK_EQUAL(res.status, write_status::rejected);
    CAF_CHECK_EQUAL(res.code, errc::validation_failed);
    CAF_CHECK_EQUAL(res.version, before->version);
    CAF_CHECK_EQUAL(current(), before);
    CAF_CHECK_EQUAL(validator_st().version, before->version);
  }
};

std::vector<std::string> rendered(const write_result& res) {
  std::vector<std::string> out;
  for (auto& err : res.errors)
    out.push_back(err.str());
  std::sort(out.begin(), out.end());
  return out;
}

} // namespace

CAF_TEST_FIXTURE_SCOPE(contract_tests, fixture)

CAF_TEST(a veto refuses the write with every reason and keeps the version) {
  contracts->add(logger_contract());
  contracts->add(buffers_contract());
  auto before = current();
  auto res = write(write_request{{operation::set("logging.level", "LOUD"),
                                  operation::set("logging.format", "xml"),
                                  operation::set("buffer_size", 1000)},
                                 "api:alice",
                                 0,
                                 {}});
  check_refused(res, before);
  CAF_CHECK_EQUAL(rendered(res),
                  (std::vector<std::string>{
                    "buffer_size: must be a power of two, not 1000 "
                    "[contract:buffers]",
                    "logging.format: cannot write xml [contract:logger]",
                    "logging.level: unknown level LOUD [contract:logger]"}));
  CAF_CHECK_EQUAL(stats().rejected, 1u);
  CAF_CHECK_EQUAL(stats().failures_by_rule.at("contract:logger"), 2u);
  CAF_CHECK_EQUAL(stats().failures_by_rule.at("contract:buffers"), 1u);
  // Each veto is logged with its contract and reason.
  CAF_CHECK(contains("warning event=config_rejected origin=\"api:alice\""));
  CAF_CHECK(contains("event=contract_veto contract=logger "
                     "path=\"logging.level\" reason=\"unknown level LOUD\" "
                     "version=1"));
  CAF_CHECK(contains("event=contract_veto contract=logger "
                     "path=\"logging.format\" reason=\"cannot write xml\""));
  CAF_CHECK(contains("event=contract_veto contract=buffers "
                     "path=\"buffer_size\""));
  // The contracts judge the candidate, not the current config: a write they
  // accept commits.
  auto ok = write(write_request{{operation::set("logging.level", "DEBUG"),
                                 operation::set("buffer_size", 2048)},
                                "api:alice",
                                0,
                                {}});
  CAF_CHECK_EQUAL(ok.status, write_status::committed);
  CAF_CHECK_EQUAL(ok.version, 2u);
}

CAF_TEST(a throwing validate is a veto naming the exception) {
  contracts->add(make_contract("db").prefix("database").validate(
    [](const json& candidate) -> validation_errors {
      if (candidate.at("database").value("host", "") == "db2")
        throw std::runtime_error("no route to db2");
      return {};
    }));
  contracts->add(make_contract("odd").validate(
    [](const json& candidate) -> validation_errors {
      if (candidate.value("buffer_size", 0) == 4096)
        throw 42;
      return {};
    }));
  auto before = current();
  auto res = write(write_request{{operation::set("database.host", "db2"),
                                  operation::set("buffer_size", 4096)},
                                 "test",
                                 0,
                                 {}});
  check_refused(res, before);
  CAF_CHECK_EQUAL(rendered(res),
                  (std::vector<std::string>{
                    "<root>: validate threw an exception of unknown type "
                    "[contract:odd]",
                    "database: validate threw: no route to db2 [contract:db]"}));
  CAF_CHECK_EQUAL(stats().failures_by_rule.at("contract:db"), 1u);
  CAF_CHECK(contains("event=contract_veto contract=db path=\"database\" "
                     "reason=\"validate threw: no route to db2\""));
}

CAF_TEST(a schema_version a contract cannot accept is a veto naming it) {
  contracts->add(needs_schema("logger", "2.0"));
  contracts->add(needs_schema("db", "2.1.0"));
  contracts->add(make_contract("plain")); // declares no minimum: never named
  auto before = current();
  auto old = set("schema_version", "1.4.0");
  check_refused(old, before);
  CAF_CHECK_EQUAL(rendered(old),
                  (std::vector<std::string>{
                    "schema_version: config is \"1.4.0\" but contract \"db\" "
                    "needs >= 2.1.0 and < 3.0.0 [schema_version]",
                    "schema_version: config is \"1.4.0\" but contract "
                    "\"logger\" needs >= 2.0.0 and < 3.0.0 [schema_version]"}));
  // Older than one contract's minimum only.
  auto older = set("schema_version", "2.0.5");
  check_refused(older, before);
  CAF_CHECK_EQUAL(rendered(older),
                  (std::vector<std::string>{
                    "schema_version: config is \"2.0.5\" but contract \"db\" "
                    "needs >= 2.1.0 and < 3.0.0 [schema_version]"}));
  // A new major version breaks compatibility.
  check_refused(set("schema_version", "3.0.0"), before);
  CAF_CHECK_EQUAL(stats().failures_by_rule.at("schema_version"), 5u);
  CAF_CHECK(contains("event=schema_version_veto path=\"schema_version\" "
                     "reason=\"config is \\\"1.4.0\\\" but contract "
                     "\\\"logger\\\" needs >= 2.0.0 and < 3.0.0\""));
  // Compatible: same major, not older.
  auto ok = set("schema_version", "2.7.1");
  CAF_CHECK_EQUAL(ok.status, write_status::committed);
  CAF_CHECK_EQUAL(ok.version, 2u);
}

CAF_TEST(a missing or malformed schema_version is a veto naming the path) {
  contracts->add(needs_schema("logger", "2.0"));
  auto before = current();
  auto missing = write(operation::unset("schema_version"));
  check_refused(missing, before);
  CAF_CHECK_EQUAL(rendered(missing),
                  (std::vector<std::string>{
                    "schema_version: missing; contract \"logger\" needs "
                    ">= 2.0.0 and < 3.0.0 [schema_version]"}));
  auto text = set("schema_version", "two");
  check_refused(text, before);
  CAF_REQUIRE_EQUAL(text.errors.size(), 1u);
  CAF_CHECK_EQUAL(text.errors[0].path, "schema_version");
  CAF_CHECK_EQUAL(text.errors[0].message,
                  "invalid semantic version \"two\": MAJOR.MINOR.PATCH must "
                  "be numbers without leading zeros; contract \"logger\" "
                  "needs >= 2.0.0 and < 3.0.0");
  // What YAML makes of `schema_version: 2.0`.
  auto number = set("schema_version", 2.0);
  check_refused(number, before);
  CAF_REQUIRE_EQUAL(number.errors.size(), 1u);
  CAF_CHECK_EQUAL(number.errors[0].message,
                  "must be a semantic version string such as \"2.0.0\" "
                  "(quoted in YAML), got 2.0; contract \"logger\" needs "
                  ">= 2.0.0 and < 3.0.0");
  CAF_CHECK_EQUAL(stats().failures_by_rule.at("schema_version"), 3u);
}

CAF_TEST(without a contract that declares a minimum schema_version is free) {
  contracts->add(logger_contract());
  auto res = write(operation::unset("schema_version"));
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(set("schema_version", "anything").status,
                  write_status::committed);
}

CAF_TEST(removing a contract lifts its veto) {
  auto id = contracts->add(make_contract("freeze").validate(
    [](const json&) { return validation_errors{veto("", "frozen")}; }));
  auto before = current();
  check_refused(set("buffer_size", 2048), before);
  CAF_CHECK(contracts->remove(id));
  CAF_CHECK(!contracts->remove(id));
  CAF_CHECK_EQUAL(contracts->size(), 0u);
  auto res = set("buffer_size", 2048);
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(res.version, 2u);
}

CAF_TEST(a rollback to a version a contract now refuses is vetoed) {
  CAF_REQUIRE_EQUAL(set("logging.level", "WARNING").version, 2u);
  contracts->add(make_contract("retired").validate([](const json& c) {
    if (c.at("logging").value("level", "") == "INFO")
      return validation_errors{veto("logging.level", "INFO is retired")};
    return validation_errors{};
  }));
  auto before = current();
  auto res = write(operation::rollback(1));
  check_refused(res, before);
  CAF_CHECK_EQUAL(rendered(res),
                  (std::vector<std::string>{
                    "logging.level: INFO is retired [contract:retired]"}));
}

CAF_TEST(a veto quoting a secret shows and logs it masked) {
  contracts->add(make_contract("db").validate([](const json& c) {
    auto password = c.at("database").value("password", "");
    if (password.size() < 32)
      return validation_errors{
        veto("database.password", "too short: " + password)};
    return validation_errors{};
  }));
  auto secret = std::string{"hunter2-but-longer"};
  auto res = write(write_request{{operation::set("database.password", secret)},
                                 "env:APP_",
                                 0,
                                 {"database.password"}});
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].message, "too short: ***");
  CAF_CHECK(contains("event=contract_veto contract=db"));
  CAF_CHECK(!contains(secret));
}

CAF_TEST(the registry refuses null and duplicate contracts) {
  CAF_CHECK_EQUAL(contracts->size(), 0u);
  auto a = contracts->add(logger_contract());
  auto b = contracts->add(buffers_contract());
  CAF_CHECK_NOT_EQUAL(a, b);
  CAF_CHECK_EQUAL(contracts->size(), 2u);
  auto listed = contracts->contracts();
  CAF_REQUIRE_EQUAL(listed.size(), 2u);
  CAF_CHECK_EQUAL(listed[0]->name(), "logger");
  CAF_CHECK_EQUAL(listed[1]->name(), "buffers");
  auto refused = [&](std::shared_ptr<const contract> c) {
    try {
      contracts->add(std::move(c));
    } catch (const std::invalid_argument& e) {
      return std::string{e.what()};
    }
    return std::string{};
  };
  CAF_CHECK_EQUAL(refused(nullptr), "contract_registry::add: null contract");
  CAF_CHECK_EQUAL(refused(logger_contract()),
                  "contract_registry::add: a contract named \"logger\" is "
                  "already registered");
  CAF_CHECK_EQUAL(contracts->size(), 2u);
}

CAF_TEST(the builder refuses an empty name and a bad minimum version) {
  auto refused = [](auto fn) {
    try {
      fn();
    } catch (const std::invalid_argument& e) {
      return std::string{e.what()};
    }
    return std::string{};
  };
  CAF_CHECK_EQUAL(refused([] { make_contract(""); }),
                  "a contract needs a name");
  CAF_CHECK_EQUAL(refused([] { make_contract("x").min_schema_version("2.x"); }),
                  "contract \"x\": min_schema_version: invalid semantic "
                  "version \"2.x\": MAJOR.MINOR.PATCH must be numbers without "
                  "leading zeros");
  auto c = make_contract("x").min_schema_version("v2.1").build();
  CAF_REQUIRE(c->min_schema_version());
  CAF_CHECK_EQUAL(c->min_schema_version()->str(), "2.1.0");
  // Unset functions: no veto, healthy.
  CAF_CHECK(c->validate(json::object()).empty());
  CAF_CHECK(!c->health_check());
}

CAF_TEST(a check without the actors sees pre-release and short versions) {
  contracts->add(needs_schema("logger", "2.0.0"));
  auto veto_of = [&](json version) {
    auto errors = contracts->check(json{{"schema_version", version}});
    return errors.empty() ? std::string{} : errors[0].message;
  };
  CAF_CHECK_EQUAL(veto_of("2"), "");
  CAF_CHECK_EQUAL(veto_of("v2.3"), "");
  CAF_CHECK_EQUAL(veto_of("2.0.0-rc.1"),
                  "config is \"2.0.0-rc.1\" but contract \"logger\" needs "
                  ">= 2.0.0 and < 3.0.0");
  CAF_CHECK_EQUAL(veto_of("3.0.0-rc.1"),
                  "config is \"3.0.0-rc.1\" but contract \"logger\" needs "
                  ">= 2.0.0 and < 3.0.0");
  // A root that is not an object carries no schema_version.
  auto errors = contracts->check(json::array());
  CAF_REQUIRE_EQUAL(errors.size(), 1u);
  CAF_CHECK_EQUAL(errors[0].path, "schema_version");
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace contracts_suite

#define CAF_SUITE pre_commit
// Pre-commit checks (the seed's apply_runtime_config) and dry runs:
// refused before anything is committed, applied when healthy, bounded in
// time; a dry run admits fully and changes nothing (deterministic, on the
// test coordinator).
#include "pipeline_fixture.hpp"

#include <mutex>
#include <stdexcept>

#include "cfgactors/contract_registry.hpp"
#include "cfgactors/pre_commit.hpp"

namespace pre_commit_suite {

using namespace cfgactors;
using namespace cfgactors::test;

namespace {

/// A database pool: applies `database`, and is healthy unless it cannot
/// reach its host. Host `db9` refuses connections; on host `db8` apply
/// throws. Shared with the runner's thread in production, hence the lock.
struct pool {
  std::mutex mtx;
  json applied;             ///< the `database` subtree in effect
  uint64_t applied_version = 0;
  int applies = 0;

  std::shared_ptr<contract> as_contract() {
    return make_contract("db")
      .prefix("database")
      .validate([](const json& c) {
        validation_errors out;
        if (c.at("database").value("pool", 1) < 1)
          out.push_back(veto("database.pool", "must be at least 1"));
        return out;
      })
      .apply([this](const snapshot& s) {
        std::lock_guard<std::mutex> guard{mtx};
        ++applies;
        auto host = s.effective->at("database").value("host", "");
        if (host == "db8")
          throw std::runtime_error("no route to db8");
        applied = s.effective->at("database");
        applied_version = s.version;
      })
      .health([this]() -> std::optional<std::string> {
        std::lock_guard<std::mutex> guard{mtx};
        if (applied.value("host", "") == "db9")
          return "cannot reach db9:5432";
        return std::nullopt;
      });
  }
};

json base_config() {
  return json{{"database", {{"host", "db1"}, {"pool", 4}}},
              {"logging", {{"level", "INFO"}}}};
}

pipeline_options with(std::shared_ptr<contract_registry> contracts) {
  pipeline_options opts;
  opts.validation.contracts = std::move(contracts);
  return opts;
}

struct registry_holder {
  std::shared_ptr<contract_registry> contracts
    = std::make_shared<contract_registry>();
  pool db;
};

struct fixture : registry_holder, pipeline_fixture {
  change_log changes;

  fixture() : pipeline_fixture(with(contracts)) {
    auto res = write(operation::replace_layer("file:app.yaml", base_config()));
    CAF_REQUIRE_EQUAL(res.status, write_status::committed);
    // The component runs on the running version, as the seed's does.
    db.applied = base_config()["database"];
    db.applied_version = 1;
    pre_commit_options opts;
    opts.detached = false;
    contracts->add_pre_commit(db.as_contract(), opts);
    changes = subscribe("");
  }

  /// Refused before commit: same version in validator and store, the same
  /// history, no change to the subscriber, the pool back on version 1.
  void check_nothing_happened(const snapshot_ptr& before,
                              std::size_t history) {
    CAF_CHECK_EQUAL(current(), before);
    CAF_CHECK_EQUAL(validator_st().version, before->version);
    CAF_CHECK_EQUAL(store_st().versions.size(), history);
    CAF_CHECK_EQUAL(changes->size(), 0u);
    auto running = base_config().at("database");
    std::lock_guard<std::mutex> guard{db.mtx};
    CAF_CHECK_EQUAL(db.applied, running);
    CAF_CHECK_EQUAL(db.applied_version, 1u);
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(pre_commit_tests, fixture)

CAF_TEST(a healthy candidate is applied then committed) {
  auto res = set("database.host", "db2");
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  CAF_CHECK_EQUAL(res.version, 2u);
  CAF_CHECK_EQUAL((*current()->effective)["database"],
                  (json{{"host", "db2"}, {"pool", 4}}));
  CAF_CHECK_EQUAL(changes->size(), 1u);
  std::lock_guard<std::mutex> guard{db.mtx};
  CAF_CHECK_EQUAL(db.applies, 1);
  CAF_CHECK_EQUAL(db.applied["host"], "db2");
  // The component saw the version the write became.
  CAF_CHECK_EQUAL(db.applied_version, 2u);
}

CAF_TEST(an unhealthy candidate is refused before anyone sees it) {
  auto before = current();
  auto history = store_st().versions.size();
  // Same length as the healthy "db2" above: only the content differs.
  auto res = set("database.host", "db9");
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_CHECK_EQUAL(res.code, errc::validation_failed);
  CAF_CHECK_EQUAL(res.version, 1u);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].str(),
                  "database: pre-commit check failed: cannot reach "
                  "db9:5432 [contract:db]");
  check_nothing_happened(before, history);
  // Applied the candidate, then the running version again.
  std::lock_guard<std::mutex> guard{db.mtx};
  CAF_CHECK_EQUAL(db.applies, 2);
}

CAF_TEST(a throwing apply is refused and the component restored) {
  auto before = current();
  auto history = store_st().versions.size();
  auto res = set("database.host", "db8");
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].str(),
                  "database: pre-commit check failed: apply threw: no route "
                  "to db8 [contract:db]");
  check_nothing_happened(before, history);
}

CAF_TEST(a write elsewhere does not run the check) {
  auto res = set("logging.level", "DEBUG");
  CAF_CHECK_EQUAL(res.status, write_status::committed);
  std::lock_guard<std::mutex> guard{db.mtx};
  CAF_CHECK_EQUAL(db.applies, 0);
}

CAF_TEST(a validate veto is refused before the check runs) {
  auto res = set("database.pool", 0);
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].str(),
                  "database.pool: must be at least 1 [contract:db]");
  std::lock_guard<std::mutex> guard{db.mtx};
  CAF_CHECK_EQUAL(db.applies, 0);
}

CAF_TEST(a check that does not answer in time refuses the write) {
  auto before = current();
  auto history = store_st().versions.size();
  auto f = self->request(pipe.validator, caf::infinite, write_atom::value,
                         write_request{{operation::set("database.host",
                                                       "db2")},
                                       "test",
                                       0,
                                       {}});
  // Everything runs but the check: the runner is stuck in the component.
  auto is_runner = [this](caf::resumable* job) {
    auto& runners = validator_st().runners;
    auto actor = dynamic_cast<caf::abstract_actor*>(job);
    for (auto& [id, r] : runners)
      if (actor == caf::actor_cast<caf::abstract_actor*>(r))
        return true;
    return false;
  };
  sched.run_jobs_filtered([&](caf::resumable* job) { return !is_runner(job); });
  CAF_REQUIRE_EQUAL(sched.jobs.size(), 1u);
  auto stuck = sched.jobs.front();
  sched.jobs.pop_front();
  sched.advance_time(std::chrono::seconds{5} + std::chrono::milliseconds{1});
  run();
  write_result res;
  f.receive([&](write_result& r) { res = std::move(r); },
            [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_CHECK_EQUAL(res.code, errc::validation_failed);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].str(),
                  "database: pre-commit check failed: did not answer within "
                  "5000 ms [contract:db]");
  // The check returns late (healthy): the restore behind it puts the
  // component back on the running version.
  sched.jobs.push_back(stuck);
  run();
  check_nothing_happened(before, history);
  std::lock_guard<std::mutex> guard{db.mtx};
  CAF_CHECK_EQUAL(db.applies, 2);
}

CAF_TEST(a dry run admits fully and changes nothing) {
  auto before = current();
  auto history = store_st().versions.size();
  write_request req{{operation::set("database.host", "db2"),
                     operation::set("logging.level", "DEBUG")},
                    "test",
                    0,
                    {"database.password"}};
  req.ops.push_back(operation::set("database.password", "hunter2"));
  req.dry_run = true;
  auto res = write(req);
  CAF_CHECK_EQUAL(res.status, write_status::accepted);
  CAF_CHECK_EQUAL(res.version, 1u);
  CAF_CHECK_EQUAL(res.diff.from, 1u);
  CAF_CHECK_EQUAL(res.diff.to, 0u);
  CAF_CHECK_EQUAL(res.diff.view,
                  (json{{"database.host", {{"old", "db1"}, {"new", "db2"}}},
                        {"database.password", {{"added", "hunter2"}}},
                        {"logging.level", {{"old", "INFO"}, {"new", "DEBUG"}}}}));
  CAF_CHECK_EQUAL(res.diff.patch.size(), 3u);
  // The path the write marks secret is named for masking, and not kept.
  CAF_CHECK(std::find(res.diff.secrets.begin(), res.diff.secrets.end(),
                      "database.password")
            != res.diff.secrets.end());
  CAF_CHECK(validator_st().secrets == nullptr);
  // No pre-commit apply: a dry run has no side effects.
  check_nothing_happened(before, history);
  CAF_CHECK_EQUAL(db.applies, 0);
}

CAF_TEST(a dry run answers every reason and compare and set) {
  auto before = current();
  auto history = store_st().versions.size();
  auto rejected = validator_st().stats.rejected;
  write_request req{{operation::set("database.pool", 0),
                     operation::set("database.host", "db9")},
                    "test",
                    0,
                    {}};
  req.dry_run = true;
  auto res = write(req);
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_CHECK_EQUAL(res.code, errc::validation_failed);
  CAF_REQUIRE_EQUAL(res.errors.size(), 1u);
  CAF_CHECK_EQUAL(res.errors[0].path, "database.pool");
  // A dry run of an unhealthy but valid candidate is accepted: the health
  // check is the apply's, and a dry run applies nothing.
  req.ops = {operation::set("database.host", "db9")};
  res = write(req);
  CAF_CHECK_EQUAL(res.status, write_status::accepted);
  req.expected_version = 7;
  res = write(req);
  CAF_CHECK_EQUAL(res.status, write_status::rejected);
  CAF_CHECK_EQUAL(res.code, errc::version_conflict);
  // A rehearsal is no failed write: the counters of refusals stay.
  CAF_CHECK_EQUAL(validator_st().stats.rejected, rejected);
  CAF_CHECK(validator_st().stats.failures_by_rule.empty());
  check_nothing_happened(before, history);
  CAF_CHECK_EQUAL(db.applies, 0);
}

CAF_TEST(a dry run of a keyed write that committed is judged again) {
  write_request req{{operation::set("logging.level", "DEBUG")}, "test", 0,
                    {}};
  req.idempotency_key = "k1";
  CAF_REQUIRE_EQUAL(write(req).status, write_status::committed);
  req.ops = {operation::set("logging.level", "ERROR")};
  req.dry_run = true;
  auto res = write(req);
  CAF_CHECK_EQUAL(res.status, write_status::accepted);
  CAF_CHECK_EQUAL(res.diff.view,
                  (json{{"logging.level", {{"old", "DEBUG"}, {"new", "ERROR"}}}}));
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace pre_commit_suite

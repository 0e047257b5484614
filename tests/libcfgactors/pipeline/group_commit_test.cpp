#define CAF_SUITE group_commit
// Group commit and pipelining: the validator keeps several commits in
// flight, the journaled store writes those that queue up in one transaction
// and answers each writer once its own version is durable. Deterministic:
// the journaled store runs on the test coordinator here (not detached), so
// each test decides which actor takes which message when.
#include "cfgactors_test.hpp"
#include "raw_sql.hpp"
#include "temp_dir.hpp"

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include <sqlite3.h>

#include <caf/all.hpp>

#include "cfgactors/system_config.hpp"

#include "pipeline/journal.hpp"
#include "pipeline/store_state.hpp"
#include "pipeline/topic_router.hpp"
#include "pipeline/validator_state.hpp"

namespace group_commit_suite {

using namespace cfgactors;
using detail::journal;

using cfgactors::test::raw_sql;

namespace {

bool contains(const std::string& text, const std::string& part) {
  return text.find(part) != std::string::npos;
}

/// What a writer saw when its answer arrived: the answer, and whether the
/// journal held its version at that moment.
struct observed {
  write_result result;
  bool durable = false;
};

using observations = std::shared_ptr<std::vector<observed>>;

/// A writer that, the moment its answer arrives, reads the answered version
/// back from the journal (same thread: the coordinator runs one actor at a
/// time, so this is what any reader could see then).
caf::behavior
observer(caf::event_based_actor* self, validator_impl validator,
         detail::journal_ptr db, observations log, std::vector<int> values) {
  for (auto v : values)
    self
      ->request(validator, caf::infinite, write_atom::value,
                write_request{{operation::set("n", v)}, "observer", 0, {}})
      .then([db, log](write_result& r) {
        auto row = r.ok() ? db->read(r.version)
                          : caf::expected<snapshot_ptr>{caf::sec::invalid_argument};
        log->push_back(observed{r, static_cast<bool>(row)});
      });
  return {[](int) {}};
}

/// A subscriber that records every change it gets (an argument, not a
/// capture: CAF binds a spawn without arguments to a null tuple).
caf::behavior recorder(caf::event_based_actor*,
                       std::shared_ptr<std::vector<change>> log) {
  return {[log](const change& c) { log->push_back(c); }};
}

struct fixture : test_coordinator_fixture<system_config> {
  test::temp_dir dir{"group-commit"};
  detail::journal_ptr db;
  topic_router_actor router;
  store_backend_actor store;
  validator_impl validator;
  std::shared_ptr<std::vector<change>> published
    = std::make_shared<std::vector<change>>();

  ~fixture() {
    close();
  }

  std::string db_file() const {
    return (dir.path / journal::file_name).string();
  }

  void open(bool group_commit = true) {
    auto j = journal::open(dir.str(), 0);
    if (!j)
      CAF_FAIL("journal::open: " << sys.render(j.error()));
    db = *j;
    auto restored = db->newest(10);
    CAF_REQUIRE(restored);
    auto current = restored->empty() ? snapshot::empty() : restored->back();
    router = sys.spawn(topic_router, current);
    store_options opts;
    opts.history_size = 10;
    opts.data_dir = dir.str();
    opts.group_commit = group_commit;
    store = sys.spawn(detail::journaled_store, opts, router, db,
                      std::move(*restored));
    validator = sys.spawn(cfgactors::validator, validator_options{}, store,
                          std::nullopt);
    auto sub = caf::actor_cast<subscriber_actor>(
      sys.spawn(recorder, published));
    // Every version, not the newest only: what was published is counted.
    self->send(router, subscribe_atom::value, std::string{}, sub,
               delivery::every_version());
    run();
    published->clear();
  }

  void close() {
    if (!db)
      return;
    for (auto& x : {caf::actor_cast<caf::actor>(validator),
                    caf::actor_cast<caf::actor>(store),
                    caf::actor_cast<caf::actor>(router)})
      self->send_exit(x, caf::exit_reason::user_shutdown);
    run();
    validator = nullptr;
    store = nullptr;
    router = nullptr;
    db.reset();
  }

  /// Lets `hdl` take `n` messages, one each, before anyone else runs.
  template <class Handle>
  void step(const Handle& hdl, std::size_t n) {
    for (std::size_t i = 0; i < n; ++i) {
      CAF_REQUIRE(sched.prioritize(hdl));
      sched.run_once();
    }
  }

  /// Runs every other actor until nothing is left for it before the store
  /// takes its next message: whatever the store sends reaches its reader
  /// before the store's next step (its flush) runs.
  void run_store_last() {
    auto store_job = dynamic_cast<caf::resumable*>(
      caf::actor_cast<caf::abstract_actor*>(store));
    for (;;) {
      sched.run_jobs_filtered(
        [&](caf::resumable* job) { return job != store_job; });
      if (!sched.prioritize(store))
        return;
      sched.run_once();
    }
  }

  using handle = decltype(std::declval<caf::scoped_actor&>()->request(
    std::declval<validator_impl&>(), caf::infinite, write_atom::value,
    std::declval<write_request>()));

  handle send_write(int value, std::string origin = "test",
                    std::string path = "n") {
    return self->request(validator, caf::infinite, write_atom::value,
                         write_request{{operation::set(path, value)},
                                       std::move(origin), 0, {}});
  }

  write_result answer(handle& h) {
    write_result result;
    h.receive([&](write_result& r) { result = std::move(r); },
              [&](caf::error& err) {
                CAF_FAIL("write failed: " << sys.render(err));
              });
    return result;
  }

  snapshot_ptr current() {
    auto ptr = caf::actor_cast<caf::abstract_actor*>(store);
    return static_cast<store_backend_actor::stateful_base<store_state>*>(ptr)
      ->state.versions.current();
  }
};

} // namespace

CAF_TEST_FIXTURE_SCOPE(group_commit_tests, fixture)

CAF_TEST(writes queued at once share one transaction) {
  open();
  constexpr int n = 16;
  std::vector<handle> hs;
  for (int i = 1; i <= n; ++i)
    hs.push_back(send_write(i, "writer-" + std::to_string(i)));
  // The validator admits all of them (each on top of the one before) before
  // the store takes the first: they are all queued when its flush arrives.
  step(validator, n);
  auto before = db->transactions();
  run();
  CAF_CHECK_EQUAL(db->transactions() - before, 1u);
  for (int i = 0; i < n; ++i) {
    auto r = answer(hs[i]);
    CAF_CHECK_EQUAL(r.status, write_status::committed);
    CAF_CHECK_EQUAL(r.version, static_cast<uint64_t>(i + 1));
  }
  CAF_CHECK_EQUAL(current()->version, static_cast<uint64_t>(n));
  CAF_CHECK_EQUAL((*current()->effective)["n"], n);
  CAF_REQUIRE_EQUAL(published->size(), static_cast<std::size_t>(n));
  for (int i = 0; i < n; ++i)
    CAF_CHECK_EQUAL(published->at(i).version, static_cast<uint64_t>(i + 1));
  // Durable: every row is there after the journal is opened again.
  close();
  auto again = journal::open(dir.str(), 0);
  CAF_REQUIRE(again);
  CAF_CHECK_EQUAL((*again)->last_version(), static_cast<uint64_t>(n));
  for (int i = 1; i <= n; ++i) {
    auto snap = (*again)->read(static_cast<uint64_t>(i));
    CAF_REQUIRE(snap);
    CAF_CHECK_EQUAL((*(*snap)->effective)["n"], i);
    CAF_CHECK_EQUAL((*snap)->origin, "writer-" + std::to_string(i));
  }
}

CAF_TEST(without group commit each version has its own transaction) {
  open(false);
  constexpr int n = 8;
  std::vector<handle> hs;
  for (int i = 1; i <= n; ++i)
    hs.push_back(send_write(i));
  step(validator, n);
  auto before = db->transactions();
  run();
  CAF_CHECK_EQUAL(db->transactions() - before, static_cast<uint64_t>(n));
  for (int i = 0; i < n; ++i)
    CAF_CHECK_EQUAL(answer(hs[i]).version, static_cast<uint64_t>(i + 1));
}

CAF_TEST(an answer never arrives before its version is durable) {
  open();
  auto log = std::make_shared<std::vector<observed>>();
  sys.spawn(observer, validator, db, log, std::vector<int>{1, 2, 3, 4, 5});
  // An answer sent before the transaction would reach the observer first.
  run_store_last();
  CAF_REQUIRE_EQUAL(log->size(), 5u);
  for (std::size_t i = 0; i < log->size(); ++i) {
    auto& x = (*log)[i];
    CAF_CHECK_EQUAL(x.result.status, write_status::committed);
    CAF_CHECK_EQUAL(x.result.version, i + 1);
    CAF_CHECK(x.durable);
  }
  // The subscribers saw the same, in order, after the rows were in.
  CAF_CHECK_EQUAL(published->size(), 5u);
}

CAF_TEST(a failed batch refuses its writes and those built on them) {
  open();
  auto first = send_write(1, "test", "kept");
  run();
  CAF_CHECK_EQUAL(answer(first).version, 1u);
  close();
  // Stands in for a full disk: the database refuses one kind of row.
  raw_sql(db_file(), "CREATE TRIGGER refuse BEFORE INSERT ON versions "
                     "WHEN NEW.origin = 'doomed' "
                     "BEGIN SELECT RAISE(ABORT, 'refused by the test'); END");
  open();
  auto seen = published->size();
  auto transactions = db->transactions();
  // One batch of two, the first doomed: the second fails with it.
  auto a = send_write(2, "doomed");
  auto b = send_write(3, "fine");
  step(validator, 2);
  // Two more, admitted on top of that batch before its transaction runs.
  auto c = send_write(4, "fine");
  auto d = send_write(5, "fine");
  step(store, 3); // commit, commit, flush: the transaction fails
  run();
  std::vector<write_result> refused;
  for (auto* h : {&a, &b, &c, &d})
    refused.push_back(answer(*h));
  for (auto& r : refused) {
    CAF_CHECK_EQUAL(r.status, write_status::rejected);
    CAF_CHECK_EQUAL(r.code, errc::store_failed);
    // The answer names the last durable version.
    CAF_CHECK_EQUAL(r.version, 1u);
    CAF_CHECK_EQUAL(r.errors.size(), 1u);
  }
  auto message = [&](std::size_t i) {
    auto& errors = refused[i].errors;
    return errors.empty() ? std::string{} : errors[0].message;
  };
  CAF_CHECK(contains(message(0), "refused by the test"));
  CAF_CHECK(contains(message(1), "refused by the test"));
  CAF_CHECK(contains(message(2), "built on"));
  CAF_CHECK(contains(message(3), "built on"));
  // Nothing of it is anywhere: journal, store, subscribers, history.
  CAF_CHECK_EQUAL(db->transactions(), transactions);
  CAF_CHECK_EQUAL(db->last_version(), 1u);
  CAF_CHECK_EQUAL(current()->version, 1u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"kept", 1}}));
  CAF_CHECK_EQUAL(published->size(), seen);
  std::vector<version_info> rows;
  auto h = self->request(store, caf::infinite, history_atom::value,
                         uint64_t{0}, uint32_t{100});
  run();
  h.receive([&](std::vector<version_info>& xs) { rows = std::move(xs); },
            [&](caf::error& err) { CAF_FAIL(sys.render(err)); });
  CAF_REQUIRE_EQUAL(rows.size(), 1u);
  CAF_CHECK_EQUAL(rows[0].version, 1u);
  // The refused numbers stay free; the next write stands on version 1.
  auto e = send_write(6, "fine", "m");
  run();
  auto next = answer(e);
  CAF_CHECK_EQUAL(next.status, write_status::committed);
  CAF_CHECK_EQUAL(next.version, 2u);
  CAF_CHECK_EQUAL(*current()->effective, (json{{"kept", 1}, {"m", 6}}));
  CAF_CHECK_EQUAL(published->size(), seen + 1);
}

CAF_TEST(at most max_in_flight commits are in flight and the rest wait in order) {
  open();
  auto n = static_cast<int>(max_in_flight) + 6;
  std::vector<handle> hs;
  for (int i = 1; i <= n; ++i)
    hs.push_back(send_write(i));
  step(validator, static_cast<std::size_t>(n));
  auto ptr = caf::actor_cast<caf::abstract_actor*>(validator);
  auto& st = static_cast<validator_impl::stateful_base<validator_state>*>(ptr)
               ->state;
  CAF_CHECK_EQUAL(st.in_flight.size(), max_in_flight);
  CAF_CHECK_EQUAL(st.held.size(), 6u);
  run();
  CAF_CHECK_EQUAL(st.in_flight.size(), 0u);
  CAF_CHECK_EQUAL(st.held.size(), 0u);
  for (int i = 0; i < n; ++i)
    CAF_CHECK_EQUAL(answer(hs[i]).version, static_cast<uint64_t>(i + 1));
  CAF_CHECK_EQUAL((*current()->effective)["n"], n);
}

CAF_TEST(compare and set compares against the newest admitted version) {
  open();
  auto cas = [&](int value, uint64_t expected) {
    write_request req{{operation::set("n", value)}, "cas", expected, {}};
    return self->request(validator, caf::infinite, write_atom::value,
                         std::move(req));
  };
  // A single writer: as before, against the current version.
  auto one = cas(1, 0);
  run();
  CAF_CHECK_EQUAL(answer(one).version, 1u);
  auto stale = cas(2, 3);
  run();
  auto r = answer(stale);
  CAF_CHECK_EQUAL(r.code, errc::version_conflict);
  CAF_CHECK_EQUAL(r.version, 1u);
  // Pipelined: the second expects the first's version, still in flight.
  auto x = cas(3, 1);
  auto y = cas(4, 2);
  auto z = cas(5, 2);
  step(validator, 3);
  run();
  CAF_CHECK_EQUAL(answer(x).version, 2u);
  CAF_CHECK_EQUAL(answer(y).version, 3u);
  auto lost = answer(z);
  CAF_CHECK_EQUAL(lost.code, errc::version_conflict);
  CAF_CHECK_EQUAL(lost.version, 3u);
}

CAF_TEST_FIXTURE_SCOPE_END()

} // namespace group_commit_suite

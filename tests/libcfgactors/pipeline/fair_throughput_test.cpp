#define CAF_SUITE fair_throughput
// A stream of writes on one scheduler thread (cfgd's default), many in
// flight: every one is committed, each built along its change whoever
// holds the versions before it (the router's mailbox, with CAF's unbounded
// turns, held every version published meanwhile). Real scheduler, real
// threads, a journaled pipeline (its store answers late).
#include "cfgactors_test.hpp"
#include "temp_dir.hpp"

#include <atomic>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <caf/all.hpp>

#include "cfgactors/pipeline.hpp"
#include "cfgactors/system_config.hpp"

namespace fair_throughput_suite {

using namespace cfgactors;

CAF_TEST(sixteen writers on one thread commit without copying the config) {
  test::temp_dir dir{"fair-throughput"};
  system_config cfg;
  cfg.set("scheduler.policy", caf::atom_from_string("sharing"));
  cfg.set("scheduler.max-threads", 1);
  caf::actor_system sys{cfg};
  pipeline_options popts;
  popts.storage.data_dir = dir.str() + "/data";
  auto p = open_pipeline(sys, popts);
  CAF_REQUIRE(p);
  auto config = json::object();
  for (int i = 0; i < 10000; ++i)
    config["s" + std::to_string(i / 100)]["k" + std::to_string(i % 100)] = i;
  {
    caf::scoped_actor self{sys};
    self
      ->request(p->validator, caf::infinite, write_atom::value,
                write_request{{operation::replace_layer("file:big.yaml",
                                                        config)},
                              "test"})
      .receive([](write_result& r) { CAF_REQUIRE(r.ok()); },
               [](caf::error& e) { CAF_FAIL(to_string(e)); });
  }
  constexpr int writers = 16;
  constexpr int each = 25;
  std::atomic<int> committed{0};
  std::vector<std::thread> threads;
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([&, w] {
      caf::scoped_actor self{sys};
      for (int i = 0; i < each; ++i)
        self
          ->request(p->validator, caf::infinite, write_atom::value,
                    write_request{{operation::set("w" + std::to_string(w), i)},
                                  "test"})
          .receive([&](write_result& r) { committed += r.ok() ? 1 : 0; },
                   [](caf::error&) {});
    });
  for (auto& t : threads)
    t.join();
  CAF_CHECK_EQUAL(committed.load(), writers * each);
  validator_stats stats;
  {
    caf::scoped_actor self{sys};
    self->request(p->validator, caf::infinite, stats_atom::value)
      .receive([&](validator_stats& x) { stats = x; },
               [](caf::error& e) { CAF_FAIL(to_string(e)); });
  }
  // Versions share their trees: no write merges the config whole (with a
  // tree per version, 54 of 400 copied here, and 402 with CAF's unbounded
  // turns, the router holding every tree).
  CAF_MESSAGE(stats.tree_copies << " whole-tree copies for "
                                << writers * each << " writes");
  CAF_CHECK_EQUAL(stats.tree_copies, 0u);
  shutdown(*p);
}

} // namespace fair_throughput_suite

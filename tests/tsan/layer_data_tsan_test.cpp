// ThreadSanitizer test of layer_data's forms made on first use: readers on
// several threads ask a layer for its JSON and its tree at once (the API
// reading a version's layers while the journal writes them and the
// validator edits the next); each form is made once, every reader gets
// that one, whole. Exits non-zero on a wrong or second form, on a data race
// (TSan's exitcode), or when it ran nothing.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/layer.hpp"
#include "model/config_tree.hpp"

using namespace cfgactors;

namespace {

constexpr int thread_count = 4;
constexpr int round_count = 300;

json value_of(int round) {
  json result = json::object();
  for (int i = 0; i < 40; ++i)
    result["s" + std::to_string(i % 4)]["k" + std::to_string(i)] = round + i;
  return result;
}

} // namespace

int main() {
  std::atomic<int> failures{0};
  std::atomic<long> reads{0};
  for (int round = 0; round < round_count; ++round) {
    auto want = value_of(round);
    // Half the layers start as JSON (a source's), half as a tree (a
    // write's): each thread reads the other form, which is made then.
    auto data = round % 2 == 0 ? layer_data{want}
                               : layer_data{detail::node_of(want)};
    std::vector<const void*> jsons(thread_count);
    std::vector<const void*> trees(thread_count);
    std::atomic<int> ready{0};
    std::vector<std::thread> threads;
    for (int t = 0; t < thread_count; ++t)
      threads.emplace_back([&, t] {
        ready.fetch_add(1);
        while (ready.load() < thread_count)
          std::this_thread::yield();
        auto& tree = data.tree();
        auto& text = *data;
        trees[t] = tree.get();
        jsons[t] = &text;
        if (text != want || detail::to_json(*tree) != want
            || !data.equals(data))
          failures.fetch_add(1);
        reads.fetch_add(1);
      });
    for (auto& th : threads)
      th.join();
    for (int t = 1; t < thread_count; ++t)
      if (jsons[t] != jsons[0] || trees[t] != trees[0])
        failures.fetch_add(1);
  }
  if (reads.load() != long{thread_count} * round_count) {
    std::fprintf(stderr, "FAIL: %ld reads, expected %d\n", reads.load(),
                 thread_count * round_count);
    return 1;
  }
  if (failures.load() != 0) {
    std::fprintf(stderr, "FAIL: %d reads saw a wrong or second form\n",
                 failures.load());
    return 1;
  }
  std::printf("%ld reads of %d layers on %d threads: one form each, whole\n",
              reads.load(), round_count, thread_count);
  return 0;
}

// ThreadSanitizer acceptance test of the lock-free reads: 8 threads read
// settings while 100,000 versions are committed; no reader ever sees a torn
// value or a version older than one it already saw.
//
// Built with -fsanitize=thread together with the library sources the read
// path uses (libcaf is not instrumented, so versions are committed the way
// the node's updater does it: snapshot_cell::publish from one writer
// thread). Exits non-zero on any violation, on a data race (TSan's
// exitcode), or when it ran nothing.
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <nlohmann/json.hpp>

#include "cfgactors/setting.hpp"
#include "cfgactors/snapshot_cell.hpp"
#include "cfgactors/thread_slots.hpp"

using namespace cfgactors;

namespace {

constexpr int reader_count = 8;
constexpr uint64_t version_count = 100'000;

/// Version v carries values that must agree with each other and with v.
snapshot_ptr make_version(uint64_t v) {
  auto snap = std::make_shared<snapshot>();
  auto text = std::to_string(v);
  snap->version = v;
  snap->effective = layer_data{json{
    {"n", v},
    {"name", "v" + text},
    {"pair", json::array({"v" + text, text})},
    {"obj", json{{"n", v}, {"name", "v" + text}}},
  }};
  return snap;
}

struct counters {
  std::atomic<uint64_t> reads{0};
  std::atomic<uint64_t> refreshes{0}; ///< reads that saw a newer version
  std::atomic<uint64_t> failures{0};
};

void fail(counters& c, const char* what, uint64_t version, uint64_t seen) {
  if (c.failures.fetch_add(1) < 10)
    std::fprintf(stderr, "FAIL: %s (version %llu, saw %llu before)\n", what,
                 static_cast<unsigned long long>(version),
                 static_cast<unsigned long long>(seen));
}

/// The settings under test, shared by every reader.
struct settings {
  explicit settings(std::shared_ptr<const snapshot_cell> cell)
    : cell(cell),
      n(cell, "n", -1),
      name(cell, "name", "none"),
      pair(cell, "pair", {}),
      obj(cell, "obj", json{}) {
    // nop
  }

  std::shared_ptr<const snapshot_cell> cell;
  setting<int64_t> n;
  setting<std::string> name;
  setting<std::vector<std::string>> pair;
  setting<json> obj;
};

/// One pass over every setting; checks agreement and order. Returns the
/// highest version seen.
uint64_t read_all(settings& s, uint64_t& last, counters& c) {
  // Each setting's value must belong to the version it reports, and no
  // version may be older than the last one this thread saw, through any
  // setting (generations only grow, and these reads are in program order).
  auto check_order = [&](uint64_t version) {
    if (version < last)
      fail(c, "a version older than one already seen", version, last);
    if (version > last)
      c.refreshes.fetch_add(1, std::memory_order_relaxed);
    last = version;
  };
  auto [n, nv] = s.n.with_version();
  check_order(nv);
  if (nv == 0 ? n != -1 : n != static_cast<int64_t>(nv))
    fail(c, "n does not match its version", nv, last);
  auto [name, namev] = s.name.with_version();
  check_order(namev);
  if (namev == 0 ? name != "none" : name != "v" + std::to_string(namev))
    fail(c, "name does not match its version", namev, last);
  auto [pair, pairv] = s.pair.with_version();
  check_order(pairv);
  if (pairv != 0
      && (pair.size() != 2 || pair[0] != "v" + pair[1]
          || pair[1] != std::to_string(pairv)))
    fail(c, "torn pair", pairv, last);
  auto [obj, objv] = s.obj.with_version();
  check_order(objv);
  if (objv != 0
      && (obj.value("n", uint64_t{0}) != objv
          || obj.value("name", "") != "v" + std::to_string(objv)))
    fail(c, "torn object", objv, last);
  // The cell itself, without a setting.
  auto direct = s.cell->get<uint64_t>("n", 0);
  if (direct < last)
    fail(c, "cell read older than a setting read", direct, last);
  c.reads.fetch_add(5, std::memory_order_relaxed);
  return last;
}

} // namespace

int main() {
  auto cell = std::make_shared<snapshot_cell>();
  settings s{cell};
  counters c;
  std::atomic<bool> writer_done{false};
  std::atomic<int> readers_ready{0};
  std::atomic<uint64_t> published{0};
  std::vector<std::thread> readers;
  for (int i = 0; i < reader_count; ++i)
    readers.emplace_back([&] {
      uint64_t last = 0;
      readers_ready.fetch_add(1);
      // Readers give way after each pass: on a small machine, 8 spinning
      // readers would starve the writer.
      while (!writer_done.load(std::memory_order_acquire)) {
        read_all(s, last, c);
        std::this_thread::yield();
      }
      // Once the writer is done, every reader sees the last version.
      if (read_all(s, last, c) != version_count)
        fail(c, "a reader missed the last version", last, version_count);
    });
  std::thread writer{[&] {
    while (readers_ready.load() < reader_count)
      std::this_thread::yield();
    for (uint64_t v = 1; v <= version_count; ++v) {
      cell->publish(make_version(v));
      published.store(v, std::memory_order_relaxed);
    }
    writer_done.store(true, std::memory_order_release);
  }};
  writer.join();
  for (auto& t : readers)
    t.join();
  // New threads inherit the exited readers' slots, and more threads than
  // the first chunk of slots holds allocate further chunks at the same
  // time: all of them must see the last version and nothing else.
  constexpr int late_count = 48;
  std::atomic<int> arrived{0};
  std::vector<std::thread> late;
  for (int i = 0; i < late_count; ++i)
    late.emplace_back([&] {
      // Alive together, so that no two share an index.
      arrived.fetch_add(1);
      while (arrived.load() < late_count)
        std::this_thread::yield();
      uint64_t last = 0;
      if (read_all(s, last, c) != version_count)
        fail(c, "a late reader saw an old version", last, version_count);
      // Nobody leaves (and hands its index on) before all have read.
      arrived.fetch_add(1);
      while (arrived.load() < 2 * late_count)
        std::this_thread::yield();
    });
  for (auto& t : late)
    t.join();
  std::printf("settings_tsan: %d reader threads, %llu versions committed, "
              "%llu reads, %llu reads saw a newer version, %llu failures\n",
              reader_count,
              static_cast<unsigned long long>(published.load()),
              static_cast<unsigned long long>(c.reads.load()),
              static_cast<unsigned long long>(c.refreshes.load()),
              static_cast<unsigned long long>(c.failures.load()));
  if (published.load() != version_count || c.reads.load() == 0
      || c.refreshes.load() == 0) {
    std::fprintf(stderr, "FAIL: the test ran nothing\n");
    return 2;
  }
  return c.failures.load() == 0 ? 0 : 1;
}

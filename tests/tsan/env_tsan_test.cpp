// The environment lock under ThreadSanitizer: threads that add, change and
// remove variables through cfgactors::env (glibc reallocates `environ` as it
// grows and shrinks) while another takes copies as the env source does
// (capture_env). A change that skipped the lock races the copy: TSan sees
// the reader walk the array glibc frees, and the values read come torn.
#include <atomic>
#include <cstdio>
#include <string>
#include <thread>
#include <vector>

#include "cfgactors/env.hpp"
#include "cfgactors/env_source.hpp"

namespace {

constexpr int writers = 4;
constexpr int rounds = 3000;
constexpr int names_per_writer = 16;

std::string name_of(int writer, int i) {
  return "CFGT_TSAN_" + std::to_string(writer) + "_" + std::to_string(i);
}

// Values carry their own check: "<n>:" followed by n copies of 'v'.
std::string value_of(int round) {
  auto n = round % 97;
  return std::to_string(n) + ":" + std::string(static_cast<size_t>(n), 'v');
}

bool well_formed(const std::string& value) {
  auto colon = value.find(':');
  if (colon == std::string::npos || colon == 0)
    return false;
  auto n = std::stoul(value.substr(0, colon));
  return value.size() == colon + 1 + n
         && value.find_first_not_of('v', colon + 1) == std::string::npos;
}

} // namespace

int main() {
  std::atomic<bool> done{false};
  std::atomic<long> captures{0};
  std::atomic<long> bad{0};
  std::thread reader{[&] {
    while (!done) {
      for (auto& [name, value] : cfgactors::capture_env("CFGT_TSAN_"))
        if (!well_formed(value)) {
          std::fprintf(stderr, "torn value for %s\n", name.c_str());
          ++bad;
        }
      ++captures;
    }
  }};
  std::vector<std::thread> threads;
  std::atomic<long> refused{0};
  for (int w = 0; w < writers; ++w)
    threads.emplace_back([w, &refused] {
      for (int r = 0; r < rounds; ++r) {
        auto name = name_of(w, r % names_per_writer);
        // Add every name, then remove them all: environ grows and shrinks.
        auto ok = (r / names_per_writer) % 2 == 0
                    ? cfgactors::env::set(name, value_of(r))
                    : cfgactors::env::unset(name);
        if (!ok)
          ++refused;
      }
    });
  for (auto& t : threads)
    t.join();
  done = true;
  reader.join();
  auto left = cfgactors::capture_env("CFGT_TSAN_").size();
  std::printf("%d writers x %d changes, %ld captures, %ld torn, %ld refused, "
              "%zu left\n",
              writers, rounds, captures.load(), bad.load(), refused.load(),
              left);
  if (captures < 10 || bad != 0 || refused != 0) {
    std::fprintf(stderr, "FAILED\n");
    return 1;
  }
  return 0;
}

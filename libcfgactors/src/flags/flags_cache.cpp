// The compiled flags a snapshot keeps: installed once, freed with it. A file
// of its own, so that what holds a snapshot links without the evaluator.
#include "cfgactors/flags_cache.hpp"

#include <memory>

#include "flags/compiled_flags.hpp"

namespace cfgactors::detail {

flags_cache::~flags_cache() {
  reset();
}

void flags_cache::reset() noexcept {
  delete ptr_.exchange(nullptr, std::memory_order_acq_rel);
}

const compiled_flags*
flags_cache::install(std::unique_ptr<const compiled_flags> fresh) const
  noexcept {
  const compiled_flags* expected = nullptr;
  if (ptr_.compare_exchange_strong(expected, fresh.get(),
                                   std::memory_order_acq_rel,
                                   std::memory_order_acquire))
    return fresh.release();
  return expected; // another thread was first; `fresh` goes
}

} // namespace cfgactors::detail


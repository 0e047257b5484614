#include "counting_new.hpp"

#include <cstdlib>
#include <new>

namespace {

// Plain, not atomic: the programs that count are single-threaded, and a
// locked add would be timed with every allocation of the code measured.
std::size_t count = 0;

} // namespace

std::size_t allocations_so_far() noexcept {
  return count;
}

void* operator new(std::size_t size) {
  ++count;
  if (auto ptr = std::malloc(size == 0 ? 1 : size))
    return ptr;
  throw std::bad_alloc{};
}

void operator delete(void* ptr) noexcept {
  std::free(ptr);
}

void operator delete(void* ptr, std::size_t) noexcept {
  std::free(ptr);
}

// The other forms the standard library calls (std::stable_sort's buffer is
// a nothrow new; a vector of arrays uses new[]): counted as well, and all
// freed by the same free, or ASan sees a mismatch of allocators.
void* operator new(std::size_t size, const std::nothrow_t&) noexcept {
  ++count;
  return std::malloc(size == 0 ? 1 : size);
}

void* operator new[](std::size_t size) {
  return operator new(size);
}

void* operator new[](std::size_t size, const std::nothrow_t&) noexcept {
  return operator new(size, std::nothrow);
}

void operator delete(void* ptr, const std::nothrow_t&) noexcept {
  std::free(ptr);
}

void operator delete[](void* ptr) noexcept {
  std::free(ptr);
}

void operator delete[](void* ptr, std::size_t) noexcept {
  std::free(ptr);
}

void operator delete[](void* ptr, const std::nothrow_t&) noexcept {
  std::free(ptr);
}

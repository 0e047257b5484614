// A replaced global operator new that counts its calls, for a program that
// checks or prints how many allocations its code makes. In a file of its
// own: inlined next to the code it counts, GCC takes malloc/free behind
// new/delete for a mismatch.
#pragma once

#include <cstddef>

/// How many times operator new ran in this program so far (a program of
/// one thread: the count is not atomic).
std::size_t allocations_so_far() noexcept;
